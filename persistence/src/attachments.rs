//! Attachments (issue 11): the rows of files stored for tickets. The bytes live in the
//! object store (`api/src/storage.rs`); a row is written only once its object is stored,
//! by [`add`], in the transaction that appends the ticket's `attachment_added` entries.
//! Rows are never updated or deleted (triggers refuse it on both backends).

use std::collections::HashSet;

use chrono::{DateTime, SubsecRound, Utc};
use diesel::prelude::*;
use jiban_domain::Actor;
use jiban_domain::attachment::NewAttachment;
use jiban_domain::ticket::{self, Command, Ticket, can_see};
use jiban_domain::values::{AttachmentId, Role, TicketId, UserId};

use crate::conn::{DbConnection, write_tx};
use crate::error::StoreError;
use crate::schema::attachments;
use crate::tickets::store::{load_for_update, save};
use crate::tickets::{Context, TicketError, notify};
use crate::types::{DbInstant, DbUuid};

/// An attachment as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub id: AttachmentId,
    pub ticket_id: TicketId,
    /// The object's key in the store: a random id, never the file's name.
    pub storage_key: String,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
    pub internal: bool,
    pub uploaded_by: UserId,
    pub created_at: DateTime<Utc>,
}

impl Attachment {
    /// Whether `actor`, who may see the attachment's ticket, may see the attachment:
    /// enterprises never see internal ones (DESIGN.md rule 8).
    pub fn visible_to(&self, actor: &Actor) -> bool {
        !(self.internal && actor.role() == Some(Role::Enterprise))
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = attachments)]
struct Row {
    id: DbUuid,
    ticket_id: DbUuid,
    storage_key: String,
    filename: String,
    content_type: String,
    size: i64,
    sha256: String,
    internal: bool,
    uploaded_by: DbUuid,
    created_at: DbInstant,
}

impl TryFrom<Row> for Attachment {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(Attachment {
            id: AttachmentId::from_uuid(r.id.0),
            ticket_id: TicketId::from_uuid(r.ticket_id.0)
                .map_err(|e| StoreError::Other(format!("attachment's ticket id: {e}")))?,
            storage_key: r.storage_key,
            filename: r.filename,
            content_type: r.content_type,
            size: u64::try_from(r.size)
                .map_err(|_| StoreError::Other("negative attachment size".into()))?,
            sha256: r.sha256,
            internal: r.internal,
            uploaded_by: UserId::from_uuid(r.uploaded_by.0),
            created_at: r.created_at.get(),
        })
    }
}

/// A file stored for a ticket, ready for its row.
#[derive(Clone, Debug)]
pub struct Stored {
    pub attachment: NewAttachment,
    pub storage_key: String,
}

/// Why [`add`] refused.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    #[error(transparent)]
    Ticket(#[from] TicketError),
    /// The ticket holds `existing` files; `limit` is the most it may hold.
    #[error("the ticket already holds {existing} of at most {limit} files")]
    Limit { existing: u64, limit: u64 },
}

impl From<StoreError> for AddError {
    fn from(e: StoreError) -> Self {
        AddError::Ticket(e.into())
    }
}

impl From<diesel::result::Error> for AddError {
    fn from(e: diesel::result::Error) -> Self {
        AddError::Ticket(e.into())
    }
}

