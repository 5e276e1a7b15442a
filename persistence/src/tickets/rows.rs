//! Ticket and event rows <-> domain values. The row keeps the columns that queries filter
//! and sort on; `state` keeps the whole domain ticket as JSON, so loading a ticket is one
//! column and nothing is lost between the two.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use jiban_domain::alert;
use jiban_domain::deadline::Calendar;
use jiban_domain::stats::TicketFacts;
use jiban_domain::ticket::{Event, EventData, Ticket};
use jiban_domain::values::UserId;
use serde::Serialize;

use crate::error::StoreError;
use crate::schema::{ticket_events, ticket_stats, tickets};
use crate::types::{DbInstant, DbUuid};

/// One ticket as stored. NULLs are bound, not rendered as DEFAULT, so the statement is
/// prepared once (DEPENDENCIES.md); as a changeset, `None` writes NULL.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = tickets, treat_none_as_default_value = false, treat_none_as_null = true)]
pub(crate) struct TicketRow {
    pub id: DbUuid,
    pub number: String,
    pub enterprise_id: DbUuid,
    pub kind: &'static str,
    pub urgency: &'static str,
    pub category: String,
    pub title: String,
    pub status: &'static str,
    pub channel: &'static str,
    pub created_by: Option<DbUuid>,
    pub first_responder_id: Option<DbUuid>,
    pub department_id: Option<DbUuid>,
    pub assignee_id: Option<DbUuid>,
    pub accept_due_at: DbInstant,
    pub contact_due_at: DbInstant,
    pub resolve_due_at: DbInstant,
    pub provisional: bool,
    pub accepted_at: Option<DbInstant>,
    pub contacted_at: Option<DbInstant>,
    pub resolved_at: Option<DbInstant>,
    pub closed_at: Option<DbInstant>,
    pub overdue_at: Option<DbInstant>,
    pub supervised: bool,
    pub transfer_count: i32,
    pub redo_count: i32,
    pub close_reason: Option<&'static str>,
    pub next_alert_at: Option<DbInstant>,
    pub version: i64,
    pub last_seq: i32,
    pub created_at: DbInstant,
    pub updated_at: DbInstant,
    pub state: String,
}

/// What the ticket contributes to the statistics (`jiban_domain::stats::TicketFacts`,
/// DESIGN.md section 6), as its row of `ticket_stats`: flags as 0 or 1 so that SQL sums
/// them the same on both backends, and the holder and `overdue_at` repeated from the
/// ticket. `filled` is false when the snapshot alone cannot tell (a state stored before
/// the first round was kept, of a ticket reopened since): the facts are zero until
/// `crate::stats::backfill` reads the timeline.
#[derive(Insertable, AsChangeset, Clone, Copy, Debug, PartialEq, Eq)]
#[diesel(table_name = ticket_stats, treat_none_as_default_value = false, treat_none_as_null = true)]
pub(crate) struct StatRow {
    pub ticket_id: DbUuid,
    pub received_at: DbInstant,
    pub department_id: Option<DbUuid>,
    pub assignee_id: Option<DbUuid>,
    pub overdue_at: Option<DbInstant>,
    pub filled: bool,
    pub disposed: i32,
    pub accepted: i32,
    pub withdrawn: i32,
    pub responded_on_time: i32,
    pub resolved_now: i32,
    pub has_outcome: i32,
    pub rated: i32,
    pub on_time: i32,
    pub supervised_now: i32,
    pub rating_tenths: i32,
    pub minutes_to_contact: Option<i64>,
    pub minutes_to_outcome: Option<i64>,
}

