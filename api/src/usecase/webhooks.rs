//! Webhooks (DESIGN.md section 7: admin only): register, list, delete. Each write is one
//! transaction; the deliveries themselves are queued by the ticket store
//! (`jiban_persistence::webhooks`) and sent by the sender worker (`crate::webhook`).

use chrono::{DateTime, Utc};
use jiban_persistence::webhooks::{self, NewWebhook, Webhook};
use jiban_persistence::{DbConnection, write_tx};

use crate::problem::ApiError;

pub fn create(conn: &mut DbConnection, new: NewWebhook) -> Result<Webhook, ApiError> {
    write_tx(conn, |c| Ok(webhooks::insert(c, &new)?))
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<Webhook>, ApiError> {
    Ok(webhooks::list(conn)?)
}

/// Deletes a webhook and ends its waiting deliveries; 404 for one unknown or deleted.
pub fn delete(conn: &mut DbConnection, id: uuid::Uuid, now: DateTime<Utc>) -> Result<(), ApiError> {
    write_tx(conn, |c| Ok(webhooks::delete(c, id, now)?))
}
