//! Ticket numbers, `JB-<year>-<seq>`: a sequence value per year, never a counter row that
//! every create must lock (DESIGN.md section 9). Gaps are fine.
//!
//! - PostgreSQL: one `SEQUENCE` per year, `ticket_number_<year>`, created on first use.
//!   `nextval` never waits for another transaction.
//! - SQLite: a counter row per year in `ticket_numbers`, bumped inside the create's
//!   `BEGIN IMMEDIATE` transaction, which already makes writers take turns.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::{BigInt, Integer};

use crate::conn::DbConnection;
use crate::error::StoreError;

/// `nextval` of the year's sequence, with the year as a parameter so the text never
/// changes and diesel prepares it once per connection (`diesel::sql_query` would be parsed
/// and planned on every create).
struct NextNumber {
    year: i32,
}

impl QueryId for NextNumber {
    type QueryId = NextNumber;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for NextNumber {
    type SqlType = BigInt;
}

impl QueryFragment<Pg> for NextNumber {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("SELECT nextval(('ticket_number_' || ");
        out.push_bind_param::<Integer, _>(&self.year)?;
        out.push_sql(")::regclass)");
        Ok(())
    }
}

impl RunQueryDsl<PgConnection> for NextNumber {}

/// The next number of `year` on PostgreSQL. Must run outside a transaction: when the
/// year's sequence does not exist yet, the failed `nextval` would abort one.
pub(crate) fn next_pg(conn: &mut DbConnection, year: i32) -> Result<u64, StoreError> {
    let DbConnection::Pg(c) = conn else {
        return Err(StoreError::Other("sequences are PostgreSQL's".into()));
    };
    let next = match (NextNumber { year }).get_result::<i64>(c) {
        Ok(next) => next,
        Err(DieselError::DatabaseError(_, info)) if info.message().contains("does not exist") => {
            let create = format!("CREATE SEQUENCE IF NOT EXISTS ticket_number_{year}");
            match diesel::sql_query(create).execute(c) {
                // Another node created it at the same instant: fine.
                Ok(_) | Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {}
                Err(e) => return Err(e.into()),
            }
            (NextNumber { year }).get_result::<i64>(c)?
        }
        Err(e) => return Err(e.into()),
    };
    Ok(u64::try_from(next).unwrap_or(0))
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
/// means than `next_pg`/`next_sqlite` (bulk history for benchmarks).
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
