//! 主办/协办: a ticket's lead department and its co-handling departments (issue 13).
//!
//! Sources. The 北京市接诉即办工作条例's provisions on dispatch and handling, as the county
//! reads them: a matter goes to the unit that answers for it, and where it involves
//! several units the units concerned cooperate with the one handling it (协同配合) within
//! the time set, under the platform's supervision (督办), their performance counted in the
//! evaluation (考评). The text could not be checked when this was written, so no article
//! number is cited and the reading is the county's. Its practice (issue 13) fills in the
//! rest: one lead department (主办) answers for the result and alone resolves or explains;
//! co-handling departments (协办) reply with an opinion by a limit; an unanswered request
//! counts against the department asked.
//!
//! Each request is `{department_id, request, reply_due, replied_at?, reply?}` plus its
//! end. A department has at most one open request per ticket; it may be asked again once
//! its request has ended (a redo after a bad rating, say), and each request counts on its
//! own in the statistics.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::actor::User;
use crate::deadline::calendar::{last_day, local_date};
use crate::deadline::{Calendar, Deadline, Limit, LimitUnit};
use crate::error::DomainError;
use crate::values::{CO_HANDLERS_PER_REQUEST_MAX, DepartmentId, Role, UserId};

use super::state::Ticket;

/// Why a co-handling request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoHandlingEnd {
    /// The lead resolved the ticket.
    Resolved,
    /// The lead explained what cannot be done.
    Explained,
    /// The enterprise withdrew the ticket.
    Withdrawn,
    /// The ticket was closed.
    Closed,
    /// The lead was transferred to this department, which now answers for the whole.
    BecameLead,
}

impl CoHandlingEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            CoHandlingEnd::Resolved => "resolved",
            CoHandlingEnd::Explained => "explained",
            CoHandlingEnd::Withdrawn => "withdrawn",
            CoHandlingEnd::Closed => "closed",
            CoHandlingEnd::BecameLead => "became_lead",
        }
    }
}

/// One request to a co-handling department, as it stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoHandler {
    pub department_id: DepartmentId,
    /// What the lead asks of it.
    pub request: String,
    pub requested_by: Option<UserId>,
    pub requested_at: DateTime<Utc>,
    /// The reply limit: a deadline like the ticket's own, so pauses, the calendar and a
    /// provisional year's recompute apply to it; met by the first reply.
    pub reply_due: Deadline,
    /// The first reply: the instant that counts as on time or late.
    pub replied_at: Option<DateTime<Utc>>,
    /// The latest opinion (amended until the request ends).
    pub reply: Option<String>,
    pub replied_by: Option<UserId>,
    /// The latest amendment of the opinion.
    pub amended_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub end_reason: Option<CoHandlingEnd>,
}

/// A request's standing, as shown and counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoHandlingStatus {
    /// Asked, not yet replied.
    Open,
    /// Replied (the opinion may still be amended while the request is open).
    Replied,
    /// Ended without a reply: counted against the department (issue 13).
    NotReplied,
    /// Ended because the department became the lead: counted neither way.
    BecameLead,
}

impl CoHandlingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CoHandlingStatus::Open => "open",
            CoHandlingStatus::Replied => "replied",
            CoHandlingStatus::NotReplied => "not_replied",
            CoHandlingStatus::BecameLead => "became_lead",
        }
    }
}

impl CoHandler {
    /// Open until the lead resolves or explains, the ticket is withdrawn or closed, or the
    /// department becomes the lead.
    pub fn is_open(&self) -> bool {
        self.ended_at.is_none()
    }

    /// Open and not yet replied: the reply limit runs and raises alerts.
    pub fn awaits_reply(&self) -> bool {
        self.is_open() && self.replied_at.is_none()
    }

    pub fn status(&self) -> CoHandlingStatus {
        match (self.replied_at, self.end_reason) {
            (Some(_), _) => CoHandlingStatus::Replied,
            (None, None) => CoHandlingStatus::Open,
            (None, Some(CoHandlingEnd::BecameLead)) => CoHandlingStatus::BecameLead,
            (None, Some(_)) => CoHandlingStatus::NotReplied,
        }
    }

    /// Whether the first reply came by the reply limit; `None` before any reply (issue 13:
    /// the first reply's time is what counts).
    pub fn replied_on_time(&self) -> Option<bool> {
        self.replied_at.map(|at| at <= self.reply_due.due_at)
    }
}

/// One department asked, as the `co_handlers_added` event carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoHandlingAsked {
    pub department_id: DepartmentId,
    pub reply_due: Deadline,
}

/// A request's reply limit moved (by a pause) or recomputed (a provisional year loaded).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyDueMoved {
    pub department_id: DepartmentId,
    pub reply_due: Deadline,
}

/// Who adds co-handlers: the lead department's officers or a supervisor (issue 13; the
/// 条例's lead unit answers for the matter, and the platform's supervisors may bring in
/// the units concerned).
pub fn may_add_co_handlers(user: &User, ticket: &Ticket) -> Result<(), DomainError> {
    let lead_officer = user.role == Role::Officer
        && user.department_id.is_some()
        && user.department_id == ticket.department_id;
    if lead_officer || user.role == Role::Supervisor {
        Ok(())
    } else {
        Err(DomainError::NotPermitted(
            "only the lead department's officers or a supervisor add co-handling departments",
        ))
    }
}

