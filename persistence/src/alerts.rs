//! The alert ledger (DESIGN.md section 5): every alert decided is one row with its
//! recipients, unique per (ticket, deadline, party, level, due instant), so computing the
//! same alert twice, on one node or on five, records it once. The deadline scanner
//! (`tickets::scan`) decides alerts with `jiban_domain::alert` and records them here; the
//! API lists them and acknowledges escalations.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use jiban_domain::Actor;
use jiban_domain::alert::{AlertKey, AlertLevel};
use jiban_domain::deadline::DeadlineName;

use crate::conn::DbConnection;
use crate::error::StoreError;
use crate::outbox::v7_at;
use crate::schema::{alert_recipients, alerts, tickets};
use crate::tickets::visible_alerts;
use crate::types::{DbInstant, DbUuid};

/// An alert as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    pub id: uuid::Uuid,
    pub ticket_id: uuid::Uuid,
    pub deadline: DeadlineName,
    /// Whom the deadline binds, as stored (`handler`).
    pub party: String,
    pub level: AlertLevel,
    pub due_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<uuid::Uuid>,
}

/// An alert with what a reader needs besides: its ticket's number and its recipients.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertView {
    pub alert: Alert,
    pub ticket_number: String,
    pub recipients: Vec<uuid::Uuid>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = alerts)]
struct Row {
    id: DbUuid,
    ticket_id: DbUuid,
    deadline: String,
    party: String,
    level: String,
    due_at: DbInstant,
    created_at: DbInstant,
    acknowledged_at: Option<DbInstant>,
    acknowledged_by: Option<DbUuid>,
}

impl TryFrom<Row> for Alert {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Alert, StoreError> {
        Ok(Alert {
            id: r.id.0,
            ticket_id: r.ticket_id.0,
            deadline: DeadlineName::parse(&r.deadline)
                .ok_or_else(|| StoreError::Other(format!("alert deadline {:?}", r.deadline)))?,
            party: r.party,
            level: AlertLevel::parse(&r.level)
                .ok_or_else(|| StoreError::Other(format!("alert level {:?}", r.level)))?,
            due_at: r.due_at.get(),
            created_at: r.created_at.get(),
            acknowledged_at: r.acknowledged_at.map(DbInstant::get),
            acknowledged_by: r.acknowledged_by.map(|u| u.0),
        })
    }
}

fn alerts_of(rows: Vec<Row>) -> Result<Vec<Alert>, StoreError> {
    rows.into_iter().map(Alert::try_from).collect()
}

/// Records an alert once: `Some(id)` when this call decided it, `None` when it was already
/// recorded (by this node or another). Call in the transaction that queues its emails, so
/// the ledger and the outbox agree.
pub fn record(
    conn: &mut DbConnection,
    key: &AlertKey,
    recipients: &[uuid::Uuid],
    now: DateTime<Utc>,
) -> Result<Option<uuid::Uuid>, StoreError> {
    let id = v7_at(now);
    let row = (
        alerts::id.eq(DbUuid(id)),
        alerts::ticket_id.eq(DbUuid(key.ticket_id.as_uuid())),
        alerts::deadline.eq(key.deadline.as_str()),
        alerts::party.eq(key.party.as_key()),
        alerts::level.eq(key.level.as_str()),
        alerts::due_at.eq(DbInstant::from(key.due_at)),
        alerts::created_at.eq(DbInstant::from(now)),
    );
    let unique = (
        alerts::ticket_id,
        alerts::deadline,
        alerts::party,
        alerts::level,
        alerts::due_at,
    );
    let insert = diesel::insert_into(alerts::table).values(row);
    let inserted = match conn {
        DbConnection::Pg(c) => insert.on_conflict(unique).do_nothing().execute(c)?,
        DbConnection::Sqlite(c) => insert.on_conflict(unique).do_nothing().execute(c)?,
    };
    if inserted == 0 {
        return Ok(None);
    }
    let rows: Vec<_> = recipients
        .iter()
        .map(|user| {
            (
                alert_recipients::alert_id.eq(DbUuid(id)),
                alert_recipients::user_id.eq(DbUuid(*user)),
            )
        })
        .collect();
    if !rows.is_empty() {
        let insert = diesel::insert_into(alert_recipients::table).values(&rows);
        match conn {
            DbConnection::Pg(c) => insert.execute(c)?,
            DbConnection::Sqlite(c) => insert.execute(c)?,
        };
    }
    Ok(Some(id))
}

