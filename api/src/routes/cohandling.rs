//! 主办/协办 (issue 13): the lead department brings in co-handling departments, which reply
//! with their opinions. The requests are read in the ticket (`co_handlers`) and its
//! timeline; the list's `co_handling=true` is an officer's "asked of my department".

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use jiban_domain::ticket::{CoHandler, CoHandlingEnd, CoHandlingStatus, Command};
use jiban_domain::values::{
    CO_HANDLERS_PER_REQUEST_MAX, CoHandlingRequest, DepartmentId, Opinion, UserId,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::tickets::{Id, Precondition, if_match, run};
use crate::auth::Authenticated;
use crate::extract::{Fields, JsonBody};
use crate::problem::{ApiError, FieldError};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/tickets/{id}/co-handlers").route(web::post().to(add_co_handlers)),
    )
    .service(
        web::resource("/v1/tickets/{id}/co-handlers/{department_id}/reply")
            .route(web::post().to(reply)),
    );
}

/// A request to a co-handling department as clients read it in the ticket.
#[derive(Serialize)]
pub struct CoHandlerResponse {
    department_id: DepartmentId,
    request: String,
    requested_by: Option<UserId>,
    #[serde(serialize_with = "crate::time::serialize")]
    requested_at: DateTime<Utc>,
    /// The reply limit in force.
    #[serde(serialize_with = "crate::time::serialize")]
    due_at: DateTime<Utc>,
    /// `open`, `replied`, `not_replied` (ended unanswered) or `became_lead`.
    status: CoHandlingStatus,
    /// The first reply: what counts as on time or late.
    #[serde(serialize_with = "crate::time::serialize_opt")]
    replied_at: Option<DateTime<Utc>>,
    /// Whether the first reply came by `due_at`; `null` before any reply.
    replied_on_time: Option<bool>,
    /// The latest opinion.
    reply: Option<String>,
    replied_by: Option<UserId>,
    #[serde(serialize_with = "crate::time::serialize_opt")]
    amended_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::time::serialize_opt")]
    ended_at: Option<DateTime<Utc>>,
    end_reason: Option<CoHandlingEnd>,
}

impl From<CoHandler> for CoHandlerResponse {
    fn from(c: CoHandler) -> Self {
        CoHandlerResponse {
            status: c.status(),
            replied_on_time: c.replied_on_time(),
            department_id: c.department_id,
            request: c.request,
            requested_by: c.requested_by,
            requested_at: c.requested_at,
            due_at: c.reply_due.due_at,
            replied_at: c.replied_at,
            reply: c.reply,
            replied_by: c.replied_by,
            amended_at: c.amended_at,
            ended_at: c.ended_at,
            end_reason: c.end_reason,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddCoHandlersRequest {
    department_ids: Vec<Uuid>,
    request: String,
    /// The reply limit; without it, half of the resolve limit still left. `null` is not
    /// a limit: leave it out.
    #[serde(default, deserialize_with = "crate::extract::present")]
    due_at: Option<String>,
}

impl AddCoHandlersRequest {
    /// Every field's problem at once.
    fn command(self) -> Result<Command, ApiError> {
        let mut f = Fields::default();
        // The count and duplicates here, before any lookup, as the document says (the
        // domain checks them again: `cohandling::check_departments`).
        let ids = &self.department_ids;
        if ids.is_empty() || ids.len() > CO_HANDLERS_PER_REQUEST_MAX {
            f.push(FieldError::body(
                "/department_ids",
                "department_ids_count",
                format!("name 1 to {CO_HANDLERS_PER_REQUEST_MAX} co-handling departments"),
            ));
        } else if ids.iter().enumerate().any(|(i, d)| ids[..i].contains(d)) {
            f.push(FieldError::body(
                "/department_ids",
                "duplicate",
                "name each department once",
            ));
        }
        let request = f.parse("/request", CoHandlingRequest::parse(&self.request));
        let due_at = self
            .due_at
            .as_deref()
            .and_then(|raw| f.instant("/due_at", raw));
        f.finish()?;
        Ok(Command::AddCoHandlers {
            department_ids: self
                .department_ids
                .into_iter()
                .map(DepartmentId::from_uuid)
                .collect(),
            request: request.ok_or_else(|| ApiError::internal("a parsed field is missing"))?,
            due_at,
        })
    }
}

/// `POST /v1/tickets/{id}/co-handlers`: a state change, so `If-Match` is required.
async fn add_co_handlers(
    state: web::Data<AppState>,
    auth: Authenticated,
    req: HttpRequest,
    id: Id,
    body: JsonBody<AddCoHandlersRequest>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match(&req)?;
    let command = body.into_inner().and_then(AddCoHandlersRequest::command)?;
    run(state, auth, &id, version, move |_| Ok(command)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyRequest {
    opinion: String,
}

/// `POST /v1/tickets/{id}/co-handlers/{department_id}/reply`: the co-handling department's
/// opinion, or its amendment. It changes the ticket (its version), but `If-Match` is
/// optional: a co-handler answers for its own request only, which no one else edits, so
/// it need not have read the lead's latest change (with `If-Match`, a stale one is 412).
async fn reply(
    state: web::Data<AppState>,
    auth: Authenticated,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: JsonBody<ReplyRequest>,
) -> Result<HttpResponse, ApiError> {
    let precondition = match if_match(&req)? {
        Precondition::Missing => Precondition::Any,
        given => given,
    };
    let (id, department) = path.into_inner();
    let body = body.into_inner()?;
    let opinion = super::tickets::field("/opinion", Opinion::parse(&body.opinion))?;
    // Not a department id: it names no request on the ticket.
    let department_id = department
        .parse::<Uuid>()
        .map(DepartmentId::from_uuid)
        .map_err(|_| ApiError::not_found())?;
    run(state, auth, &id, precondition, move |_| {
        Ok(Command::ReplyCoHandling {
            department_id,
            opinion,
        })
    })
    .await
}
