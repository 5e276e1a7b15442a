//! The alert ledger (DESIGN.md section 5): list the alerts on tickets the actor may see,
//! and acknowledge an escalation, which is also an event on its ticket.

use chrono::{DateTime, Utc};
use jiban_domain::Actor;
use jiban_domain::ticket::Command;
use jiban_domain::values::{AlertId, TicketId, UserId};
use jiban_persistence::alerts::{self, Alert, AlertFilter, AlertView, Cursor};
use jiban_persistence::repo::users;
use jiban_persistence::tickets;
use jiban_persistence::{DbConnection, StoreError, write_tx};

use crate::problem::ApiError;
use crate::usecase::tickets::Env;

/// A ticket id as stored, or "not found": a UUID that is not a ticket id names no ticket.
fn ticket_id(id: uuid::Uuid) -> Result<TicketId, ApiError> {
    TicketId::from_uuid(id).map_err(|_| ApiError::not_found())
}

/// One page, newest first. A `ticket_id` outside the actor's scope is 404, so the filter
/// does not tell whether the ticket exists.
pub fn list(
    conn: &mut DbConnection,
    actor: &Actor,
    filter: &AlertFilter,
    limit: i64,
    after: Option<Cursor>,
) -> Result<(Vec<AlertView>, Option<Cursor>), ApiError> {
    if let Some(ticket) = filter.ticket_id {
        tickets::get(conn, ticket_id(ticket)?, actor)?;
    }
    Ok(alerts::list(conn, actor, filter, limit, after)?)
}

/// Acknowledges an escalation, in one transaction: the ledger's row and the ticket's
/// `alert_acknowledged` event, or neither. Checks in the order of docs/API.md: scope
/// (404), level and state (409), who (403, the domain's rule).
pub fn acknowledge(
    conn: &mut DbConnection,
    env: &Env<'_>,
    alert_id: uuid::Uuid,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<AlertView, ApiError> {
    let by = actor
        .id()
        .ok_or_else(|| ApiError::internal("the system acknowledges no alert"))?;
    let rules = env.rules.get(conn)?;
    let ctx = env.context(&rules);
    write_tx(conn, |c| {
        let alert = match alerts::get(c, alert_id) {
            Err(StoreError::NotFound) => return Err(ApiError::not_found()),
            other => other?,
        };
        let ticket = ticket_id(alert.ticket_id)?;
        tickets::get(c, ticket, actor)?;
        if !alert.level.needs_acknowledging() {
            return Err(ApiError::conflict(
                "not_an_escalation",
                format!(
                    "only an escalation is acknowledged; this alert is a {}",
                    alert.level.as_str()
                ),
            ));
        }
        if alert.acknowledged_at.is_some() {
            return Err(already_acknowledged(c, &alert));
        }
        let recipients = alerts::recipients(c, alert_id)?
            .into_iter()
            .map(UserId::from_uuid)
            .collect();
        let command = Command::AcknowledgeAlert {
            alert_id: AlertId::from_uuid(alert_id),
            recipients,
        };
        tickets::execute(c, ticket, None, command, actor, now, ctx)?;
        // Another acknowledgement may have committed since the read above: the guarded
        // update tells, and the error rolls back the event appended just now.
        if !alerts::acknowledge(c, alert_id, by.as_uuid(), now)? {
            let alert = alerts::get(c, alert_id)?;
            return Err(already_acknowledged(c, &alert));
        }
        let alert = alerts::get(c, alert_id)?;
        alerts::views(c, vec![alert])?
            .pop()
            .ok_or_else(|| ApiError::internal("an acknowledged alert has no view"))
    })
}

/// 409 saying who acknowledged the alert and when.
fn already_acknowledged(conn: &mut DbConnection, alert: &Alert) -> ApiError {
    let who = alert
        .acknowledged_by
        .and_then(|id| users::find(conn, UserId::from_uuid(id)).ok().flatten())
        .map(|u| format!("{} ({})", u.display_name, u.id))
        .or_else(|| alert.acknowledged_by.map(|id| id.to_string()))
        .unwrap_or_else(|| "someone".to_owned());
    let when = alert
        .acknowledged_at
        .map(|at| format!(" at {}", crate::time::rfc3339(at)))
        .unwrap_or_default();
    ApiError::conflict(
        "already_acknowledged",
        format!("this escalation was already acknowledged by {who}{when}"),
    )
}