/// Whether an alert with this key is recorded: what `--dry-run` asks before saying an
/// alert would fire.
pub fn is_recorded(conn: &mut DbConnection, key: &AlertKey) -> Result<bool, StoreError> {
    let found: Option<DbUuid> = alerts::table
        .filter(alerts::ticket_id.eq(DbUuid(key.ticket_id.as_uuid())))
        .filter(alerts::deadline.eq(key.deadline.as_str()))
        .filter(alerts::party.eq(key.party.as_key()))
        .filter(alerts::level.eq(key.level.as_str()))
        .filter(alerts::due_at.eq(DbInstant::from(key.due_at)))
        .select(alerts::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

/// One alert.
pub fn get(conn: &mut DbConnection, id: uuid::Uuid) -> Result<Alert, StoreError> {
    alerts::table
        .find(DbUuid(id))
        .select(Row::as_select())
        .first(conn)?
        .try_into()
}

/// A ticket's alerts, oldest first.
pub fn for_ticket(
    conn: &mut DbConnection,
    ticket_id: uuid::Uuid,
) -> Result<Vec<Alert>, StoreError> {
    alerts_of(
        alerts::table
            .filter(alerts::ticket_id.eq(DbUuid(ticket_id)))
            .order((alerts::created_at, alerts::id))
            .select(Row::as_select())
            .load(conn)?,
    )
}

/// Who an alert was addressed to.
pub fn recipients(
    conn: &mut DbConnection,
    alert_id: uuid::Uuid,
) -> Result<Vec<uuid::Uuid>, StoreError> {
    let rows: Vec<DbUuid> = alert_recipients::table
        .filter(alert_recipients::alert_id.eq(DbUuid(alert_id)))
        .select(alert_recipients::user_id)
        .order(alert_recipients::user_id)
        .load(conn)?;
    Ok(rows.into_iter().map(|u| u.0).collect())
}

/// What the list filters on (`GET /v1/alerts`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AlertFilter {
    pub ticket_id: Option<uuid::Uuid>,
    /// Only alerts addressed to this user (`mine=true`).
    pub recipient: Option<uuid::Uuid>,
    /// Only escalations nobody has acknowledged yet (`unacknowledged=true`).
    pub unacknowledged: bool,
}

/// Where a page starts: after the alert with this `(created_at, id)`, newest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: DateTime<Utc>,
    pub id: uuid::Uuid,
}

/// One page of the alerts on tickets the actor may see, newest first, and where the next
/// page starts when more may follow.
pub fn list(
    conn: &mut DbConnection,
    actor: &Actor,
    filter: &AlertFilter,
    limit: i64,
    after: Option<Cursor>,
) -> Result<(Vec<AlertView>, Option<Cursor>), StoreError> {
    let mut query = alerts::table
        .inner_join(tickets::table)
        .select(Row::as_select())
        .order((alerts::created_at.desc(), alerts::id.desc()))
        .limit(limit + 1)
        .into_boxed();
    if let Some(visible) = visible_alerts(actor) {
        query = query.filter(visible);
    }
    if let Some(ticket) = filter.ticket_id {
        query = query.filter(alerts::ticket_id.eq(DbUuid(ticket)));
    }
    if let Some(user) = filter.recipient {
        query = query.filter(
            alerts::id.eq_any(
                alert_recipients::table
                    .filter(alert_recipients::user_id.eq(DbUuid(user)))
                    .select(alert_recipients::alert_id),
            ),
        );
    }
    if filter.unacknowledged {
        query = query
            .filter(alerts::level.eq(AlertLevel::Escalation.as_str()))
            .filter(alerts::acknowledged_at.is_null());
    }
    if let Some(c) = after {
        let at = DbInstant::from(c.created_at);
        query = query.filter(crate::types::keyset_before!(
            alerts::created_at,
            alerts::id,
            at,
            DbUuid(c.id)
        ));
    }
    let mut page = alerts_of(query.load(conn)?)?;
    let next = if page.len() as i64 > limit {
        page.truncate(limit as usize);
        page.last().map(|a| Cursor {
            created_at: a.created_at,
            id: a.id,
        })
    } else {
        None
    };
    Ok((views(conn, page)?, next))
}

/// Adds the ticket numbers and the recipients of a page, two queries for the whole page.
pub fn views(conn: &mut DbConnection, page: Vec<Alert>) -> Result<Vec<AlertView>, StoreError> {
    let ids: Vec<DbUuid> = page.iter().map(|a| DbUuid(a.id)).collect();
    let tickets_of: Vec<DbUuid> = page.iter().map(|a| DbUuid(a.ticket_id)).collect();
    let recipients: Vec<(DbUuid, DbUuid)> = alert_recipients::table
        .filter(alert_recipients::alert_id.eq_any(&ids))
        .select((alert_recipients::alert_id, alert_recipients::user_id))
        .order((alert_recipients::alert_id, alert_recipients::user_id))
        .load(conn)?;
    let numbers: Vec<(DbUuid, String)> = tickets::table
        .filter(tickets::id.eq_any(&tickets_of))
        .select((tickets::id, tickets::number))
        .load(conn)?;
    Ok(page
        .into_iter()
        .map(|alert| AlertView {
            ticket_number: numbers
                .iter()
                .find(|(id, _)| id.0 == alert.ticket_id)
                .map(|(_, n)| n.clone())
                .unwrap_or_default(),
            recipients: recipients
                .iter()
                .filter(|(a, _)| a.0 == alert.id)
                .map(|(_, u)| u.0)
                .collect(),
            alert,
        })
        .collect())
}

/// Marks an alert acknowledged, once: `false` when it already was. Who may acknowledge is
/// the domain's rule (`Command::AcknowledgeAlert`), checked by the caller's use case.
pub fn acknowledge(
    conn: &mut DbConnection,
    alert_id: uuid::Uuid,
    by: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = diesel::update(
        alerts::table
            .filter(alerts::id.eq(DbUuid(alert_id)))
            .filter(alerts::acknowledged_at.is_null()),
    )
    .set((
        alerts::acknowledged_at.eq(Some(DbInstant::from(now))),
        alerts::acknowledged_by.eq(Some(DbUuid(by))),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}
