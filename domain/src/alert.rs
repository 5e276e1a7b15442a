//! The alert schedule (DESIGN.md section 5), as pure functions of a ticket, an instant and
//! the calendar: which alerts are due, to whom, under which key, and when the next one
//! could fall due. The shell records each alert once in its ledger (keyed by
//! [`Alert::key`]), queues one email per recipient, and stores [`next_alert_at`] so the
//! scanner reads only tickets with something due.
//!
//! For each open deadline, three levels:
//! 1. 预警 warning, to the assignee and the first responder: for a working-day limit at
//!    00:00 of its last working day; for a clock limit once 80% of its span has run,
//!    pauses excluded.
//! 2. 超期 overdue at the deadline, to them and the department's officers.
//! 3. 督办 escalation, to every supervisor and the enterprise's paired leader: for a
//!    working-day limit at 24:00 of the first working day after its last day; for a clock
//!    limit 2 hours after it.
//!
//! Before the ticket has an assignee its alerts go to the officers of the department it is
//! dispatched to, or to the supervisors while it waits in the intake queue. While it
//! awaits information the clock is stopped: only what fell due by the instant the pause
//! began fires, and the rest waits for the deadlines the pause moves.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::deadline::calendar::{end_of_day, last_day, start_of_day};
use crate::deadline::{Adjustment, Calendar, Deadline, DeadlineName, LimitUnit};
use crate::notice::Audience;
use crate::ticket::{Status, Ticket};
use crate::values::{DepartmentId, TicketId};

/// 预警 warning, 超期 overdue, 督办 escalation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertLevel {
    Warning,
    Overdue,
    Escalation,
}

impl AlertLevel {
    pub const ALL: [AlertLevel; 3] = [
        AlertLevel::Warning,
        AlertLevel::Overdue,
        AlertLevel::Escalation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertLevel::Warning => "warning",
            AlertLevel::Overdue => "overdue",
            AlertLevel::Escalation => "escalation",
        }
    }

    pub fn parse(s: &str) -> Option<AlertLevel> {
        AlertLevel::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// The tag a mail's subject begins with.
    pub fn tag(self) -> &'static str {
        match self {
            AlertLevel::Warning => "【预警】",
            AlertLevel::Overdue => "【超期】",
            AlertLevel::Escalation => "【督办】",
        }
    }

    /// Only an escalation needs acknowledging; the others are information (DESIGN.md
    /// section 5).
    pub fn needs_acknowledging(self) -> bool {
        self == AlertLevel::Escalation
    }
}

/// Whom a deadline binds: the handling department's deadlines, or a co-handling
/// department's reply limit (主办/协办, issue 13), so the ledger's key names the party as
/// well as the deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Party {
    /// The department (or intake queue) handling the ticket, and its assignee.
    Handler,
    /// A co-handling department, for its reply limit.
    CoHandler(DepartmentId),
}

impl Party {
    /// As stored in the ledger's key.
    pub fn as_key(self) -> String {
        match self {
            Party::Handler => "handler".to_owned(),
            Party::CoHandler(department) => format!("co_handler:{department}"),
        }
    }
}

/// Identifies an alert: deciding the same key twice, on one node or on five, records it
/// once (DESIGN.md section 5). A moved deadline is a new due instant, hence a new alert.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AlertKey {
    pub ticket_id: TicketId,
    pub deadline: DeadlineName,
    pub party: Party,
    pub level: AlertLevel,
    pub due_at: DateTime<Utc>,
}

impl AlertKey {
    /// The outbox dedupe key of this alert's mail to one recipient (`who`, e.g.
    /// `user:<id>`): unique per (ticket, deadline, party, level, due instant, recipient).
    pub fn dedupe_key(&self, who: &str) -> String {
        format!(
            "alert:{}:{}:{}:{}:{}:{who}",
            self.ticket_id,
            self.deadline.as_str(),
            self.party.as_key(),
            self.level.as_str(),
            self.due_at.timestamp_micros()
        )
    }
}

/// One alert of a ticket's schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    pub key: AlertKey,
    /// When it falls due.
    pub fires_at: DateTime<Utc>,
    /// Who receives it, as groups the shell resolves to people.
    pub recipients: Vec<Audience>,
}

/// When an alert of `level` falls due for `deadline` (DESIGN.md section 5).
pub fn fires_at(deadline: &Deadline, level: AlertLevel, calendar: &Calendar) -> DateTime<Utc> {
    let due = deadline.due_at;
    match (deadline.limit.unit(), level) {
        (_, AlertLevel::Overdue) => due,
        (LimitUnit::WorkingDays, AlertLevel::Warning) => start_of_day(last_day(due)),
        (LimitUnit::WorkingDays, AlertLevel::Escalation) => {
            end_of_day(calendar.add_working_days(last_day(due), 1).value)
        }
        (LimitUnit::Minutes, AlertLevel::Warning) => clock_warning(deadline),
        (LimitUnit::Minutes, AlertLevel::Escalation) => due + ESCALATION_AFTER_CLOCK_LIMIT,
    }
}

/// A clock limit escalates this long after its deadline (DESIGN.md section 5).
pub const ESCALATION_AFTER_CLOCK_LIMIT: Duration = Duration::hours(2);

