//! Ticket numbers, `JB-<year>-<seq>`: a sequence value per year, never a counter row that
//! every create must lock (DESIGN.md section 9). Gaps are fine.
//!
//! - PostgreSQL: one `SEQUENCE` per year, `ticket_number_<year>`, created on first use.
//!   `nextval` never waits for another transaction.
//! - SQLite: a counter row per year in `ticket_numbers`, bumped inside the create's
//!   `BEGIN IMMEDIATE` transaction, which already makes writers take turns.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::BigInt;

use crate::conn::DbConnection;
use crate::error::StoreError;

#[derive(QueryableByName)]
struct Next {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn sequence(year: i32) -> String {
    format!("ticket_number_{year}")
}

/// The next number of `year` on PostgreSQL. Must run outside a transaction: when the
/// year's sequence does not exist yet, the failed `nextval` would abort one.
pub(crate) fn next_pg(conn: &mut DbConnection, year: i32) -> Result<u64, StoreError> {
    let DbConnection::Pg(c) = conn else {
        return Err(StoreError::Other("sequences are PostgreSQL's".into()));
    };
    let name = sequence(year);
    let nextval = format!("SELECT nextval('{name}') AS n");
    let first = diesel::sql_query(&nextval).get_result::<Next>(c);
    let next = match first {
        Ok(next) => next,
        Err(DieselError::DatabaseError(_, info)) if info.message().contains("does not exist") => {
            let create = format!("CREATE SEQUENCE IF NOT EXISTS {name}");
            match diesel::sql_query(create).execute(c) {
                // Another node created it at the same instant: fine.
                Ok(_) | Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {}
                Err(e) => return Err(e.into()),
            }
            diesel::sql_query(&nextval).get_result::<Next>(c)?
        }
        Err(e) => return Err(e.into()),
    };
    Ok(u64::try_from(next.n).unwrap_or(0))
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
