//! Ticket numbers, `JB-<year>-<seq>`: a sequence value per year, never a counter row that
//! every create must lock (DESIGN.md section 9). Gaps are fine.
//!
//! - PostgreSQL: one `SEQUENCE` per year, `ticket_number_<year>`, created on first use.
//!   `nextval` never waits for another transaction; the create statement takes it itself
//!   (`fast`), so a create is one round trip.
//! - SQLite: a counter row per year in `ticket_numbers`, bumped inside the create's
//!   `BEGIN IMMEDIATE` transaction, which already makes writers take turns.

use std::sync::OnceLock;

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
#[cfg(feature = "bench")]
use diesel::sql_types::BigInt;
use jiban_domain::values::TicketNumber;

use crate::conn::DbConnection;
use crate::error::StoreError;

/// The number a new ticket is built with on PostgreSQL before the database gives it its
/// own: the create statement takes `nextval` itself, in the same round trip, and writes the
/// real number wherever this one stands in the texts built around it (its state, its first
/// event, the notice, the webhook body; see `fast`). Eighteen digits drawn once per process,
/// so no real number and no client's text (which never sees it) carries it by chance.
pub(crate) fn placeholder(year: i32) -> Result<TicketNumber, StoreError> {
    static SEQ: OnceLock<u64> = OnceLock::new();
    let seq = *SEQ.get_or_init(|| {
        const FLOOR: u64 = 100_000_000_000_000_000;
        let random = u64::from_le_bytes(
            uuid::Uuid::new_v4().as_bytes()[..8]
                .try_into()
                .unwrap_or_default(),
        );
        FLOOR + random % (9 * FLOOR)
    });
    TicketNumber::new(year, seq).map_err(|e| StoreError::Other(format!("ticket number: {e}")))
}

/// True when a create failed over `year`'s sequence: it does not exist yet, the year's
/// first ticket on this database. PostgreSQL's message names the relation in every
/// language its `lc_messages` may be set to; diesel gives no SQLSTATE for it. Another
/// failure naming the sequence is only tried once more after a harmless
/// `CREATE SEQUENCE IF NOT EXISTS`, and then reported.
pub(crate) fn missing_sequence(message: &str, year: i32) -> bool {
    message.contains(&format!("ticket_number_{year}"))
}

/// Creates `year`'s sequence. Runs outside a transaction; another node creating it at the
/// same instant is fine.
pub(crate) fn create_sequence(conn: &mut DbConnection, year: i32) -> Result<(), StoreError> {
    let DbConnection::Pg(c) = conn else {
        return Err(StoreError::Other("sequences are PostgreSQL's".into()));
    };
    let create = format!("CREATE SEQUENCE IF NOT EXISTS ticket_number_{year}");
    match diesel::sql_query(create).execute(c) {
        Ok(_) | Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The next number of `year` on SQLite, inside the create's write transaction.
pub(crate) fn next_sqlite(conn: &mut DbConnection, year: i32) -> Result<u64, StoreError> {
    use crate::schema::ticket_numbers::dsl as n;
    let DbConnection::Sqlite(c) = conn else {
        return Err(StoreError::Other("the counter table is SQLite's".into()));
    };
    let last: i64 = diesel::insert_into(n::ticket_numbers)
        .values((n::year.eq(year), n::last_seq.eq(1_i64)))
        .on_conflict(n::year)
        .do_update()
        .set(n::last_seq.eq(n::last_seq + 1))
        .returning(n::last_seq)
        .get_result(c)?;
    Ok(u64::try_from(last).unwrap_or(0))
}

/// Moves `year`'s numbering past `seq`, never back: after numbers were written by other
/// means than the create statement or `next_sqlite` (bulk history for benchmarks).
#[cfg(feature = "bench")]
pub(crate) fn advance(conn: &mut DbConnection, year: i32, seq: u64) -> Result<(), StoreError> {
    let seq = i64::try_from(seq).unwrap_or(i64::MAX);
    match conn {
        DbConnection::Pg(c) => {
            diesel::sql_query(format!(
                "CREATE SEQUENCE IF NOT EXISTS ticket_number_{year}"
            ))
            .execute(c)?;
            diesel::sql_query(format!(
                "SELECT setval('ticket_number_{year}', GREATEST({seq}, \
                 (SELECT last_value FROM ticket_number_{year})))"
            ))
            .execute(c)?;
        }
        DbConnection::Sqlite(c) => {
            use crate::schema::ticket_numbers::dsl as n;
            diesel::insert_into(n::ticket_numbers)
                .values((n::year.eq(year), n::last_seq.eq(seq)))
                .on_conflict(n::year)
                .do_update()
                .set(n::last_seq.eq(diesel::dsl::sql::<BigInt>(&format!("MAX(last_seq, {seq})"))))
                .execute(c)?;
        }
    }
    Ok(())
}
