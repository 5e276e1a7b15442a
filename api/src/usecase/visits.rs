//! 驻厂走访 (六必访): a liaison records a visit, linked to tickets of the enterprise it
//! visited; each linked ticket gets a `visit` event. One transaction: the visit, its links
//! and the events, or nothing.

use chrono::{DateTime, Utc};
use jiban_domain::ticket::Command;
use jiban_domain::values::VisitId;
use jiban_domain::visit::{self, NewVisit, Visit, may_link};
use jiban_domain::{Actor, DomainError};
use jiban_persistence::tickets::{self, TicketError};
use jiban_persistence::visits::{self, Cursor, VisitFilter};
use jiban_persistence::{DbConnection, StoreError, write_tx};

use crate::problem::{ApiError, FieldError};
use crate::usecase::tickets::Env;

/// Records a visit. Checks in the order of docs/API.md: the liaison's enterprise (403),
/// the visit's own fields (422), then each linked ticket (422 at `/ticket_ids/N`, all at
/// once: a ticket that does not exist, is another enterprise's or is out of the liaison's
/// sight reads the same, so ids do not leak).
pub fn create(
    conn: &mut DbConnection,
    env: &Env<'_>,
    new: NewVisit,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Visit, ApiError> {
    let rules = env.rules.get(conn)?;
    let ctx = env.context(&rules);
    write_tx(conn, |c| {
        let mut visit = visit::record(new, actor, now)?;
        let mut errors = Vec::new();
        for (i, id) in visit.ticket_ids.iter().enumerate() {
            match tickets::get(c, *id, actor) {
                Ok(ticket) if may_link(&visit, &ticket, actor) => {}
                Ok(_) | Err(TicketError::Domain(DomainError::NotFound)) => {
                    errors.push(unknown_ticket(i));
                }
                Err(e) => return Err(e.into()),
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::invalid(errors));
        }
        // Reads answer the links in id order (the order the tickets were filed); taking
        // the tickets' locks in one order also keeps two visits from deadlocking.
        visit.ticket_ids.sort();
        visits::insert(c, &visit)?;
        for id in &visit.ticket_ids {
            let command = Command::RecordVisit {
                visit_id: visit.id,
                visited_at: visit.visited_at,
                purpose: visit.purpose.clone(),
                summary: visit.summary.clone(),
            };
            tickets::execute(c, *id, None, command, actor, now, ctx)?;
        }
        Ok(visit)
    })
}

/// The 422 for a linked ticket that cannot be linked.
pub fn unknown_ticket(index: usize) -> FieldError {
    FieldError::body(
        format!("/ticket_ids/{index}"),
        "unknown_ticket",
        "no ticket of the visited enterprise that you can see has this id",
    )
}

pub fn get(conn: &mut DbConnection, id: VisitId, actor: &Actor) -> Result<Visit, ApiError> {
    match visits::get(conn, id, actor) {
        Err(StoreError::NotFound) => Err(ApiError::not_found()),
        other => Ok(other?),
    }
}

pub fn list(
    conn: &mut DbConnection,
    actor: &Actor,
    filter: &VisitFilter,
    limit: i64,
    after: Option<Cursor>,
) -> Result<(Vec<Visit>, Option<Cursor>), ApiError> {
    Ok(visits::list(conn, actor, filter, limit, after)?)
}
