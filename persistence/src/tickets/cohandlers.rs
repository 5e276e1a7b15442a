//! 主办/协办 (issue 13): the rows of `ticket_co_handlers`, repeated from the ticket's state
//! in the transaction that changes them, for what SQL asks: the co-handling officers'
//! scope, the `co_handling` filter and the statistics.

use diesel::prelude::*;
use jiban_domain::ticket::{Event, EventData, Ticket};

use super::store::TicketError;
use crate::conn::DbConnection;
use crate::schema::ticket_co_handlers;
use crate::types::{DbInstant, DbUuid};

/// One request as stored.
#[derive(Insertable, Clone, Debug, PartialEq, Eq)]
#[diesel(table_name = ticket_co_handlers, treat_none_as_default_value = false, treat_none_as_null = true)]
pub(crate) struct CoHandlerRow {
    pub ticket_id: DbUuid,
    pub seq: i32,
    pub department_id: DbUuid,
    pub requested_at: DbInstant,
    pub due_at: DbInstant,
    pub replied_at: Option<DbInstant>,
    pub ended_at: Option<DbInstant>,
    pub status: &'static str,
}

impl CoHandlerRow {
    /// The rows of a ticket's requests, in its order.
    pub(crate) fn of_ticket(ticket: &Ticket) -> Vec<CoHandlerRow> {
        ticket
            .co_handlers
            .iter()
            .zip(1..)
            .map(|(c, seq)| CoHandlerRow {
                ticket_id: DbUuid(ticket.id.as_uuid()),
                seq,
                department_id: DbUuid(c.department_id.as_uuid()),
                requested_at: c.requested_at.into(),
                due_at: c.reply_due.due_at.into(),
                replied_at: c.replied_at.map(Into::into),
                ended_at: c.ended_at.map(Into::into),
                status: c.status().as_str(),
            })
            .collect()
    }
}

/// Whether any of the events changes a request: added, replied, ended, or a reply limit
/// moved by a pause or a provisional year's recompute.
pub(crate) fn touched(events: &[Event]) -> bool {
    events.iter().any(|e| match &e.data {
        EventData::CoHandlersAdded { .. }
        | EventData::CoHandlerReplied { .. }
        | EventData::CoHandlingEnded { .. } => true,
        EventData::InfoSupplied { co_handlers, .. }
        | EventData::DeadlinesRecomputed { co_handlers, .. } => !co_handlers.is_empty(),
        _ => false,
    })
}

/// Rewrites the ticket's rows when the events changed its requests; most commands touch
/// none and cost nothing here.
pub(crate) fn sync(
    conn: &mut DbConnection,
    ticket: &Ticket,
    events: &[Event],
) -> Result<(), TicketError> {
    if !touched(events) {
        return Ok(());
    }
    diesel::delete(
        ticket_co_handlers::table
            .filter(ticket_co_handlers::ticket_id.eq(DbUuid(ticket.id.as_uuid()))),
    )
    .execute(conn)?;
    let rows = CoHandlerRow::of_ticket(ticket);
    if rows.is_empty() {
        return Ok(());
    }
    // A multi-row insert does not pass through the MultiConnection enum.
    let insert = diesel::insert_into(ticket_co_handlers::table).values(&rows);
    match conn {
        DbConnection::Pg(c) => insert.execute(c)?,
        DbConnection::Sqlite(c) => insert.execute(c)?,
    };
    Ok(())
}
