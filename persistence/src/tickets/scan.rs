//! The deadline scanner's pass (DESIGN.md section 5): claim the tickets whose
//! `next_alert_at` has passed, record each alert the domain says is due in the ledger
//! (once, whoever computes it), queue one email per recipient, put the alert on the
//! ticket's timeline, mark an escalated ticket `supervised`, close a ticket whose rating
//! window ended unrated, and move `next_alert_at` on. One transaction per batch: on
//! PostgreSQL the batch's rows are locked `FOR UPDATE SKIP LOCKED`, so scanners on several
//! nodes split the work and never wait for each other.

use chrono::{DateTime, SubsecRound, Utc};
use diesel::prelude::*;
use jiban_domain::Actor;
use jiban_domain::alert::{self, Alert, AlertLevel};
use jiban_domain::notice::{AlertContext, Audience, alert_notice};
use jiban_domain::ticket::{self, Command, EscalationReason, Event, EventData, Status, Ticket};
use jiban_domain::values::{AlertId, UserId};

use super::notify::{self, Recipient};
use super::query::claim_due;
use super::rows::ticket_from_state;
use super::store::{Context, TicketError, save};
use crate::alerts;
use crate::conn::{DbConnection, write_tx};
use crate::error::StoreError;
use crate::outbox::{self, NewMessage, OutboxKind};
use crate::schema::{tickets, users};
use crate::types::{DbInstant, DbUuid};

/// What a pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScanReport {
    /// Tickets claimed and looked at.
    pub scanned: usize,
    /// Alerts recorded (decided) by this pass.
    pub alerts: usize,
    /// Emails queued for them.
    pub queued: usize,
    /// Tickets that became `supervised` by an escalation.
    pub escalated: usize,
    /// Tickets closed because their rating window ended unrated.
    pub closed: usize,
}

impl std::ops::AddAssign for ScanReport {
    fn add_assign(&mut self, o: ScanReport) {
        self.scanned += o.scanned;
        self.alerts += o.alerts;
        self.queued += o.queued;
        self.escalated += o.escalated;
        self.closed += o.closed;
    }
}

/// One batch: at most `limit` due tickets, in one transaction. A pass calls it until a
/// batch comes back smaller than `limit`.
pub fn scan_batch(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    ctx: Context<'_>,
    limit: i64,
) -> Result<ScanReport, StoreError> {
    let now = now.trunc_subsecs(6);
    write_tx(conn, |conn| {
        let mut report = ScanReport::default();
        for (ticket, last_seq) in claim_due(conn, now, limit)? {
            report.scanned += 1;
            report += scan_ticket(conn, ticket, last_seq, now, ctx).map_err(store_error)?;
        }
        Ok(report)
    })
}

/// A whole pass: batches until nothing due is left (or `max_batches`, so one pass cannot
/// run forever while others keep adding work).
pub fn scan(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    ctx: Context<'_>,
    batch: i64,
    max_batches: usize,
) -> Result<ScanReport, StoreError> {
    let mut total = ScanReport::default();
    for _ in 0..max_batches {
        let report = scan_batch(conn, now, ctx, batch)?;
        total += report;
        if (report.scanned as i64) < batch {
            break;
        }
    }
    Ok(total)
}

fn scan_ticket(
    conn: &mut DbConnection,
    ticket: Ticket,
    last_seq: i32,
    now: DateTime<Utc>,
    ctx: Context<'_>,
) -> Result<ScanReport, TicketError> {
    let mut report = ScanReport::default();
    let id = ticket.id;
    // The rating window ended unrated: the scanner closes it (DESIGN.md rule 7).
    if matches!(ticket.status, Status::Resolved | Status::Explained)
        && ticket::rules::rating_window_ended(&ticket, now).is_ok()
    {
        let events = ticket::decide(
            &ticket,
            Command::CloseUnrated,
            &Actor::System,
            now,
            ctx.rules,
        )?;
        let next = ticket::apply(ticket, &events);
        save(conn, &next, last_seq, &events, ctx.rules)?;
        notify::enqueue(conn, &next, last_seq + 1, &events, None, now, ctx)?;
        report.closed += 1;
        return Ok(report);
    }

    let due = alert::due(&ticket, now, &ctx.rules.calendar);
    let mut data = Vec::new();
    if !due.is_empty() {
        let texts = Texts::load(conn, &ticket, ctx)?;
        let mut named = People::default();
        for a in &due {
            let people = named.of(conn, a)?;
            let ids: Vec<uuid::Uuid> = people.iter().filter_map(|p| p.user_id).collect();
            let Some(alert_id) = alerts::record(conn, &a.key, &ids, now)? else {
                continue; // recorded by an earlier pass or another node
            };
            report.alerts += 1;
            let (subject, body) = alert_notice(&ticket, &a.key, now, &texts.context());
            let messages: Vec<NewMessage> = people
                .iter()
                .map(|p| NewMessage {
                    dedupe_key: a.key.dedupe_key(&p.key),
                    kind: OutboxKind::Email,
                    recipient: p.address.clone(),
                    subject: subject.clone(),
                    body: body.clone(),
                    payload: None,
                    ticket_id: Some(ticket.id.as_uuid()),
                })
                .collect();
            report.queued += outbox::enqueue(conn, &messages, now)?;
            data.push(EventData::Alerted {
                alert_id: AlertId::from_uuid(alert_id),
                deadline: a.key.deadline,
                level: a.key.level,
                due_at: a.key.due_at,
                recipients: ids.into_iter().map(UserId::from_uuid).collect(),
            });
            // A co-handling department's reply limit climbs its own ladder to the
            // supervisors by mail; it does not make the lead's ticket `supervised` (issue 13).
            let escalating = a.key.level == AlertLevel::Escalation
                && a.key.party == jiban_domain::alert::Party::Handler
                && !ticket.supervised
                && !data
                    .iter()
                    .any(|d| matches!(d, EventData::Escalated { .. }));
            if escalating {
                // 提级督办: supervisors take the ticket up (DESIGN.md section 5).
                data.push(EventData::Escalated {
                    reason: EscalationReason::Overdue,
                    to_paired_leader: true,
                    deadline: Some(a.key.deadline),
                });
                report.escalated += 1;
            }
        }
    }
    let ticket = if data.is_empty() {
        ticket
    } else {
        // One scan is one command: one version for all its events (DESIGN.md rule 11).
        let changed = data.iter().any(EventData::changes_state);
        let version = ticket.version + u64::from(changed);
        let events: Vec<Event> = data
            .into_iter()
            .map(|data| Event {
                at: now,
                actor_id: None,
                version,
                data,
            })
            .collect();
        let next = ticket::apply(ticket, &events);
        save(conn, &next, last_seq, &events, ctx.rules)?;
        next
    };
    // `save` stored the conservative value (every alert, fired or not); every alert due by
    // `now` is recorded now, so the next look is after it. `overdue_at` is written too, so
    // rows written before it existed (the alerts migration) are right after one pass.
    let next_alert_at = alert::next_alert_at(&ticket, Some(now), &ctx.rules.calendar);
    diesel::update(tickets::table.find(DbUuid(id.as_uuid())))
        .set((
            tickets::next_alert_at.eq(next_alert_at.map(DbInstant::from)),
            tickets::overdue_at.eq(ticket.overdue_since().map(DbInstant::from)),
        ))
        .execute(conn)?;
    Ok(report)
}

