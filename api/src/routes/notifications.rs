//! `GET /v1/notifications` and `POST /v1/notifications/{id}/retry` (DESIGN.md section 5):
//! the admin's view of the outbox. No body text: mail bodies hold enterprises' details,
//! and what the admin needs is what is stuck and why.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use jiban_persistence::outbox::{Cursor, ListStatus, Message, OutboxStatus};
use serde::Serialize;
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::problem::ApiError;
use crate::routes::paging::{Params, encode_cursor};
use crate::state::AppState;
use crate::usecase::notifications as usecase;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/notifications").route(web::get().to(list)))
        .service(web::resource("/v1/notifications/{id}/retry").route(web::post().to(retry)));
}

/// An outbox row as the admin reads it.
#[derive(Serialize)]
pub struct NotificationResponse {
    id: Uuid,
    /// `email` or `webhook`.
    kind: &'static str,
    recipient: String,
    subject: String,
    /// `pending`, `sending`, `sent` or `dead`.
    status: &'static str,
    attempts: i32,
    rejections: i32,
    #[serde(serialize_with = "crate::time::serialize")]
    next_attempt_at: DateTime<Utc>,
    last_error: Option<String>,
    ticket_id: Option<Uuid>,
    #[serde(serialize_with = "crate::time::serialize")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize_opt")]
    sent_at: Option<DateTime<Utc>>,
}

impl From<Message> for NotificationResponse {
    fn from(m: Message) -> Self {
        NotificationResponse {
            id: m.id,
            kind: m.kind.as_str(),
            recipient: m.recipient,
            subject: m.subject,
            status: m.status.as_str(),
            attempts: m.attempts,
            rejections: m.rejections,
            next_attempt_at: m.next_attempt_at,
            last_error: m.last_error,
            ticket_id: m.ticket_id,
            created_at: m.created_at,
            sent_at: m.sent_at,
        }
    }
}

const LIST_PARAMETERS: &[&str] = &["status", "limit", "cursor"];

const DEFAULT_LIMIT: i64 = 50;

/// The `status` values: the stored ones, and `failing` (pending after a failed try).
const STATUSES: [&str; 5] = ["pending", "sending", "sent", "dead", "failing"];

fn list_status(raw: &str) -> Option<ListStatus> {
    Some(match raw {
        "pending" => ListStatus::Is(OutboxStatus::Pending),
        "sending" => ListStatus::Is(OutboxStatus::Sending),
        "sent" => ListStatus::Is(OutboxStatus::Sent),
        "dead" => ListStatus::Is(OutboxStatus::Dead),
        "failing" => ListStatus::Failing,
        _ => return None,
    })
}

fn parse_list(
    pairs: &[(String, String)],
) -> Result<(Option<ListStatus>, i64, Option<Cursor>), ApiError> {
    let mut p = Params::default();
    let q = p.known(pairs, LIST_PARAMETERS);
    let get = |name: &str| q.get(name).copied();
    let status = get("status").and_then(|raw| {
        let s = list_status(raw);
        if s.is_none() {
            p.bad(
                "status",
                "unknown_value",
                format!("unknown status {raw:?}: one of {}", STATUSES.join(", ")),
            );
        }
        s
    });
    let limit = p.limit(get("limit"), DEFAULT_LIMIT);
    let cursor = p
        .cursor(get("cursor"))
        .map(|(created_at, id)| Cursor { created_at, id });
    p.finish((status, limit, cursor))
}

async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let (status, limit, cursor) = parse_list(&query)?;
    let (items, next) = state
        .db
        .run(move |conn| usecase::page(conn, status, limit, cursor))
        .await?;
    Ok(HttpResponse::Ok().json(super::paging::PageResponse {
        items: items.into_iter().map(NotificationResponse::from).collect(),
        next_cursor: next.map(|c| encode_cursor(c.created_at, c.id)),
    }))
}

async fn retry(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let id: Uuid = id.parse().map_err(|_| ApiError::not_found())?;
    let now = crate::now();
    let row = state
        .db
        .run(move |conn| usecase::retry(conn, id, now))
        .await?;
    Ok(HttpResponse::Ok().json(NotificationResponse::from(row)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_listed_parses() {
        for s in STATUSES {
            assert!(list_status(s).is_some(), "{s}");
        }
        assert!(list_status("Dead").is_none());
    }
}
