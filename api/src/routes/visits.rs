//! `POST /v1/visits`, `GET /v1/visits`, `GET /v1/visits/{id}`: 驻厂走访 (六必访), a
//! liaison's on-site visits to the enterprises it is stationed at, linked to their tickets
//! (issue 8). Scope: the enterprise its own visits, a liaison those at its enterprises,
//! supervisors and admins all, an officer those linked to a ticket it can see; a visit
//! outside it is 404.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use jiban_domain::values::{EnterpriseId, Role, TicketId, UserId, VisitId};
use jiban_domain::visit::{MAX_LINKED_TICKETS, NewVisit, Purpose, Summary, Visit};
use jiban_persistence::visits::{Cursor, VisitFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::extract::{Fields, JsonBody};
use crate::problem::{ApiError, FieldError};
use crate::routes::paging::{PageResponse, Params, encode_cursor};
use crate::state::AppState;
use crate::usecase::tickets::Env;
use crate::usecase::visits as usecase;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/visits")
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .service(web::resource("/v1/visits/{id}").route(web::get().to(get)));
}

/// A visit as clients read it.
#[derive(Serialize)]
pub struct VisitResponse {
    id: VisitId,
    enterprise_id: EnterpriseId,
    liaison_id: UserId,
    #[serde(serialize_with = "crate::time::serialize")]
    visited_at: DateTime<Utc>,
    purpose: String,
    summary: String,
    /// In the order the tickets were filed.
    ticket_ids: Vec<TicketId>,
    #[serde(serialize_with = "crate::time::serialize")]
    created_at: DateTime<Utc>,
}

impl From<Visit> for VisitResponse {
    fn from(v: Visit) -> Self {
        VisitResponse {
            id: v.id,
            enterprise_id: v.enterprise_id,
            liaison_id: v.liaison_id,
            visited_at: v.visited_at,
            purpose: v.purpose,
            summary: v.summary,
            ticket_ids: v.ticket_ids,
            created_at: v.created_at,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateVisitRequest {
    enterprise_id: Uuid,
    visited_at: String,
    purpose: String,
    summary: String,
    #[serde(default)]
    ticket_ids: Option<Vec<Uuid>>,
}

impl CreateVisitRequest {
    /// Every field's problem at once. A linked id that is not a ticket id (UUID v7) names
    /// no ticket, and says so as a ticket of another enterprise would.
    fn parse(self, id: VisitId) -> Result<NewVisit, ApiError> {
        let mut f = Fields::default();
        let visited_at = f.instant("/visited_at", &self.visited_at);
        let purpose = f.parse("/purpose", Purpose::parse(&self.purpose));
        let summary = f.parse("/summary", Summary::parse(&self.summary));
        let raw_ids = self.ticket_ids.unwrap_or_default();
        if raw_ids.len() > MAX_LINKED_TICKETS {
            f.push(FieldError::body(
                "/ticket_ids",
                "too_many",
                format!("a visit links at most {MAX_LINKED_TICKETS} tickets"),
            ));
        }
        let mut ticket_ids = Vec::with_capacity(raw_ids.len());
        for (i, raw) in raw_ids.iter().enumerate() {
            if raw_ids[..i].contains(raw) {
                f.push(FieldError::body(
                    format!("/ticket_ids/{i}"),
                    "duplicate",
                    "this ticket is linked already",
                ));
            } else {
                match TicketId::from_uuid(*raw) {
                    Ok(t) => ticket_ids.push(t),
                    Err(_) => f.push(usecase::unknown_ticket(i)),
                }
            }
        }
        f.finish()?;
        let missing = || ApiError::internal("a parsed field is missing");
        Ok(NewVisit {
            id,
            enterprise_id: EnterpriseId::from_uuid(self.enterprise_id),
            visited_at: visited_at.ok_or_else(missing)?,
            purpose: purpose.ok_or_else(missing)?,
            summary: summary.ok_or_else(missing)?,
            ticket_ids,
        })
    }
}

async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: JsonBody<CreateVisitRequest>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Liaison])?;
    let now = crate::now();
    let id = VisitId::from_uuid(Uuid::now_v7());
    let new = body.into_inner()?.parse(id)?;
    let actor = auth.into_actor();
    let state2 = state.clone();
    let visit = state
        .db
        .run(move |conn| {
            let env = Env::of(&state2);
            usecase::create(conn, &env, new, &actor, now)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/visits/{}", visit.id)))
        .json(VisitResponse::from(visit)))
}

/// The default page size.
const DEFAULT_LIMIT: i64 = 20;

const LIST_PARAMETERS: &[&str] = &[
    "enterprise_id",
    "liaison_id",
    "from",
    "to",
    "limit",
    "cursor",
];

fn parse_list(pairs: &[(String, String)]) -> Result<(VisitFilter, i64, Option<Cursor>), ApiError> {
    let mut p = Params::default();
    let q = p.known(pairs, LIST_PARAMETERS);
    let get = |name: &str| q.get(name).copied();
    let filter = VisitFilter {
        enterprise_id: p
            .id("enterprise_id", get("enterprise_id"))
            .map(EnterpriseId::from_uuid),
        liaison_id: p.id("liaison_id", get("liaison_id")).map(UserId::from_uuid),
        from: p.instant("from", get("from")),
        to: p.instant("to", get("to")),
    };
    let limit = p.limit(get("limit"), DEFAULT_LIMIT);
    let cursor = p
        .cursor(get("cursor"))
        .map(|(visited_at, id)| Cursor { visited_at, id });
    p.finish((filter, limit, cursor))
}

async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let (filter, limit, cursor) = parse_list(&query)?;
    let actor = auth.into_actor();
    let (items, next) = state
        .db
        .run(move |conn| usecase::list(conn, &actor, &filter, limit, cursor))
        .await?;
    Ok(HttpResponse::Ok().json(PageResponse {
        items: items.into_iter().map(VisitResponse::from).collect(),
        next_cursor: next.map(|c| encode_cursor(c.visited_at, c.id)),
    }))
}

async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    // Anything that is not a UUID names no visit.
    let id = VisitId::from_uuid(id.parse().map_err(|_| ApiError::not_found())?);
    let actor = auth.into_actor();
    let visit = state
        .db
        .run(move |conn| usecase::get(conn, id, &actor))
        .await?;
    Ok(HttpResponse::Ok().json(VisitResponse::from(visit)))
}