/// Who each audience names (active users only), looked up once per ticket: a ticket's
/// alerts share their audiences (the department's officers, the supervisors).
#[derive(Default)]
struct People(Vec<(Audience, Vec<Recipient>)>);

impl People {
    /// The people an alert's audiences name, each once.
    fn of(&mut self, conn: &mut DbConnection, a: &Alert) -> Result<Vec<Recipient>, StoreError> {
        let mut out: Vec<Recipient> = Vec::new();
        for audience in &a.recipients {
            let i = match self.0.iter().position(|(known, _)| known == audience) {
                Some(i) => i,
                None => {
                    let named = notify::recipients(conn, audience)?;
                    self.0.push((audience.clone(), named));
                    self.0.len() - 1
                }
            };
            for person in &self.0[i].1 {
                if !out.iter().any(|p| p.key == person.key) {
                    out.push(person.clone());
                }
            }
        }
        Ok(out)
    }
}

/// What an alert's mail says besides the ticket, looked up once per ticket.
struct Texts {
    enterprise_name: String,
    first_responder: Option<String>,
    link: String,
}

impl Texts {
    fn load(conn: &mut DbConnection, t: &Ticket, ctx: Context<'_>) -> Result<Texts, StoreError> {
        let first_responder = match t.first_responder_id {
            Some(id) => users::table
                .find(DbUuid(id.as_uuid()))
                .select(users::display_name)
                .first(conn)
                .optional()?,
            None => None,
        };
        Ok(Texts {
            enterprise_name: notify::name_of(conn, t)?,
            first_responder,
            link: notify::official_link(ctx, t),
        })
    }

    fn context(&self) -> AlertContext<'_> {
        AlertContext {
            enterprise_name: &self.enterprise_name,
            first_responder: self.first_responder.as_deref(),
            official_link: &self.link,
        }
    }
}

fn store_error(e: TicketError) -> StoreError {
    match e {
        TicketError::Store(e) => e,
        other => StoreError::Other(other.to_string()),
    }
}

/// An alert the scanner would record at an instant, with whom it would mail: what
/// `jiban alerts run-once --dry-run` lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    pub ticket_id: uuid::Uuid,
    pub number: String,
    pub alert: Alert,
    /// The addresses it would mail.
    pub recipients: Vec<String>,
}

/// What a pass at `now` would do, without writing anything: the alerts not yet recorded
/// and the tickets it would close (those come with an empty alert list). Reads at most
/// `limit` due tickets.
pub fn plan(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    ctx: Context<'_>,
    limit: i64,
) -> Result<(Vec<Planned>, Vec<String>), StoreError> {
    let rows: Vec<String> = tickets::table
        .filter(tickets::status.eq_any(super::query::SCANNED))
        .filter(tickets::next_alert_at.le(DbInstant::from(now)))
        .order((tickets::next_alert_at, tickets::id))
        .limit(limit)
        .select(tickets::state)
        .load(conn)?;
    let mut planned = Vec::new();
    let mut closing = Vec::new();
    for state in rows {
        let t = ticket_from_state(&state)?;
        if matches!(t.status, Status::Resolved | Status::Explained)
            && ticket::rules::rating_window_ended(&t, now).is_ok()
        {
            closing.push(t.number.to_string());
            continue;
        }
        let mut named = People::default();
        for a in alert::due(&t, now, &ctx.rules.calendar) {
            if alerts::is_recorded(conn, &a.key)? {
                continue;
            }
            let recipients = named.of(conn, &a)?.into_iter().map(|p| p.address).collect();
            planned.push(Planned {
                ticket_id: t.id.as_uuid(),
                number: t.number.to_string(),
                alert: a,
                recipients,
            });
        }
    }
    Ok((planned, closing))
}
