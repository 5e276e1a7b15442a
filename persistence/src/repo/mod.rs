//! Repositories for everything but tickets: one function per query, no transactions of
//! their own. The api's use cases compose them inside one [`write_tx`](crate::write_tx)
//! per request, so a request's reads and writes commit together or not at all.
//!
//! Rows become domain values here, at the row boundary; a value the database should never
//! hold (an unknown role, a malformed limit) is a [`StoreError::Other`](crate::StoreError),
//! never silently skipped.
//!
//! - [`users`]: users, their credentials and the principal the auth layer caches;
//! - [`departments`], [`enterprises`] (with their liaisons);
//! - [`reference`]: categories, the calendar, the SLA table, their seeding, and
//!   [`reference::load_rules`];
//! - [`auth`]: refresh tokens and login throttling.

pub mod auth;
pub mod departments;
pub mod enterprises;
pub mod reference;
pub mod users;

use crate::error::StoreError;

/// A stored text that should parse as a domain value; a failure means the database holds
/// something the code never writes.
fn parse_stored<T: std::str::FromStr>(what: &str, raw: &str) -> Result<T, StoreError> {
    raw.parse()
        .map_err(|_| StoreError::Other(format!("stored {what} {raw:?} does not parse")))
}

/// How many values one `IN (…)` list binds, and how many rows one multi-row INSERT
/// writes, when a query takes a whole import's worth (up to 10,000 rows): far below
/// SQLite's 32,766 bound parameters and PostgreSQL's 65,535, in few round trips.
pub(crate) const CHUNK: usize = 500;

/// Inserts `ON CONFLICT (...) DO NOTHING` and friends need the concrete backend: diesel
/// offers no upsert through the `MultiConnection` enum. This runs the same statement on
/// whichever backend `conn` is.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::conn::DbConnection::Pg($c) => $body,
            $crate::conn::DbConnection::Sqlite($c) => $body,
        }
    };
}
pub(crate) use on_backend;
