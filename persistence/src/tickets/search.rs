//! Text search's storage (issue 9, point 3; `jiban_domain::search` says what matches and
//! why bigrams): one `ticket_search` row per ticket, written with the ticket and never
//! changed (titles and descriptions never change), holding the folded text and its grams.
//!
//! - PostgreSQL: `grams text[]` under a GIN index; `grams @> <the query's grams>` finds
//!   the candidates, `strpos(folded, <folded query>) > 0` keeps the true matches. The
//!   create statement writes the row (`fast.rs`), so it costs no round trip.
//! - SQLite: the FTS5 table `ticket_search_grams`, keyed by `ticket_search.id`, holds the
//!   grams as tokens; a MATCH of every query gram finds the candidates, `instr` checks.
//!
//! The recheck compares text folded by Rust on both sides, so both backends answer the
//! same, whatever their own `lower()` does with letters outside ASCII; `strpos` and
//! `instr` take `%` and `_` literally.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Text};
use jiban_domain::search::{SearchQuery, index};
use jiban_domain::ticket::Ticket;

use super::rows::ticket_from_state;
use crate::conn::{Backend, DbConnection, MultiBackend, write_tx};
use crate::error::StoreError;
use crate::schema::tickets;
use crate::types::{DbUuid, Uuid};

/// The grams as FTS5 tokens, or as PostgreSQL's `string_to_array(…, ' ')` reads them: a
/// gram is letters and digits, never a space.
fn spaced(grams: &[String]) -> String {
    grams.join(" ")
}

/// The tickets matching `q`, as a condition on `tickets` for the list's query.
///
/// The recheck is written `<> 0` (the same as `> 0`: both functions answer 0 or a
/// position): PostgreSQL guesses a third of the rows pass `> 0` on an expression it has no
/// statistics for, but nearly all of them pass `<> 0`, which is the truth here, as the
/// grams rarely let through a ticket without the text. Its choice between the GIN index
/// (a rare text: fetch every match, sort) and walking the tickets newest first (a common
/// text: the page fills early) rests on how many matches it expects. A query of one
/// bigram needs no recheck at all (`SearchQuery::needs_recheck`).
///
/// `walk` (PostgreSQL, for the newest tickets in scope: `query::search_recent_first`)
/// writes the condition as a per-ticket check of the folded text that no index serves.
pub(crate) fn matching(
    backend: Backend,
    q: &SearchQuery,
    walk: bool,
) -> Box<dyn BoxableExpression<tickets::table, MultiBackend, SqlType = Bool>> {
    let folded = q.folded().to_owned();
    let recheck = q.needs_recheck();
    match backend {
        // A scalar subquery, not `EXISTS`: PostgreSQL may turn an `EXISTS` into a hash
        // semi-join that reads and checks every search row (40 ms at 100,000 tickets,
        // 24 answers a second), where a subquery is only ever run for each ticket the
        // walk reaches.
        Backend::Postgres if walk => Box::new(
            diesel::dsl::sql::<Bool>("(SELECT strpos(s.folded, ")
                .bind::<Text, _>(folded)
                .sql(") FROM ticket_search s WHERE s.ticket_id = tickets.id) <> 0"),
        ),
        Backend::Postgres => {
            let grams = diesel::dsl::sql::<Bool>(
                "tickets.id IN (SELECT s.ticket_id FROM ticket_search s \
                 WHERE s.grams @> string_to_array(",
            )
            .bind::<Text, _>(spaced(q.grams()));
            if recheck {
                Box::new(
                    grams
                        .sql(", ' ') AND strpos(s.folded, ")
                        .bind::<Text, _>(folded)
                        .sql(") <> 0)"),
                )
            } else {
                Box::new(grams.sql(", ' '))"))
            }
        }
        Backend::Sqlite => {
            // Each gram a quoted FTS5 string (a gram holds no `"`); side by side they
            // must all be present.
            let phrases: Vec<String> = q.grams().iter().map(|g| format!("\"{g}\"")).collect();
            let grams = diesel::dsl::sql::<Bool>(
                "tickets.id IN (SELECT s.ticket_id FROM ticket_search s \
                 WHERE s.id IN (SELECT rowid FROM ticket_search_grams \
                 WHERE ticket_search_grams MATCH ",
            )
            .bind::<Text, _>(phrases.join(" "));
            if recheck {
                Box::new(
                    grams
                        .sql(") AND instr(s.folded, ")
                        .bind::<Text, _>(folded)
                        .sql(") <> 0)"),
                )
            } else {
                Box::new(grams.sql("))"))
            }
        }
    }
}

