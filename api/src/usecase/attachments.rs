//! Attachments' database work (issue 11): the room left on a ticket before an upload is
//! read, the rows and timeline entries written once the files are stored, and the scoped
//! reads.

use chrono::{DateTime, Utc};
use jiban_domain::Actor;
use jiban_domain::values::{AttachmentId, TicketId};
use jiban_persistence::DbConnection;
use jiban_persistence::attachments::{self, AddError, Attachment, Stored};
use jiban_persistence::tickets;

use super::tickets::Env;
use crate::problem::ApiError;

/// How many more files the ticket takes, after checking the actor may see it (404
/// otherwise): read before the body, so an upload to a full ticket is refused before a
/// byte is spooled. The write checks again under the ticket's lock.
pub fn room(
    conn: &mut DbConnection,
    ticket_id: TicketId,
    actor: &Actor,
    limit: u64,
) -> Result<u64, ApiError> {
    tickets::get(conn, ticket_id, actor)?;
    Ok(limit.saturating_sub(attachments::count(conn, ticket_id)?))
}

/// Writes the rows of stored files and their timeline entries, in one transaction.
#[allow(clippy::too_many_arguments)]
pub fn add(
    conn: &mut DbConnection,
    env: &Env<'_>,
    ticket_id: TicketId,
    files: &[Stored],
    internal: bool,
    limit: u64,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<Attachment>, ApiError> {
    let rules = env.rules.get(conn)?;
    let ctx = env.context(&rules);
    match attachments::add(conn, ticket_id, files, internal, limit, actor, now, ctx) {
        Ok((_, stored)) => Ok(stored),
        Err(AddError::Limit { limit, .. }) => Err(crate::attachment::limit_reached(limit)),
        Err(AddError::Ticket(e)) => Err(e.into()),
    }
}

/// A ticket's files as the actor may see them (enterprises: not the internal ones).
pub fn list(
    conn: &mut DbConnection,
    ticket_id: TicketId,
    actor: &Actor,
) -> Result<Vec<Attachment>, ApiError> {
    tickets::get(conn, ticket_id, actor)?;
    let internal = actor.role() != Some(jiban_domain::values::Role::Enterprise);
    Ok(attachments::list(conn, ticket_id, internal)?)
}

/// One file, scoped as its ticket, and hidden from an enterprise when internal: 404
/// either way, so ids do not leak.
pub fn get(
    conn: &mut DbConnection,
    id: AttachmentId,
    actor: &Actor,
) -> Result<Attachment, ApiError> {
    let found = attachments::get(conn, id)?.ok_or_else(ApiError::not_found)?;
    match tickets::get(conn, found.ticket_id, actor) {
        Ok(_) if found.visible_to(actor) => Ok(found),
        Ok(_) => Err(ApiError::not_found()),
        Err(e) => Err(e.into()),
    }
}

/// The files a comment or supplied information names (issue 11): each must be attached to
/// the same ticket and visible to the actor, and a public entry may not name an internal
/// file; otherwise 422 naming `attachment_ids`.
pub fn check_named(
    conn: &mut DbConnection,
    ticket_id: TicketId,
    ids: &[AttachmentId],
    public_entry: bool,
    actor: &Actor,
) -> Result<(), ApiError> {
    if ids.is_empty() {
        return Ok(());
    }
    let found = attachments::of_ticket(conn, ticket_id, ids)?;
    for (i, id) in ids.iter().enumerate() {
        let pointer = format!("/attachment_ids/{i}");
        match found.iter().find(|a| a.id == *id) {
            Some(a) if a.visible_to(actor) => {
                if public_entry && a.internal {
                    return Err(ApiError::invalid_field(
                        pointer,
                        "internal_attachment",
                        "an entry the enterprise reads cannot name an internal attachment",
                    ));
                }
            }
            _ => {
                return Err(ApiError::invalid_field(
                    pointer,
                    "unknown_attachment",
                    "no attachment of this ticket has this id: upload it to the ticket first",
                ));
            }
        }
    }
    Ok(())
}
