//! `GET /v1/tickets/changes` (DESIGN.md section 7, issue 10): the incremental export. The
//! tickets changed after a cursor, in the order they changed, each with the `seq` of its
//! latest event, and always a cursor to continue from, also when nothing new is ready. A
//! consumer that follows the cursors misses no change, may see a ticket twice, and keeps
//! the latest by `(id, last_seq)` (`jiban_persistence::tickets::changes` says how, while
//! transactions commit out of order). Supervisors and admins: the export is the county's
//! whole register.

use actix_web::{HttpResponse, web};
use jiban_domain::values::Role;
use jiban_persistence::tickets::FeedCursor;
use serde::Serialize;

use crate::auth::Authenticated;
use crate::problem::ApiError;
use crate::routes::paging::{Params, encode_feed_cursor};
use crate::routes::tickets::TicketResponse;
use crate::state::AppState;

/// Who may export: the county's supervisors and admins.
const READERS: &[Role] = &[Role::Supervisor, Role::Admin];

/// Tickets per page unless `limit` says otherwise.
const DEFAULT_LIMIT: i64 = 100;

const PARAMETERS: &[&str] = &["cursor", "limit"];

#[derive(Serialize)]
struct ChangeItem {
    /// The seq of the ticket's latest event: with the ticket's id, what a consumer
    /// deduplicates by.
    last_seq: i32,
    ticket: TicketResponse,
}

#[derive(Serialize)]
struct ChangesResponse {
    items: Vec<ChangeItem>,
    /// Where to continue: always present; asked again later, it gives what changed since.
    next_cursor: String,
}

fn parse(pairs: &[(String, String)]) -> Result<(FeedCursor, i64), ApiError> {
    let mut p = Params::default();
    let q = p.known(pairs, PARAMETERS);
    let limit = p.limit(q.get("limit").copied(), DEFAULT_LIMIT);
    let after =
        p.feed_cursor(q.get("cursor").copied())
            .map_or(FeedCursor::START, |(changed, id)| FeedCursor {
                changed,
                id,
            });
    p.finish((after, limit))
}

pub(super) async fn changes(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    auth.require(READERS)?;
    let (after, limit) = parse(&query)?;
    let now = crate::now();
    let viewer = auth.into_actor();
    let (changes, next) = state
        .db
        .run(move |conn| crate::usecase::tickets::changes(conn, after, limit))
        .await?;
    Ok(HttpResponse::Ok().json(ChangesResponse {
        items: changes
            .into_iter()
            .map(|c| ChangeItem {
                last_seq: c.last_seq,
                ticket: TicketResponse::new(c.ticket.as_seen_by(&viewer), now),
            })
            .collect(),
        next_cursor: encode_feed_cursor(next.changed, next.id),
    }))
}