/// Writes a new ticket's search row on SQLite, in the create's transaction. (PostgreSQL's
/// is part of the create statement.)
pub(crate) fn insert_sqlite(conn: &mut DbConnection, ticket: &Ticket) -> Result<(), StoreError> {
    let DbConnection::Sqlite(c) = conn else {
        return Err(StoreError::Other("insert_sqlite on PostgreSQL".into()));
    };
    let indexed = index(&ticket.title, &ticket.description);
    let id: i64 = diesel::sql_query(
        "INSERT INTO ticket_search (ticket_id, folded) VALUES (?, ?) RETURNING id",
    )
    .bind::<Uuid, _>(DbUuid(ticket.id.as_uuid()))
    .bind::<Text, _>(&indexed.folded)
    .get_result::<RowId>(c)?
    .id;
    insert_grams(c, id, &indexed.grams)
}

fn insert_grams(
    c: &mut diesel::SqliteConnection,
    id: i64,
    grams: &[String],
) -> Result<(), StoreError> {
    diesel::sql_query("INSERT INTO ticket_search_grams (rowid, grams) VALUES (?, ?)")
        .bind::<BigInt, _>(id)
        .bind::<Text, _>(spaced(grams))
        .execute(c)?;
    Ok(())
}

#[derive(QueryableByName)]
struct RowId {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(QueryableByName)]
struct PendingPg {
    #[diesel(sql_type = Uuid)]
    ticket_id: DbUuid,
    #[diesel(sql_type = Text)]
    state: String,
}

#[derive(QueryableByName)]
struct PendingSqlite {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    state: String,
}

/// Tickets per statement of the backfill.
const BACKFILL_BATCH: i64 = 500;

/// Fills in the search rows that the migration `ticket_search` left empty for the
/// tickets filed before it (SQL could not repeat the Rust normalisation exactly). Runs
/// after the migrations, under their lock; a no-op, one read of an empty partial index,
/// once done. Returns how many tickets it filled in. Each batch commits on its own, so an
/// interrupted backfill goes on where it stopped at the next start.
pub fn backfill(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let mut filled = 0;
    loop {
        let n = match conn.backend() {
            Backend::Postgres => backfill_pg(conn)?,
            Backend::Sqlite => write_tx(conn, backfill_sqlite)?,
        };
        filled += n;
        if (n as i64) < BACKFILL_BATCH {
            return Ok(filled);
        }
    }
}

fn backfill_pg(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let DbConnection::Pg(c) = conn else {
        unreachable!("called for PostgreSQL")
    };
    let pending: Vec<PendingPg> = diesel::sql_query(
        "SELECT s.ticket_id, t.state FROM ticket_search s JOIN tickets t ON t.id = s.ticket_id \
         WHERE s.folded IS NULL LIMIT $1",
    )
    .bind::<BigInt, _>(BACKFILL_BATCH)
    .load(c)?;
    let (mut ids, mut folded, mut grams) = (Vec::new(), Vec::new(), Vec::new());
    for row in &pending {
        let ticket = ticket_from_state(&row.state)?;
        let indexed = index(&ticket.title, &ticket.description);
        ids.push(row.ticket_id);
        folded.push(indexed.folded);
        grams.push(spaced(&indexed.grams));
    }
    if !ids.is_empty() {
        diesel::sql_query(
            "UPDATE ticket_search s SET folded = v.folded, grams = string_to_array(v.grams, ' ') \
             FROM unnest($1, $2, $3) AS v (ticket_id, folded, grams) \
             WHERE s.ticket_id = v.ticket_id",
        )
        .bind::<Array<Uuid>, _>(ids)
        .bind::<Array<Text>, _>(folded)
        .bind::<Array<Text>, _>(grams)
        .execute(c)?;
    }
    Ok(pending.len())
}

fn backfill_sqlite(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let DbConnection::Sqlite(c) = conn else {
        unreachable!("called for SQLite")
    };
    let pending: Vec<PendingSqlite> = diesel::sql_query(
        "SELECT s.id, t.state FROM ticket_search s JOIN tickets t ON t.id = s.ticket_id \
         WHERE s.folded IS NULL LIMIT ?",
    )
    .bind::<BigInt, _>(BACKFILL_BATCH)
    .load(c)?;
    for row in &pending {
        let ticket = ticket_from_state(&row.state)?;
        let indexed = index(&ticket.title, &ticket.description);
        diesel::sql_query("UPDATE ticket_search SET folded = ? WHERE id = ?")
            .bind::<Text, _>(&indexed.folded)
            .bind::<BigInt, _>(row.id)
            .execute(c)?;
        insert_grams(c, row.id, &indexed.grams)?;
    }
    Ok(pending.len())
}
