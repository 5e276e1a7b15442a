//! The outbox as the admin sees it (DESIGN.md section 5): what is queued, stuck or dead and
//! why, and a retry once the cause is fixed.

use chrono::{DateTime, Utc};
use jiban_persistence::outbox::{self, Cursor, ListStatus, Message};
use jiban_persistence::{DbConnection, StoreError, write_tx};

use crate::problem::ApiError;

pub fn page(
    conn: &mut DbConnection,
    status: Option<ListStatus>,
    limit: i64,
    after: Option<Cursor>,
) -> Result<(Vec<Message>, Option<Cursor>), ApiError> {
    Ok(outbox::page(conn, status, limit, after)?)
}

/// Puts a dead or failing row back in the queue, due now; any other row is 409
/// `not_retryable` (a pending row without error is queued already, a sending one is held
/// by a sender, a sent one is done).
pub fn retry(
    conn: &mut DbConnection,
    id: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<Message, ApiError> {
    write_tx(conn, |c| {
        match outbox::retry(c, id, now) {
            Ok(()) => {}
            Err(StoreError::NotFound) => return Err(ApiError::not_found()),
            Err(StoreError::Conflict(_)) => {
                let status = outbox::get(c, id)?.status;
                return Err(ApiError::conflict(
                    "not_retryable",
                    format!(
                        "only a dead row or a pending one whose last try failed is retried; \
                         this one is {status}"
                    ),
                ));
            }
            Err(e) => return Err(e.into()),
        }
        Ok(outbox::get(c, id)?)
    })
}
