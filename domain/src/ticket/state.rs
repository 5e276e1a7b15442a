//! The ticket as it stands, and `evolve`: how each event changes it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::deadline::{Deadline, DeadlineName, LimitUnit};
use crate::values::{
    CategoryCode, Channel, DepartmentId, Disposition, EnterpriseId, Kind, RatingLevel, TicketId,
    TicketNumber, Urgency, UserId,
};

use super::cohandling::{CoHandler, CoHandlingEnd};
use super::event::{Event, EventData, Submitted};
use super::rules::IN_HAND;
use crate::stats::FirstRound;

macro_rules! simple_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($wire => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

simple_enum!(
    /// Where a ticket is in its lifecycle (DESIGN.md section 3).
    Status {
        Submitted = "submitted",
        InProgress = "in_progress",
        AwaitingInfo = "awaiting_info",
        Resolved = "resolved",
        Explained = "explained",
        Closed = "closed",
        Withdrawn = "withdrawn",
    }
);

impl Status {
    /// Closed and withdrawn are final.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Closed | Status::Withdrawn)
    }
}

simple_enum!(
    /// Why a ticket was closed or withdrawn.
    CloseReason {
        Rated = "rated",
        RatingWindowEnded = "rating_window_ended",
        Redirect = "redirect",
        Duplicate = "duplicate",
        OutOfScope = "out_of_scope",
        Withdrawn = "withdrawn",
    }
);

impl From<Disposition> for CloseReason {
    fn from(d: Disposition) -> Self {
        match d {
            Disposition::Redirect => CloseReason::Redirect,
            Disposition::Duplicate => CloseReason::Duplicate,
            Disposition::OutOfScope => CloseReason::OutOfScope,
        }
    }
}

simple_enum!(
    /// A request's decision, while one waits for a supervisor. `Lapsed` is an extension's
    /// only: a request still pending when the ticket is resolved or explained ends
    /// undecided, so that it cannot later extend a redo's deadline (DESIGN.md rule 5: one
    /// extension per ticket, for the round it was asked in; rule 7: allowances are per
    /// ticket, not per redo).
    Decision {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
        Lapsed = "lapsed",
    }
);

/// The ticket's one extension (rule 5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub amount: u32,
    pub unit: LimitUnit,
    pub reason: String,
    pub requested_by: Option<UserId>,
    pub requested_at: DateTime<Utc>,
    pub decision: Decision,
    pub decided_by: Option<UserId>,
    pub note: Option<String>,
}

/// The latest rating (rule 7) and its appeal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    pub level: RatingLevel,
    pub comment: Option<String>,
    pub rated_at: DateTime<Utc>,
    pub appeal: Option<Appeal>,
}