/// The instant at which 80% of a clock limit's span (the limit and any extension) has run,
/// not counting the time the clock stood still for missing information (DESIGN.md
/// section 5, "预警").
fn clock_warning(deadline: &Deadline) -> DateTime<Utc> {
    let extended: i64 = deadline
        .adjustments
        .iter()
        .map(|a| match a {
            Adjustment::Extend { amount } => i64::from(*amount),
            Adjustment::Pause { .. } => 0,
        })
        .sum();
    let span_seconds = (i64::from(deadline.limit.amount()) + extended) * 60;
    let mut left = Duration::seconds(span_seconds * 4 / 5);
    let mut pauses: Vec<(DateTime<Utc>, DateTime<Utc>)> = deadline
        .adjustments
        .iter()
        .filter_map(|a| match a {
            Adjustment::Pause { from, to } => Some((*from, *to)),
            Adjustment::Extend { .. } => None,
        })
        .collect();
    pauses.sort();
    let mut at = deadline.started_at;
    for (from, to) in pauses {
        if from > at {
            let running = from - at;
            if running >= left {
                break;
            }
            left -= running;
        }
        at = at.max(to);
    }
    at + left
}

/// Who receives an alert of `level` on a ticket as it stands (DESIGN.md section 5): the
/// people answering for it, then its department's officers, then the supervisors and the
/// enterprise's paired leader. Computed when the alert fires, so after a transfer the new
/// department's officers receive it.
pub fn recipients(ticket: &Ticket, level: AlertLevel) -> Vec<Audience> {
    if level == AlertLevel::Escalation {
        return vec![
            Audience::Supervisors,
            Audience::PairedLeader(ticket.enterprise_id),
        ];
    }
    let mut out: Vec<Audience> = Vec::new();
    for person in [ticket.assignee_id, ticket.first_responder_id]
        .into_iter()
        .flatten()
    {
        if !out.contains(&Audience::User(person)) {
            out.push(Audience::User(person));
        }
    }
    if level == AlertLevel::Overdue || ticket.assignee_id.is_none() {
        out.push(handlers(ticket));
    }
    out
}

/// Who answers for a ticket without an assignee: the officers of the department it is
/// dispatched to, or the supervisors while it waits in the intake queue (DESIGN.md
/// section 5).
pub fn handlers(ticket: &Ticket) -> Audience {
    match ticket.department_id {
        Some(department) => Audience::DepartmentOfficers(department),
        None => Audience::Supervisors,
    }
}

/// Who receives an alert of `level` on a co-handling department's reply limit (issue 13):
/// 预警 its officers; 超期 them and the lead's assignee (the lead's department's officers
/// while it has none); 督办 the supervisors.
pub fn co_handler_recipients(
    ticket: &Ticket,
    department: DepartmentId,
    level: AlertLevel,
) -> Vec<Audience> {
    match level {
        AlertLevel::Warning => vec![Audience::DepartmentOfficers(department)],
        AlertLevel::Overdue => vec![
            Audience::DepartmentOfficers(department),
            match ticket.assignee_id {
                Some(assignee) => Audience::User(assignee),
                None => handlers(ticket),
            },
        ],
        AlertLevel::Escalation => vec![Audience::Supervisors],
    }
}

/// Every alert of the ticket's open deadlines whose clock runs, due or not, soonest first:
/// its own deadlines', and the reply limits of co-handling requests still awaiting a reply
/// (an ended request raises no more alerts, issue 13), on the same ladder.
pub fn schedule(ticket: &Ticket, calendar: &Calendar) -> Vec<Alert> {
    let own = ticket
        .open_deadlines()
        .into_iter()
        .map(|(name, deadline)| (name, Party::Handler, deadline));
    let replies = ticket
        .open_co_handlers()
        .filter(|c| c.awaits_reply() && crate::ticket::rules::IN_HAND.contains(&ticket.status))
        .map(|c| {
            (
                DeadlineName::Reply,
                Party::CoHandler(c.department_id),
                &c.reply_due,
            )
        });
    let mut alerts: Vec<Alert> = own
        .chain(replies)
        .flat_map(|(name, party, deadline)| {
            AlertLevel::ALL
                .into_iter()
                .map(move |level| (name, party, deadline, level))
        })
        .map(|(name, party, deadline, level)| Alert {
            key: AlertKey {
                ticket_id: ticket.id,
                deadline: name,
                party,
                level,
                due_at: deadline.due_at,
            },
            fires_at: fires_at(deadline, level, calendar),
            recipients: match party {
                Party::Handler => recipients(ticket, level),
                Party::CoHandler(department) => co_handler_recipients(ticket, department, level),
            },
        })
        .filter(|a| ticket.clock_runs_at(a.fires_at))
        .collect();
    alerts.sort_by(|a, b| (a.fires_at, &a.key).cmp(&(b.fires_at, &b.key)));
    alerts
}

/// The alerts due at `now`: every one of the schedule that has fired. Some may have been
/// recorded by an earlier pass; the ledger's key makes recording them again a no-op.
pub fn due(ticket: &Ticket, now: DateTime<Utc>, calendar: &Calendar) -> Vec<Alert> {
    schedule(ticket, calendar)
        .into_iter()
        .filter(|a| a.fires_at <= now)
        .collect()
}

/// The earliest instant after `after` at which the scanner has something to do for the
/// ticket: an alert falls due, or its rating window ends (the scanner then closes it
/// unrated, DESIGN.md rule 7). `after = None` counts every alert, fired or not: that is
/// what a command stores, since the scanner may not yet have recorded an alert that fell
/// due before it; the scanner then stores the value after the instant it scanned at.
pub fn next_alert_at(
    ticket: &Ticket,
    after: Option<DateTime<Utc>>,
    calendar: &Calendar,
) -> Option<DateTime<Utc>> {
    let rating_window_end = match ticket.status {
        Status::Resolved | Status::Explained => ticket.rating_due.as_ref().map(|d| d.due_at),
        _ => None,
    };
    schedule(ticket, calendar)
        .into_iter()
        .map(|a| a.fires_at)
        .filter(|at| after.is_none_or(|after| *at > after))
        .chain(rating_window_end)
        .min()
}