/// Who replies: an officer of the department asked, while its latest request is open; it
/// may amend its opinion until the request ends (issue 13).
pub fn may_reply(
    user: &User,
    ticket: &Ticket,
    department: DepartmentId,
) -> Result<(), DomainError> {
    // The request first: a department never asked names nothing on the ticket (404), as
    // the path's other ids do; the requests are no secret to whoever sees the ticket.
    let latest = ticket
        .co_handlers
        .iter()
        .rev()
        .find(|c| c.department_id == department)
        .ok_or(DomainError::NotCoHandling)?;
    if user.role != Role::Officer || user.department_id != Some(department) {
        return Err(DomainError::NotPermitted(
            "only the co-handling department's officers reply",
        ));
    }
    if latest.is_open() {
        Ok(())
    } else {
        Err(DomainError::CoHandlingEnded)
    }
}

/// The departments asked: one to twenty, each once, never the lead's own department (the
/// lead answers for the whole, so it cannot co-handle its own ticket), and none that has a
/// request still open on the ticket (issue 13).
pub fn check_departments(ticket: &Ticket, departments: &[DepartmentId]) -> Result<(), DomainError> {
    let refuse = |code, message| {
        Err(DomainError::Refused {
            field: "department_ids",
            code,
            message,
        })
    };
    if departments.is_empty() || departments.len() > CO_HANDLERS_PER_REQUEST_MAX {
        return refuse(
            "department_ids_count",
            "name 1 to 20 co-handling departments",
        );
    }
    for (i, d) in departments.iter().enumerate() {
        if departments[..i].contains(d) {
            return refuse("duplicate", "name each department once");
        }
        if ticket.department_id == Some(*d) {
            return refuse(
                "lead_department",
                "a co-handler cannot be the lead's own department",
            );
        }
        if ticket.open_co_handler(*d).is_some() {
            return Err(DomainError::AlreadyCoHandling);
        }
    }
    Ok(())
}

/// The default reply limit (issue 13): half of the resolve limit still left, in the
/// class's unit, at least 1 working day or 60 minutes. "Left" is counted at `now`, or at
/// the start of a pause while the ticket awaits information (the clock stands still).
/// For working days, the days after today up to the resolve deadline's last day.
pub fn default_reply_limit(ticket: &Ticket, now: DateTime<Utc>, calendar: &Calendar) -> Limit {
    let resolve = &ticket.resolve_due;
    let at = ticket.paused_since.unwrap_or(now);
    match resolve.limit.unit() {
        LimitUnit::Minutes => {
            let left = (resolve.due_at - at).num_minutes().max(0);
            let half = u32::try_from(left / 2).unwrap_or(u32::MAX);
            Limit::minutes(half.clamp(MIN_REPLY_MINUTES, MAX_REPLY_MINUTES))
        }
        LimitUnit::WorkingDays => {
            let left = calendar
                .working_days_between(local_date(at), last_day(resolve.due_at))
                .value;
            Limit::working_days((left / 2).clamp(MIN_REPLY_WORKING_DAYS, MAX_REPLY_WORKING_DAYS))
        }
    }
}

/// The least reply limit: 60 minutes, or 1 working day (issue 13).
pub const MIN_REPLY_MINUTES: u32 = 60;
pub const MIN_REPLY_WORKING_DAYS: u32 = 1;
/// The longest a limit may be (the SLA table's own bounds).
const MAX_REPLY_MINUTES: u32 = 43_200;
const MAX_REPLY_WORKING_DAYS: u32 = 60;

/// A reply limit asked for as an instant (`due_at`), in the class's unit so that pauses
/// and the calendar apply as to any deadline: for a clock class the minutes from now,
/// rounded up; for a working-day class the working days from today to the instant's day,
/// so the limit ends at 24:00 of the last working day on or before the day asked for
/// (民法典 Art. 201, 203, as every day limit; DESIGN.md section 4). It must leave at least
/// one minute or one working day.
pub fn reply_limit_until(
    ticket: &Ticket,
    now: DateTime<Utc>,
    due_at: DateTime<Utc>,
    calendar: &Calendar,
) -> Result<Limit, DomainError> {
    let refuse = |message| {
        Err(DomainError::Refused {
            field: "due_at",
            code: "due_at_out_of_range",
            message,
        })
    };
    if due_at <= now {
        return refuse("the reply limit must lie in the future");
    }
    match ticket.resolve_due.limit.unit() {
        LimitUnit::Minutes => {
            let seconds = (due_at - now).num_seconds();
            let minutes = (seconds + 59) / 60;
            match u32::try_from(minutes) {
                Ok(m) if (1..=MAX_REPLY_MINUTES).contains(&m) => Ok(Limit::minutes(m)),
                _ => refuse("a reply limit is at most 30 days"),
            }
        }
        LimitUnit::WorkingDays => {
            // An instant at 00:00 is 24:00 of the day before (DESIGN.md section 4).
            let days = calendar
                .working_days_between(local_date(now), last_day(due_at))
                .value;
            match days {
                0 => refuse("a reply limit leaves at least one working day after today"),
                d if d > MAX_REPLY_WORKING_DAYS => {
                    refuse("a reply limit is at most 60 working days")
                }
                d => Ok(Limit::working_days(d)),
            }
        }
    }
}
