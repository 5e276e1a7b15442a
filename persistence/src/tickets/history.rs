//! Years of history at once, for benchmarks (feature `bench`): tickets with their whole
//! timelines, each row built exactly as a live write builds it (`TicketRow::new`,
//! `NewEventRow::new`, `StatRow::of_ticket`), written many rows to a statement, with their search rows filled in
//! by the same code that fills in tickets filed before search existed. Nothing else is
//! written: no notices, no alerts (the scanner records those it owes on its next pass).

use diesel::prelude::*;
use jiban_domain::deadline::Calendar;
use jiban_domain::ticket::{Event, Ticket};

use super::rows::{NewEventRow, StatRow, TicketRow};
use crate::conn::{DbConnection, write_tx};
use crate::error::StoreError;
use crate::repo::on_backend;
use crate::schema::{ticket_events, ticket_search, ticket_stats, tickets};
use crate::types::DbUuid;

/// Rows per INSERT: PostgreSQL binds at most 65,535 parameters to a statement (a ticket
/// row has 35 columns, an event row 8, an empty search row 1).
const TICKETS_PER_INSERT: usize = 1_000;
const EVENTS_PER_INSERT: usize = 5_000;
const SEARCH_ROWS_PER_INSERT: usize = 10_000;

/// Writes the tickets (each with its events, oldest first) in one transaction, then moves
/// each year's number sequence past the numbers they use, so live creates do not collide.
pub fn insert_history(
    conn: &mut DbConnection,
    history: &[(Ticket, Vec<Event>)],
    calendar: &Calendar,
) -> Result<(), StoreError> {
    let mut tickets = Vec::with_capacity(history.len());
    let mut stats = Vec::with_capacity(history.len());
    let mut events = Vec::new();
    for (ticket, timeline) in history {
        let last_seq = i32::try_from(timeline.len()).unwrap_or(i32::MAX);
        tickets.push(TicketRow::new(ticket, last_seq, calendar)?);
        stats.push(StatRow::of_ticket(ticket));
        for (event, seq) in timeline.iter().zip(1..) {
            events.push(NewEventRow::new(ticket, seq, event)?);
        }
    }
    write_tx(conn, |conn| {
        for chunk in tickets.chunks(TICKETS_PER_INSERT) {
            let insert = diesel::insert_into(tickets::table).values(chunk);
            on_backend!(conn, |c| insert.execute(c)?);
        }
        for chunk in stats.chunks(TICKETS_PER_INSERT) {
            let insert = diesel::insert_into(ticket_stats::table).values(chunk);
            on_backend!(conn, |c| insert.execute(c)?);
        }
        for chunk in events.chunks(EVENTS_PER_INSERT) {
            let insert = diesel::insert_into(ticket_events::table).values(chunk);
            on_backend!(conn, |c| insert.execute(c)?);
        }
        // Empty search rows, which `backfill` below fills in.
        for chunk in history.chunks(SEARCH_ROWS_PER_INSERT) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|(t, _)| ticket_search::ticket_id.eq(DbUuid(t.id.as_uuid())))
                .collect();
            let insert = diesel::insert_into(ticket_search::table).values(rows);
            on_backend!(conn, |c| insert.execute(c)?);
        }
        Ok::<_, StoreError>(())
    })?;
    super::search::backfill(conn)?;
    let mut last = std::collections::BTreeMap::<i32, u64>::new();
    for (ticket, _) in history {
        let year = ticket.number.year();
        let seq = ticket.number.seq();
        let entry = last.entry(year).or_default();
        *entry = (*entry).max(seq);
    }
    for (year, seq) in last {
        super::numbers::advance(conn, year, seq)?;
    }
    Ok(())
}