impl Rating {
    /// An upheld appeal removes the rating from the statistics only (rule 7).
    pub fn counts(&self) -> bool {
        !matches!(&self.appeal, Some(a) if a.decision == Decision::Approved)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appeal {
    pub reason: String,
    pub appealed_by: Option<UserId>,
    pub appealed_at: DateTime<Utc>,
    /// `Approved` means upheld.
    pub decision: Decision,
    pub note: Option<String>,
}

/// How the last round of work ended: the enterprise's feedback is the result (rule 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Resolved,
    Explained,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: TicketId,
    pub number: TicketNumber,
    pub enterprise_id: EnterpriseId,
    pub kind: Kind,
    pub urgency: Urgency,
    pub category: CategoryCode,
    pub title: String,
    pub description: String,
    pub status: Status,
    pub channel: Channel,
    pub created_by: Option<UserId>,
    /// 首问负责: set by the first acceptance, never changed (rule 1).
    pub first_responder_id: Option<UserId>,
    pub department_id: Option<DepartmentId>,
    pub assignee_id: Option<UserId>,
    pub accept_due: Deadline,
    pub contact_due: Deadline,
    pub resolve_due: Deadline,
    pub accepted_at: Option<DateTime<Utc>>,
    /// The first contact with the enterprise (rule 8).
    pub contacted_at: Option<DateTime<Utc>>,
    /// The latest resolve or explain.
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Since when the clock has been stopped for missing information (rule 3).
    pub paused_since: Option<DateTime<Utc>>,
    /// 提级督办 (rule 7; DESIGN.md section 5).
    pub supervised: bool,
    /// How many times information was requested (rule 3: once, a supervisor twice).
    pub info_requests: u32,
    pub extension: Option<Extension>,
    pub transfer_count: u32,
    pub redo_count: u32,
    pub close_reason: Option<CloseReason>,
    pub duplicate_of: Option<TicketId>,
    pub outcome: Option<Outcome>,
    pub resolution: Option<String>,
    pub explanation: Option<String>,
    pub policy_basis: Option<String>,
    pub plan: Option<String>,
    /// The rating of the current round of work: `None` until the enterprise rates, and
    /// again after a bad rating reopens the ticket (DESIGN.md rule 7).
    pub rating: Option<Rating>,
    /// The ratings of earlier rounds, oldest first: a redo keeps them in the history.
    #[serde(default)]
    pub past_ratings: Vec<Rating>,
    /// The rating window after the latest resolve or explain: a deadline of its own, so a
    /// window counted through a year without calendar data is provisional and recomputed
    /// with the other deadlines (DESIGN.md section 4).
    pub rating_due: Option<Deadline>,
    /// The first round's deadlines and first outcome, which the statistics judge a ticket
    /// by and a redo would otherwise overwrite (DESIGN.md section 6; `stats::FirstRound`):
    /// kept by `evolve` until a bad rating reopens the ticket. `None` only in a state
    /// stored before it was kept; the store fills it in from the timeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_round: Option<FirstRound>,
    /// 协办: the requests to co-handling departments, oldest first (issue 13). The lead
    /// is `department_id`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub co_handlers: Vec<CoHandler>,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Ticket {
    /// A new ticket from its `submitted` event, at version 1.
    pub fn new(s: &Submitted, at: DateTime<Utc>, created_by: Option<UserId>) -> Ticket {
        // The first version is 1 (DESIGN.md rule 11).
        let mut ticket = Ticket {
            id: s.id,
            number: s.number,
            enterprise_id: s.enterprise_id,
            kind: s.kind,
            urgency: s.urgency,
            category: s.category.clone(),
            title: s.title.clone(),
            description: s.description.clone(),
            status: Status::Submitted,
            channel: s.channel,
            created_by,
            first_responder_id: None,
            department_id: s.department_id,
            assignee_id: None,
            accept_due: s.deadlines.accept.clone(),
            contact_due: s.deadlines.contact.clone(),
            resolve_due: s.deadlines.resolve.clone(),
            accepted_at: None,
            contacted_at: None,
            resolved_at: None,
            closed_at: None,
            paused_since: None,
            supervised: false,
            info_requests: 0,
            extension: None,
            transfer_count: 0,
            redo_count: 0,
            close_reason: None,
            duplicate_of: None,
            outcome: None,
            resolution: None,
            explanation: None,
            policy_basis: None,
            plan: None,
            rating: None,
            past_ratings: Vec::new(),
            rating_due: None,
            first_round: None,
            co_handlers: Vec::new(),
            version: 1,
            created_at: at,
            updated_at: at,
        };
        ticket.first_round = Some(FirstRound::current(&ticket));
        ticket
    }

    /// Rebuilds a ticket from its whole timeline; `None` if it does not start with
    /// `submitted`.
    pub fn replay(events: &[Event]) -> Option<Ticket> {
        let (first, rest) = events.split_first()?;
        let EventData::Submitted(s) = &first.data else {
            return None;
        };
        let ticket = Ticket::new(s, first.at, first.actor_id);
        Some(
            rest.iter()
                .fold(ticket, |t, e| apply(t, std::slice::from_ref(e))),
        )
    }

    /// The ticket as an actor may read it. An enterprise does not see the administration
    /// of its ticket inside government (DESIGN.md rule 8, and section 7: internal entries
    /// are hidden from enterprises): an appeal against its rating, or an extension that was
    /// not granted; it is told of an extension once approved (北京市接诉即办工作条例 Art. 15).
    pub fn as_seen_by(&self, actor: &crate::Actor) -> Ticket {
        let mut seen = self.clone();
        if actor.role() == Some(crate::values::Role::Enterprise) {
            for rating in seen.rating.iter_mut().chain(seen.past_ratings.iter_mut()) {
                rating.appeal = None;
            }
            // Who co-handles is the administration of the ticket inside government.
            seen.co_handlers.clear();
            seen.extension = seen
                .extension
                .filter(|e| e.decision == Decision::Approved)
                .map(|e| Extension {
                    requested_by: None,
                    decided_by: None,
                    note: None,
                    ..e
                });
        }
        seen
    }

    pub fn is_open(&self) -> bool {
        !self.status.is_final()
    }

    pub fn is_paused(&self) -> bool {
        self.paused_since.is_some()
    }

    /// The deadlines the ticket answers for now, by name: accept while it waits to be
    /// accepted, contact and resolve until met, and none once it is resolved, explained,
    /// closed or withdrawn (DESIGN.md sections 4 and 5).
    pub fn open_deadlines(&self) -> Vec<(DeadlineName, &Deadline)> {
        if !IN_HAND.contains(&self.status) {
            return Vec::new();
        }
        [
            (DeadlineName::Accept, &self.accept_due),
            (DeadlineName::Contact, &self.contact_due),
            (DeadlineName::Resolve, &self.resolve_due),
        ]
        .into_iter()
        .filter(|(name, d)| {
            !d.is_met() && (*name != DeadlineName::Accept || self.status == Status::Submitted)
        })
        .collect()
    }

    /// Whether the deadline clock runs at `at`: always, except while the ticket awaits
    /// information, when only what fell due by the instant the pause began counts
    /// (DESIGN.md section 4, "Pause": the clock stops; a deadline that had passed when the
    /// pause began is not moved by it, every later one is).
    pub fn clock_runs_at(&self, at: DateTime<Utc>) -> bool {
        self.paused_since.is_none_or(|since| at <= since)
    }

    /// The names of the deadlines now passed unmet (DESIGN.md section 7, `overdue`). While
    /// the ticket awaits information only a deadline that had passed when the pause began
    /// is overdue: the clock is stopped. The scanner and the `overdue` filter use this one
    /// definition (through [`Ticket::overdue_since`]).
    pub fn overdue(&self, now: DateTime<Utc>) -> Vec<&'static str> {
        self.open_deadlines()
            .into_iter()
            .filter(|(_, d)| d.due_at <= now && self.clock_runs_at(d.due_at))
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// The instant from which the ticket is overdue, if nothing changes: its earliest open
    /// deadline whose clock runs. `overdue(now)` is non-empty exactly when this is at or
    /// before `now`; the list filter stores it in a column.
    pub fn overdue_since(&self) -> Option<DateTime<Utc>> {
        self.open_deadlines()
            .into_iter()
            .map(|(_, d)| d.due_at)
            .filter(|due| self.clock_runs_at(*due))
            .min()
    }

    /// The department's request still open on this ticket, if any (issue 13: at most one).
    pub fn open_co_handler(&self, department: DepartmentId) -> Option<&CoHandler> {
        self.co_handlers
            .iter()
            .find(|c| c.department_id == department && c.is_open())
    }

    /// Whether the department was ever asked to co-handle this ticket: its officers keep
    /// read access to what it co-handled (issue 13).
    pub fn co_handled_by(&self, department: Option<DepartmentId>) -> bool {
        department.is_some_and(|d| self.co_handlers.iter().any(|c| c.department_id == d))
    }

    /// The requests still open, in the order they were made.
    pub fn open_co_handlers(&self) -> impl Iterator<Item = &CoHandler> {
        self.co_handlers.iter().filter(|c| c.is_open())
    }

    /// The latest rating given, of this round or an earlier one: what an appeal concerns.
    pub fn latest_rating(&self) -> Option<&Rating> {
        self.rating.as_ref().or(self.past_ratings.last())
    }

    fn latest_rating_mut(&mut self) -> Option<&mut Rating> {
        self.rating.as_mut().or(self.past_ratings.last_mut())
    }
}

/// Applies the events of one command, in order.
pub fn apply(ticket: Ticket, events: &[Event]) -> Ticket {
    events.iter().fold(ticket, evolve)
}

/// How one event changes a ticket. Pure bookkeeping: every decision was made in `decide`.
pub fn evolve(mut t: Ticket, event: &Event) -> Ticket {
    let at = event.at;
    if event.data.changes_state() {
        t.updated_at = at;
    }
    t.version = t.version.max(event.version);
    match &event.data {
        EventData::Submitted(_) => {}
        EventData::Accepted {
            department_id,
            assignee_id,
            urgency,
            deadlines,
        } => {
            t.status = Status::InProgress;
            t.department_id = *department_id;
            t.assignee_id = *assignee_id;
            // 首问负责: whoever accepts first answers for it until it closes (rule 1).
            if let Some(acceptor) = event.actor_id {
                t.first_responder_id.get_or_insert(acceptor);
            }
            t.urgency = *urgency;
            if let Some(d) = deadlines {
                t.accept_due = d.accept.clone();
                t.contact_due = d.contact.clone();
                t.resolve_due = d.resolve.clone();
            }
            t.accept_due = t.accept_due.met(at);
            t.accepted_at.get_or_insert(at);
        }
        EventData::Disposed {
            disposition,
            duplicate_of,
            ..
        } => {
            t.status = Status::Closed;
            t.close_reason = Some((*disposition).into());
            t.duplicate_of = *duplicate_of;
            t.accept_due = t.accept_due.met(at);
            t.closed_at = Some(at);
        }
        EventData::Assigned { assignee_id } => t.assignee_id = Some(*assignee_id),
        EventData::Transferred {
            to_department_id, ..
        } => {
            t.department_id = Some(*to_department_id);
            t.assignee_id = None;
            t.transfer_count += 1;
        }
        EventData::Contacted { .. } => {
            t.contacted_at.get_or_insert(at);
            t.contact_due = t.contact_due.met(at);
        }
        EventData::Commented { .. }
        | EventData::AlertAcknowledged { .. }
        | EventData::Alerted { .. }
        | EventData::Visit { .. }
        | EventData::AttachmentAdded { .. } => {}
        EventData::InfoRequested { .. } => {
            t.status = Status::AwaitingInfo;
            t.paused_since = Some(at);
            t.info_requests += 1;
        }
        EventData::InfoSupplied {
            contact,
            resolve,
            co_handlers,
            ..
        } => {
            t.status = Status::InProgress;
            t.paused_since = None;
            t.contact_due = contact.clone();
            t.resolve_due = resolve.clone();
            move_reply_dues(&mut t, co_handlers);
        }
        EventData::ExtensionRequested {
            amount,
            unit,
            reason,
        } => {
            t.extension = Some(Extension {
                amount: *amount,
                unit: *unit,
                reason: reason.clone(),
                requested_by: event.actor_id,
                requested_at: at,
                decision: Decision::Pending,
                decided_by: None,
                note: None,
            });
        }
        EventData::ExtensionDecided {
            approve,
            note,
            resolve,
        } => {
            if let Some(ext) = &mut t.extension {
                ext.decision = if *approve {
                    Decision::Approved
                } else {
                    Decision::Rejected
                };
                ext.decided_by = event.actor_id;
                ext.note = note.clone();
            }
            if let Some(resolve) = resolve {
                t.resolve_due = resolve.clone();
            }
        }
        EventData::Resolved { result, rating_due } => {
            t.status = Status::Resolved;
            t.outcome = Some(Outcome::Resolved);
            t.resolution = Some(result.clone());
            finish_round(&mut t, at, rating_due);
        }
        EventData::Explained {
            explanation,
            policy_basis,
            plan,
            rating_due,
        } => {
            t.status = Status::Explained;
            t.outcome = Some(Outcome::Explained);
            t.explanation = Some(explanation.clone());
            t.policy_basis = Some(policy_basis.clone());
            t.plan = plan.clone();
            finish_round(&mut t, at, rating_due);
        }
        EventData::Rated { level, comment } => {
            t.rating = Some(Rating {
                level: *level,
                comment: comment.clone(),
                rated_at: at,
                appeal: None,
            });
        }
        EventData::Reopened { contact, resolve } => {
            // A redo has no current outcome until it is resolved or explained again; the
            // bad rating that reopened it stays in the history (DESIGN.md rule 7).
            t.status = Status::InProgress;
            t.redo_count += 1;
            t.contact_due = contact.clone();
            t.resolve_due = resolve.clone();
            t.rating_due = None;
            t.outcome = None;
            t.resolution = None;
            t.explanation = None;
            t.policy_basis = None;
            t.plan = None;
            t.resolved_at = None;
            if let Some(rating) = t.rating.take() {
                t.past_ratings.push(rating);
            }
        }
        EventData::Escalated { .. } => t.supervised = true,
        EventData::Appealed { reason } => {
            if let Some(rating) = t.latest_rating_mut() {
                rating.appeal = Some(Appeal {
                    reason: reason.clone(),
                    appealed_by: event.actor_id,
                    appealed_at: at,
                    decision: Decision::Pending,
                    note: None,
                });
            }
        }
        EventData::AppealDecided { uphold, note } => {
            if let Some(appeal) = t.latest_rating_mut().and_then(|r| r.appeal.as_mut()) {
                appeal.decision = if *uphold {
                    Decision::Approved
                } else {
                    Decision::Rejected
                };
                appeal.note = note.clone();
            }
        }
        EventData::Withdrawn { .. } => {
            t.status = Status::Withdrawn;
            t.close_reason = Some(CloseReason::Withdrawn);
            t.closed_at = Some(at);
            t.paused_since = None;
        }
        EventData::Closed { reason } => {
            t.status = Status::Closed;
            t.close_reason = Some(*reason);
            t.closed_at = Some(at);
        }
        EventData::DeadlinesRecomputed {
            deadlines,
            rating,
            co_handlers,
        } => {
            t.accept_due = deadlines.accept.clone();
            t.contact_due = deadlines.contact.clone();
            t.resolve_due = deadlines.resolve.clone();
            if rating.is_some() {
                t.rating_due = rating.clone();
            }
            move_reply_dues(&mut t, co_handlers);
        }
        EventData::CoHandlersAdded { request, asked } => {
            for a in asked {
                t.co_handlers.push(CoHandler {
                    department_id: a.department_id,
                    request: request.clone(),
                    requested_by: event.actor_id,
                    requested_at: at,
                    reply_due: a.reply_due.clone(),
                    replied_at: None,
                    reply: None,
                    replied_by: None,
                    amended_at: None,
                    ended_at: None,
                    end_reason: None,
                });
            }
        }
        EventData::CoHandlerReplied {
            department_id,
            opinion,
        } => {
            if let Some(c) = t
                .co_handlers
                .iter_mut()
                .find(|c| c.department_id == *department_id && c.is_open())
            {
                // The first reply is what counts as on time or late (issue 13).
                if c.replied_at.is_some() {
                    c.amended_at = Some(at);
                } else {
                    c.replied_at = Some(at);
                    c.reply_due = c.reply_due.met(at);
                }
                c.reply = Some(opinion.clone());
                c.replied_by = event.actor_id;
            }
        }
        EventData::CoHandlingEnded {
            department_ids,
            reason,
        } => end_co_handlers(&mut t, at, department_ids, *reason),
    }
    // The first round is the one in force until a redo begins (DESIGN.md section 6).
    if t.redo_count == 0 {
        t.first_round = Some(FirstRound::current(&t));
    }
    t
}

/// Puts the moved reply limits of open requests in force.
fn move_reply_dues(t: &mut Ticket, moved: &[super::cohandling::ReplyDueMoved]) {
    for m in moved {
        if let Some(c) = t
            .co_handlers
            .iter_mut()
            .find(|c| c.department_id == m.department_id && c.is_open())
        {
            c.reply_due = m.reply_due.clone();
        }
    }
}

/// Ends the named departments' open requests (issue 13).
fn end_co_handlers(
    t: &mut Ticket,
    at: DateTime<Utc>,
    departments: &[DepartmentId],
    reason: CoHandlingEnd,
) {
    for c in t
        .co_handlers
        .iter_mut()
        .filter(|c| c.is_open() && departments.contains(&c.department_id))
    {
        c.ended_at = Some(at);
        c.end_reason = Some(reason);
    }
}

fn finish_round(t: &mut Ticket, at: DateTime<Utc>, rating_due: &Deadline) {
    // A resolve or explain ends a pending extension request: it lapses (DESIGN.md rule 5).
    if let Some(ext) = t
        .extension
        .as_mut()
        .filter(|e| e.decision == Decision::Pending)
    {
        ext.decision = Decision::Lapsed;
    }
    t.resolved_at = Some(at);
    t.resolve_due = t.resolve_due.met(at);
    t.rating_due = Some(rating_due.clone());
}
