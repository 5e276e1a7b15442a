//! The alert ledger (DESIGN.md section 5): every alert decided is one row with its
//! recipients, unique per (ticket, deadline, level, due instant), so computing the same
//! alert twice, on one node or on five, records it once. The schedule that decides alerts
//! comes with the alert issue; this is where its decisions land.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::conn::DbConnection;
use crate::error::StoreError;
use crate::outbox::v7_at;
use crate::schema::{alert_recipients, alerts};
use crate::types::{DbInstant, DbUuid};

/// 预警 warning, 超期 overdue, 督办 escalation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertLevel {
    Warning,
    Overdue,
    Escalation,
}

impl AlertLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertLevel::Warning => "warning",
            AlertLevel::Overdue => "overdue",
            AlertLevel::Escalation => "escalation",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "warning" => Ok(AlertLevel::Warning),
            "overdue" => Ok(AlertLevel::Overdue),
            "escalation" => Ok(AlertLevel::Escalation),
            other => Err(StoreError::Other(format!("alert level {other:?}"))),
        }
    }
}

/// An alert to record: which deadline of which ticket, at which level, for which due
/// instant (a moved deadline is a new alert), and who receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAlert {
    pub ticket_id: uuid::Uuid,
    /// `accept`, `contact` or `resolve`.
    pub deadline: &'static str,
    pub level: AlertLevel,
    pub due_at: DateTime<Utc>,
    pub recipients: Vec<uuid::Uuid>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    pub id: uuid::Uuid,
    pub ticket_id: uuid::Uuid,
    pub deadline: String,
    pub level: AlertLevel,
    pub due_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<uuid::Uuid>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = alerts)]
struct Row {
    id: DbUuid,
    ticket_id: DbUuid,
    deadline: String,
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
            deadline: r.deadline,
            level: AlertLevel::parse(&r.level)?,
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
    alert: &NewAlert,
    now: DateTime<Utc>,
) -> Result<Option<uuid::Uuid>, StoreError> {
    let id = v7_at(now);
    let row = (
        alerts::id.eq(DbUuid(id)),
        alerts::ticket_id.eq(DbUuid(alert.ticket_id)),
        alerts::deadline.eq(alert.deadline),
        alerts::level.eq(alert.level.as_str()),
        alerts::due_at.eq(DbInstant::from(alert.due_at)),
        alerts::created_at.eq(DbInstant::from(now)),
    );
    let unique = (
        alerts::ticket_id,
        alerts::deadline,
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
    for user in &alert.recipients {
        diesel::insert_into(alert_recipients::table)
            .values((
                alert_recipients::alert_id.eq(DbUuid(id)),
                alert_recipients::user_id.eq(DbUuid(*user)),
            ))
            .execute(conn)?;
    }
    Ok(Some(id))
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

/// The alerts addressed to a user that nobody has acknowledged yet.
pub fn unacknowledged_for(
    conn: &mut DbConnection,
    user_id: uuid::Uuid,
) -> Result<Vec<Alert>, StoreError> {
    alerts_of(
        alerts::table
            .inner_join(alert_recipients::table)
            .filter(alert_recipients::user_id.eq(DbUuid(user_id)))
            .filter(alerts::acknowledged_at.is_null())
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
