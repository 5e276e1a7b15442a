//! The housekeeping pass of `jiban serve` (DESIGN.md section 8): deletes what no request
//! can use any more, so that the tables do not grow without bound: refresh tokens past
//! their expiry, login attempts older than the throttle window, idempotency keys past their
//! day.
//!
//! Safe on several nodes: each prune is a plain DELETE bounded by age, so running it twice
//! deletes nothing the second time. On PostgreSQL the pass also takes a transaction-scoped
//! advisory lock without waiting, so that one node works while the others skip.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Bool;

use crate::conn::{DbConnection, write_tx};
use crate::error::StoreError;
use crate::repo::auth;
use crate::tickets;

/// What one pass deleted; `skipped` when another node held the pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PruneReport {
    pub refresh_tokens: usize,
    pub login_attempts: usize,
    pub idempotency_keys: usize,
    pub skipped: bool,
}

/// One pass at `now`, in one transaction. Login attempts before `attempts_before` go (the
/// caller knows the throttle window).
pub fn run(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    attempts_before: DateTime<Utc>,
) -> Result<PruneReport, StoreError> {
    write_tx(conn, |c| {
        if let DbConnection::Pg(pg) = c {
            let mine: bool = diesel::select(diesel::dsl::sql::<Bool>(
                "pg_try_advisory_xact_lock(hashtext('jiban.housekeeping.' || current_schema()))",
            ))
            .get_result(pg)?;
            if !mine {
                return Ok(PruneReport {
                    skipped: true,
                    ..PruneReport::default()
                });
            }
        }
        Ok(PruneReport {
            refresh_tokens: auth::prune_refresh_tokens(c, now)?,
            login_attempts: auth::prune_failures(c, attempts_before)?,
            idempotency_keys: tickets::prune_idempotency_keys(c, now)?,
            skipped: false,
        })
    })
}