impl StatRow {
    /// The row of `t` with `facts` (its own, or `None` when they cannot be told yet).
    /// `overdue_now`, the one fact that depends on the present, is read from `overdue_at`.
    pub fn new(t: &Ticket, facts: Option<&TicketFacts>) -> StatRow {
        let flag = |yes: fn(&TicketFacts) -> bool| i32::from(facts.is_some_and(yes));
        StatRow {
            ticket_id: DbUuid(t.id.as_uuid()),
            received_at: t.created_at.into(),
            department_id: t.department_id.map(|d| DbUuid(d.as_uuid())),
            assignee_id: t.assignee_id.map(|u| DbUuid(u.as_uuid())),
            overdue_at: t.overdue_since().map(Into::into),
            filled: facts.is_some(),
            disposed: flag(|f| f.disposed),
            accepted: flag(|f| f.accepted),
            withdrawn: flag(|f| f.withdrawn),
            responded_on_time: flag(|f| f.responded_on_time),
            resolved_now: flag(|f| f.resolved_now),
            has_outcome: flag(|f| f.has_outcome),
            rated: flag(|f| f.rating.is_some()),
            on_time: flag(|f| f.on_time),
            supervised_now: flag(|f| f.supervised_now),
            rating_tenths: facts.map_or(0, |f| i32::try_from(f.rating_score_tenths).unwrap_or(0)),
            minutes_to_contact: facts.and_then(|f| f.minutes_to_first_contact),
            minutes_to_outcome: facts.and_then(|f| f.minutes_to_first_outcome),
        }
    }

    /// The row of a snapshot: what every save writes.
    pub fn of_ticket(t: &Ticket) -> StatRow {
        // `now` only decides `overdue_now`, which is not stored.
        StatRow::new(t, TicketFacts::of_snapshot(t, t.updated_at).as_ref())
    }
}

fn count(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl TicketRow {
    /// The row of `t`. Its `next_alert_at` counts every alert of the ticket's schedule,
    /// fired or not (`jiban_domain::alert::next_alert_at` with no lower bound): the
    /// scanner may not yet have recorded one that fell due before this write, and it
    /// moves the value on once it has.
    pub fn new(t: &Ticket, last_seq: i32, calendar: &Calendar) -> Result<TicketRow, StoreError> {
        let id = |u: UserId| DbUuid(u.as_uuid());
        Ok(TicketRow {
            id: DbUuid(t.id.as_uuid()),
            number: t.number.to_string(),
            enterprise_id: DbUuid(t.enterprise_id.as_uuid()),
            kind: t.kind.as_str(),
            urgency: t.urgency.as_str(),
            category: t.category.to_string(),
            title: t.title.clone(),
            status: t.status.as_str(),
            channel: t.channel.as_str(),
            created_by: t.created_by.map(id),
            first_responder_id: t.first_responder_id.map(id),
            department_id: t.department_id.map(|d| DbUuid(d.as_uuid())),
            assignee_id: t.assignee_id.map(id),
            accept_due_at: t.accept_due.due_at.into(),
            contact_due_at: t.contact_due.due_at.into(),
            resolve_due_at: t.resolve_due.due_at.into(),
            provisional: t.accept_due.provisional
                || t.contact_due.provisional
                || t.resolve_due.provisional
                || t.rating_due.as_ref().is_some_and(|d| d.provisional),
            accepted_at: t.accepted_at.map(Into::into),
            contacted_at: t.contacted_at.map(Into::into),
            resolved_at: t.resolved_at.map(Into::into),
            closed_at: t.closed_at.map(Into::into),
            overdue_at: t.overdue_since().map(Into::into),
            supervised: t.supervised,
            transfer_count: count(t.transfer_count),
            redo_count: count(t.redo_count),
            close_reason: t.close_reason.map(|r| r.as_str()),
            next_alert_at: alert::next_alert_at(t, None, calendar).map(Into::into),
            version: i64::try_from(t.version).unwrap_or(i64::MAX),
            last_seq,
            created_at: t.created_at.into(),
            updated_at: t.updated_at.into(),
            state: to_json(t)?,
        })
    }
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Other(format!("to JSON: {e}")))
}

/// Reads a ticket's `state` back.
pub(crate) fn ticket_from_state(state: &str) -> Result<Ticket, StoreError> {
    serde_json::from_str(state).map_err(|e| StoreError::Other(format!("ticket state: {e}")))
}

