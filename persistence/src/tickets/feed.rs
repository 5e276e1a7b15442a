//! The change feed (`GET /v1/tickets/changes`, DESIGN.md section 7, issue 10): the tickets
//! changed after a position, in the order of their positions, for exports that follow it.
//!
//! Each ticket's position is `ticket_stats.changed`, written in the transaction of each of
//! its events (creation included; [`changed_now`]). A consumer that follows the feed from
//! the start misses no change, may see a ticket twice, and keeps the latest by
//! `(id, last_seq)`:
//!
//! - **PostgreSQL**: the position is the writing transaction's id. Transactions commit out
//!   of order (the one with the lower id may commit last), so the feed serves only the
//!   positions below the oldest transaction still in flight, `pg_snapshot_xmin` of the
//!   statement's snapshot: every transaction below it has ended, and any write after this
//!   read gets an id at or above it, beyond every position served. A session left idle
//!   inside a transaction holds the feed back until it ends; it never loses a change.
//! - **SQLite**: one writer at a time, so the largest position plus one grows in commit
//!   order and the feed serves every committed row.

use diesel::dsl::sql;
use diesel::expression::SqlLiteral;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};
use jiban_domain::ticket::Ticket;

use super::rows::ticket_from_state;
use super::store::TicketError;
use crate::conn::{Backend, DbConnection};
use crate::repo::on_backend;
use crate::types::{DbUuid, Uuid};

/// The position a change written now takes, as SQL for the write's statement.
pub(crate) fn changed_now(backend: Backend) -> SqlLiteral<BigInt> {
    match backend {
        Backend::Postgres => sql("pg_current_xact_id()::text::bigint"),
        Backend::Sqlite => sql("(SELECT coalesce(max(changed), 0) + 1 FROM ticket_stats)"),
    }
}

/// Where a consumer of the feed stands: after the ticket `id` at `changed`. The start is
/// before every position ([`FeedCursor::START`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedCursor {
    pub changed: i64,
    pub id: uuid::Uuid,
}

impl FeedCursor {
    /// Before everything: positions are never negative.
    pub const START: FeedCursor = FeedCursor {
        changed: -1,
        id: uuid::Uuid::nil(),
    };
}

/// One ticket in the feed: its latest state, the seq of its latest event, and the
/// position to continue after.
#[derive(Debug, Clone)]
pub struct Change {
    pub ticket: Ticket,
    pub last_seq: i32,
    pub at: FeedCursor,
}

/// The feed's page: the rows after `(changed, ticket_id)` (binds: changed, ticket_id,
/// limit), in the order of `ticket_stats_changed_idx`. The row comparison is the index's
/// own bound, so a page starts at its cursor even when thousands of tickets share the
/// cursor's position (an import's transaction); on PostgreSQL only below the oldest
/// transaction in flight.
pub(crate) fn feed_sql(backend: Backend) -> String {
    let (held_back, [a, b, c]) = match backend {
        Backend::Postgres => (
            " AND s.changed < pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
            ["$1", "$2", "$3"],
        ),
        Backend::Sqlite => ("", ["?"; 3]),
    };
    format!(
        "SELECT s.changed, t.last_seq, t.state FROM ticket_stats s \
         JOIN tickets t ON t.id = s.ticket_id \
         WHERE (s.changed, s.ticket_id) > ({a}, {b}){held_back} \
         ORDER BY s.changed, s.ticket_id LIMIT {c}"
    )
}

#[derive(QueryableByName)]
struct FeedRow {
    #[diesel(sql_type = BigInt)]
    changed: i64,
    #[diesel(sql_type = Integer)]
    last_seq: i32,
    #[diesel(sql_type = Text)]
    state: String,
}

/// Up to `limit` tickets changed after `after`, in position order, and where to continue:
/// after the last one, or where the consumer stood when nothing new is ready. The caller
/// checks the role (supervisors and admins see every ticket).
pub fn changes(
    conn: &mut DbConnection,
    after: FeedCursor,
    limit: i64,
) -> Result<(Vec<Change>, FeedCursor), TicketError> {
    let sql = feed_sql(conn.backend());
    let rows: Vec<FeedRow> = on_backend!(conn, |c| {
        diesel::sql_query(&sql)
            .bind::<BigInt, _>(after.changed)
            .bind::<Uuid, _>(DbUuid(after.id))
            .bind::<BigInt, _>(limit.clamp(1, super::MAX_LIMIT))
            .load(c)?
    });
    let changes = rows
        .iter()
        .map(|row| {
            let ticket = ticket_from_state(&row.state)?;
            let at = FeedCursor {
                changed: row.changed,
                id: ticket.id.as_uuid(),
            };
            Ok(Change {
                ticket,
                last_seq: row.last_seq,
                at,
            })
        })
        .collect::<Result<Vec<_>, TicketError>>()?;
    let next = changes.last().map_or(after, |c| c.at);
    Ok((changes, next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdb::TestDb;

    /// Issue 10, point 5: a page of the feed walks `(changed, ticket_id)` from the cursor,
    /// however long the history behind it.
    #[test]
    fn postgres_feed_walks_its_index() {
        let Some(db) = TestDb::postgres() else { return };
        let mut pooled = db.conn();
        let DbConnection::Pg(conn) = &mut *pooled else {
            unreachable!("a PostgreSQL test database")
        };
        let query = diesel::sql_query(format!("EXPLAIN {}", feed_sql(Backend::Postgres)))
            .into_boxed()
            .bind::<BigInt, _>(41_i64)
            .bind::<Uuid, _>(DbUuid(uuid::Uuid::now_v7()))
            .bind::<BigInt, _>(100_i64);
        // On a test's few rows, fetching them all and sorting is cheapest; with sorting
        // a last resort too, the plan shows whether the index gives the feed's order.
        diesel::connection::SimpleConnection::batch_execute(conn, "SET enable_sort = off").unwrap();
        let plan = crate::stats::tests::plan(conn, query);
        assert!(plan.contains("ticket_stats_changed_idx"), "{plan}");
        // The cursor bounds the walk itself: the rows at its position before it are not
        // read and then filtered out.
        assert!(
            plan.lines()
                .any(|l| l.contains("Index Cond:") && l.contains("ROW(changed, ticket_id) > ROW(")),
            "{plan}"
        );
        assert!(!plan.contains("Seq Scan"), "{plan}");
        assert!(
            !plan.contains("Sort"),
            "no sort: the index is in the feed's order\n{plan}"
        );
    }
}
