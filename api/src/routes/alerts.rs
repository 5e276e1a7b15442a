//! `GET /v1/alerts` and `POST /v1/alerts/{id}/ack` (DESIGN.md section 5): the alert ledger,
//! scoped like tickets, and the acknowledgement of an escalation. Alerts are internal:
//! enterprises get 403.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use jiban_domain::values::Role;
use jiban_persistence::alerts::{AlertFilter, AlertView, Cursor};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::extract::{is_json, parse_json};
use crate::problem::ApiError;
use crate::routes::paging::{Params, encode_cursor};
use crate::state::AppState;
use crate::usecase::alerts as usecase;
use crate::usecase::tickets::Env;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/alerts").route(web::get().to(list)))
        .service(web::resource("/v1/alerts/{id}/ack").route(web::post().to(acknowledge)));
}

/// Who reads the ledger: every official; enterprises do not (alerts are internal).
const READERS: &[Role] = &[Role::Officer, Role::Liaison, Role::Supervisor, Role::Admin];
/// Who acknowledges: officials who act on tickets (admins act on none).
const ACKNOWLEDGERS: &[Role] = &[Role::Officer, Role::Liaison, Role::Supervisor];

/// An alert as clients read it.
#[derive(Serialize)]
pub struct AlertResponse {
    id: Uuid,
    ticket_id: Uuid,
    ticket_number: String,
    /// `accept`, `contact` or `resolve`.
    deadline: &'static str,
    /// Whom the deadline binds: `handler`.
    party: String,
    /// `warning` (预警), `overdue` (超期) or `escalation` (督办).
    level: &'static str,
    /// The deadline's instant the alert is about.
    #[serde(serialize_with = "crate::time::serialize")]
    due_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize")]
    created_at: DateTime<Utc>,
    /// Only an escalation needs acknowledging.
    needs_ack: bool,
    #[serde(serialize_with = "crate::time::serialize_opt")]
    acknowledged_at: Option<DateTime<Utc>>,
    acknowledged_by: Option<Uuid>,
    recipients: Vec<Uuid>,
}

impl From<AlertView> for AlertResponse {
    fn from(v: AlertView) -> Self {
        let a = v.alert;
        AlertResponse {
            id: a.id,
            ticket_id: a.ticket_id,
            ticket_number: v.ticket_number,
            deadline: a.deadline.as_str(),
            party: a.party,
            level: a.level.as_str(),
            due_at: a.due_at,
            created_at: a.created_at,
            needs_ack: a.level.needs_acknowledging(),
            acknowledged_at: a.acknowledged_at,
            acknowledged_by: a.acknowledged_by,
            recipients: v.recipients,
        }
    }
}

const LIST_PARAMETERS: &[&str] = &["ticket_id", "mine", "unacknowledged", "limit", "cursor"];

/// The default page size.
const DEFAULT_LIMIT: i64 = 50;

fn parse_list(
    pairs: &[(String, String)],
    caller: Uuid,
) -> Result<(AlertFilter, i64, Option<Cursor>), ApiError> {
    let mut p = Params::default();
    let q = p.known(pairs, LIST_PARAMETERS);
    let get = |name: &str| q.get(name).copied();
    let ticket_id = p.id("ticket_id", get("ticket_id"));
    let mine = p.flag("mine", get("mine"));
    let unacknowledged = p.flag("unacknowledged", get("unacknowledged"));
    let limit = p.limit(get("limit"), DEFAULT_LIMIT);
    let cursor = p
        .cursor(get("cursor"))
        .map(|(created_at, id)| Cursor { created_at, id });
    let filter = AlertFilter {
        ticket_id,
        recipient: mine.then_some(caller),
        unacknowledged,
    };
    p.finish((filter, limit, cursor))
}

async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    auth.require(READERS)?;
    let (filter, limit, cursor) = parse_list(&query, auth.id().as_uuid())?;
    let actor = auth.into_actor();
    let (items, next) = state
        .db
        .run(move |conn| usecase::list(conn, &actor, &filter, limit, cursor))
        .await?;
    Ok(HttpResponse::Ok().json(super::paging::PageResponse {
        items: items.into_iter().map(AlertResponse::from).collect(),
        next_cursor: next.map(|c| encode_cursor(c.created_at, c.id)),
    }))
}

/// The acknowledgement takes no fields: the body may be empty or `{}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AckRequest {}

async fn acknowledge(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    req: actix_web::HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    auth.require(ACKNOWLEDGERS)?;
    // A body, if any, is JSON like every other (415 otherwise).
    if !body.iter().all(u8::is_ascii_whitespace) {
        if !is_json(&req) {
            return Err(crate::problem::unsupported_media_type());
        }
        parse_json::<AckRequest>(&body)?;
    }
    // Anything that is not a UUID names no alert.
    let id: Uuid = id.parse().map_err(|_| ApiError::not_found())?;
    let now = crate::now();
    let actor = auth.into_actor();
    let state2 = state.clone();
    let view = state
        .db
        .run(move |conn| {
            let env = Env::of(&state2);
            usecase::acknowledge(conn, &env, id, &actor, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(AlertResponse::from(view)))
}