#[derive(Insertable)]
#[diesel(table_name = ticket_events, treat_none_as_default_value = false)]
pub(crate) struct NewEventRow {
    pub ticket_id: DbUuid,
    pub seq: i32,
    pub version: i64,
    pub kind: &'static str,
    pub actor_id: Option<DbUuid>,
    pub at: DbInstant,
    pub internal: bool,
    pub data: String,
}

impl NewEventRow {
    pub fn new(ticket: &Ticket, seq: i32, e: &Event) -> Result<NewEventRow, StoreError> {
        Ok(NewEventRow {
            ticket_id: DbUuid(ticket.id.as_uuid()),
            seq,
            version: i64::try_from(e.version).unwrap_or(i64::MAX),
            kind: e.data.kind(),
            actor_id: e.actor_id.map(|u| DbUuid(u.as_uuid())),
            at: e.at.into(),
            internal: e.data.is_internal(),
            data: event_data_json(&e.data)?,
        })
    }
}

/// The event's fields without its kind, which has a column of its own.
fn event_data_json(data: &EventData) -> Result<String, StoreError> {
    let mut value =
        serde_json::to_value(data).map_err(|e| StoreError::Other(format!("event: {e}")))?;
    let fields = value
        .get_mut("data")
        .map(serde_json::Value::take)
        .unwrap_or(serde_json::Value::Null);
    to_json(&fields)
}

/// One entry of a ticket's timeline, as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StoredEvent {
    pub id: i64,
    pub seq: i32,
    pub version: u64,
    pub kind: String,
    pub actor_id: Option<uuid::Uuid>,
    pub at: DateTime<Utc>,
    pub internal: bool,
    pub data: serde_json::Value,
}

impl StoredEvent {
    /// The entry as `actor` may read it (`jiban_domain::ticket::Event::seen_by`): `None`
    /// when hidden, otherwise with the fields it may not read taken out.
    pub fn seen_by(self, actor: &jiban_domain::Actor) -> Result<Option<StoredEvent>, StoreError> {
        if actor.role() != Some(jiban_domain::values::Role::Enterprise) {
            return Ok(Some(self));
        }
        let Some(seen) = self.to_event()?.seen_by(actor) else {
            return Ok(None);
        };
        let data = serde_json::from_str(&event_data_json(&seen.data)?)
            .map_err(|e| StoreError::Other(format!("event {}: {e}", self.id)))?;
        Ok(Some(StoredEvent {
            actor_id: seen.actor_id.map(|u| u.as_uuid()),
            data,
            ..self
        }))
    }

    /// The domain event back, e.g. to replay a timeline.
    pub fn to_event(&self) -> Result<Event, StoreError> {
        let tagged = serde_json::json!({ "kind": self.kind, "data": self.data });
        let data: EventData = serde_json::from_value(tagged)
            .map_err(|e| StoreError::Other(format!("event {}: {e}", self.id)))?;
        Ok(Event {
            at: self.at,
            actor_id: self.actor_id.map(UserId::from_uuid),
            version: self.version,
            data,
        })
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = ticket_events)]
pub(crate) struct EventRow {
    pub id: i64,
    pub seq: i32,
    pub version: i64,
    pub kind: String,
    pub actor_id: Option<DbUuid>,
    pub at: DbInstant,
    pub internal: bool,
    pub data: String,
}

impl TryFrom<EventRow> for StoredEvent {
    type Error = StoreError;

    fn try_from(r: EventRow) -> Result<StoredEvent, StoreError> {
        Ok(StoredEvent {
            id: r.id,
            seq: r.seq,
            version: u64::try_from(r.version).unwrap_or(0),
            kind: r.kind,
            actor_id: r.actor_id.map(|a| a.0),
            at: r.at.get(),
            internal: r.internal,
            data: serde_json::from_str(&r.data)
                .map_err(|e| StoreError::Other(format!("event {} data: {e}", r.id)))?,
        })
    }
}