/// Writes the rows of files already stored and the ticket's `attachment_added` entries,
/// in one transaction (issue 11). The ticket's row is locked first (`FOR UPDATE` on
/// PostgreSQL; SQLite's `BEGIN IMMEDIATE` holds the database), so the count against
/// `limit` holds under concurrent uploads. Scope first, as every command: an outsider
/// learns nothing.
#[allow(clippy::too_many_arguments)]
pub fn add(
    conn: &mut DbConnection,
    ticket_id: TicketId,
    files: &[Stored],
    internal: bool,
    limit: u64,
    actor: &Actor,
    now: DateTime<Utc>,
    ctx: Context<'_>,
) -> Result<(Ticket, Vec<Attachment>), AddError> {
    let now = now.trunc_subsecs(6);
    let uploaded_by = actor
        .id()
        .ok_or_else(|| StoreError::Other("attachments are uploaded by users".into()))
        .map_err(TicketError::from)?;
    write_tx(conn, |conn| {
        let (ticket, last_seq) = load_for_update(conn, ticket_id)?;
        if !can_see(actor, &ticket) {
            return Err(AddError::Ticket(jiban_domain::DomainError::NotFound.into()));
        }
        let existing = count(conn, ticket_id)?;
        if existing + files.len() as u64 > limit {
            return Err(AddError::Limit { existing, limit });
        }
        let command = Command::AddAttachments {
            attachments: files.iter().map(|f| f.attachment.clone()).collect(),
            internal,
        };
        let events =
            ticket::decide(&ticket, command, actor, now, ctx.rules).map_err(TicketError::from)?;
        let rows: Vec<Row> = files
            .iter()
            .map(|f| Row {
                id: DbUuid(f.attachment.id.as_uuid()),
                ticket_id: DbUuid(ticket_id.as_uuid()),
                storage_key: f.storage_key.clone(),
                filename: f.attachment.filename.clone(),
                content_type: f.attachment.content_type.clone(),
                size: i64::try_from(f.attachment.size).unwrap_or(i64::MAX),
                sha256: f.attachment.sha256.clone(),
                internal,
                uploaded_by: DbUuid(uploaded_by.as_uuid()),
                created_at: now.into(),
            })
            .collect();
        // A multi-row insert does not pass through the MultiConnection enum.
        let insert = diesel::insert_into(attachments::table).values(&rows);
        match conn {
            DbConnection::Pg(c) => insert.execute(c)?,
            DbConnection::Sqlite(c) => insert.execute(c)?,
        };
        let next = ticket::apply(ticket, &events);
        save(conn, &next, last_seq, &events, ctx.rules)?;
        notify::enqueue(conn, &next, last_seq + 1, &events, actor.role(), now, ctx)
            .map_err(TicketError::from)?;
        let stored = rows
            .into_iter()
            .map(Attachment::try_from)
            .collect::<Result<Vec<_>, _>>()
            .map_err(TicketError::from)?;
        Ok((next, stored))
    })
}

/// How many files a ticket holds.
pub fn count(conn: &mut DbConnection, ticket_id: TicketId) -> Result<u64, StoreError> {
    let n: i64 = attachments::table
        .filter(attachments::ticket_id.eq(DbUuid(ticket_id.as_uuid())))
        .count()
        .get_result(conn)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// A ticket's files, oldest first; internal ones only when `include_internal`.
pub fn list(
    conn: &mut DbConnection,
    ticket_id: TicketId,
    include_internal: bool,
) -> Result<Vec<Attachment>, StoreError> {
    let mut query = attachments::table
        .filter(attachments::ticket_id.eq(DbUuid(ticket_id.as_uuid())))
        .select(Row::as_select())
        .order((attachments::created_at, attachments::id))
        .into_boxed();
    if !include_internal {
        query = query.filter(attachments::internal.eq(false));
    }
    query
        .load::<Row>(conn)?
        .into_iter()
        .map(Attachment::try_from)
        .collect()
}

/// One attachment by id, whoever asks (the caller checks its ticket's scope).
pub fn get(conn: &mut DbConnection, id: AttachmentId) -> Result<Option<Attachment>, StoreError> {
    attachments::table
        .find(DbUuid(id.as_uuid()))
        .select(Row::as_select())
        .first::<Row>(conn)
        .optional()?
        .map(Attachment::try_from)
        .transpose()
}

/// The attachments among `ids` that belong to `ticket_id`.
pub fn of_ticket(
    conn: &mut DbConnection,
    ticket_id: TicketId,
    ids: &[AttachmentId],
) -> Result<Vec<Attachment>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<DbUuid> = ids.iter().map(|i| DbUuid(i.as_uuid())).collect();
    attachments::table
        .filter(attachments::ticket_id.eq(DbUuid(ticket_id.as_uuid())))
        .filter(attachments::id.eq_any(ids))
        .select(Row::as_select())
        .load::<Row>(conn)?
        .into_iter()
        .map(Attachment::try_from)
        .collect()
}

/// Which of `keys` (object keys found in the store) have a row: housekeeping removes the
/// others once their grace period is over.
pub fn known_keys(conn: &mut DbConnection, keys: &[String]) -> Result<HashSet<String>, StoreError> {
    let mut known = HashSet::new();
    for chunk in keys.chunks(500) {
        let found: Vec<String> = attachments::table
            .filter(attachments::storage_key.eq_any(chunk))
            .select(attachments::storage_key)
            .load(conn)?;
        known.extend(found);
    }
    Ok(known)
}
