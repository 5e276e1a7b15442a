//! What happened to a ticket: immutable facts with actor, time and data (DESIGN.md section
//! 3, rule 9). The timeline is the audit trail; nothing updates or deletes an event.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::alert::AlertLevel;
use crate::deadline::{Deadline, DeadlineName, LimitUnit};
use crate::values::AttachmentId;
use crate::values::{
    AlertId, CategoryCode, Channel, ContactMethod, DepartmentId, Disposition, EnterpriseId, Kind,
    RatingLevel, TicketId, TicketNumber, Urgency, UserId, VisitId,
};

use super::cohandling::{CoHandlingAsked, CoHandlingEnd, ReplyDueMoved};
use super::state::CloseReason;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub at: DateTime<Utc>,
    /// `None` for the system (the deadline scanner).
    pub actor_id: Option<UserId>,
    /// The ticket's version once the command that caused this event is applied: one more
    /// than before for a state change, the same for a comment (DESIGN.md rule 11).
    pub version: u64,
    #[serde(flatten)]
    pub data: EventData,
}

/// The three deadlines of a ticket, as set at that moment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    pub accept: Deadline,
    pub contact: Deadline,
    pub resolve: Deadline,
}

/// Everything a new ticket starts with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submitted {
    pub id: TicketId,
    pub number: TicketNumber,
    pub enterprise_id: EnterpriseId,
    pub kind: Kind,
    pub urgency: Urgency,
    pub category: CategoryCode,
    pub title: String,
    pub description: String,
    pub channel: Channel,
    /// The department its category dispatches it to; `None`: the intake queue.
    pub department_id: Option<DepartmentId>,
    pub deadlines: Deadlines,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum EventData {
    Submitted(Box<Submitted>),
    Accepted {
        department_id: Option<DepartmentId>,
        /// `None` when whoever accepted cannot work it there: the department picks it up.
        assignee_id: Option<UserId>,
        urgency: Urgency,
        /// Present when the urgency was corrected: recomputed from the received instant.
        deadlines: Option<Box<Deadlines>>,
    },
    Disposed {
        disposition: Disposition,
        explanation: String,
        duplicate_of: Option<TicketId>,
    },
    Assigned {
        assignee_id: UserId,
    },
    Transferred {
        from_department_id: Option<DepartmentId>,
        to_department_id: DepartmentId,
        reason: String,
    },
    Contacted {
        method: ContactMethod,
        summary: String,
    },
    Commented {
        body: String,
        internal: bool,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachment_ids: Vec<AttachmentId>,
    },
    InfoRequested {
        items: Vec<String>,
        note: Option<String>,
    },
    InfoSupplied {
        body: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachment_ids: Vec<AttachmentId>,
        /// The open deadlines, moved by the pause.
        contact: Deadline,
        resolve: Deadline,
        /// The reply limits of open co-handling requests, moved by the pause (issue 13).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        co_handlers: Vec<ReplyDueMoved>,
    },
    ExtensionRequested {
        amount: u32,
        unit: LimitUnit,
        reason: String,
    },
    ExtensionDecided {
        approve: bool,
        note: Option<String>,
        /// The extended resolve deadline, when approved.
        resolve: Option<Deadline>,
    },
    Resolved {
        result: String,
        /// The rating window that opens (DESIGN.md section 4).
        rating_due: Deadline,
    },
    Explained {
        explanation: String,
        policy_basis: String,
        plan: Option<String>,
        rating_due: Deadline,
    },
    Rated {
        level: RatingLevel,
        comment: Option<String>,
    },
    /// A bad rating sends the ticket back to work (rule 7).
    Reopened {
        contact: Deadline,
        resolve: Deadline,
    },
    /// 提级督办: supervisors (and, from the second bad rating or for an overdue deadline,
    /// the paired leader) take it up.
    Escalated {
        reason: EscalationReason,
        to_paired_leader: bool,
        /// The deadline whose escalation alert this is, for `reason: overdue`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deadline: Option<DeadlineName>,
    },
    Appealed {
        reason: String,
    },
    AppealDecided {
        uphold: bool,
        note: Option<String>,
    },
    Withdrawn {
        reason: String,
    },
    Closed {
        reason: CloseReason,
    },
    AlertAcknowledged {
        alert_id: AlertId,
    },
    /// The deadline scanner recorded an alert (DESIGN.md section 5): it is in the ledger
    /// and its emails are queued. Information on the timeline; it changes nothing.
    Alerted {
        alert_id: AlertId,
        deadline: DeadlineName,
        level: AlertLevel,
        /// The deadline's instant the alert is about.
        due_at: DateTime<Utc>,
        recipients: Vec<UserId>,
    },
    /// 驻厂走访: a liaison's on-site visit took this ticket up (DESIGN.md section 1; issue 8).
    /// Public, so the enterprise reads it in its timeline: rule 8 hides internal comments
    /// and the administration inside government, and a visit is neither: it is a contact
    /// with the enterprise, made at its premises with its people, and the enterprise reads
    /// the visit itself anyway. It changes no state (like a comment, rule 11): meeting the
    /// contact deadline is a `contact` with method `visit`.
    Visit {
        visit_id: VisitId,
        visited_at: DateTime<Utc>,
        purpose: String,
        summary: String,
    },
    /// A file attached to the ticket (issue 11): part of the record, never deleted or
    /// replaced. Like a comment it changes no state (rule 11), and an internal one is
    /// hidden from the enterprise (rule 8).
    AttachmentAdded {
        attachment_id: AttachmentId,
        filename: String,
        content_type: String,
        size: u64,
        sha256: String,
        internal: bool,
    },
    /// A provisional deadline recomputed once its year's calendar was loaded.
    DeadlinesRecomputed {
        deadlines: Box<Deadlines>,
        /// The rating window, when it was provisional too.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rating: Option<Deadline>,
        /// Open co-handling requests' reply limits that moved (issue 13).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        co_handlers: Vec<ReplyDueMoved>,
    },
    /// 协办: the lead asks departments to co-handle (issue 13), each with its reply limit.
    CoHandlersAdded {
        request: String,
        asked: Vec<CoHandlingAsked>,
    },
    /// A co-handling department's opinion; a second one amends the first, whose instant
    /// is the one that counts (issue 13).
    CoHandlerReplied {
        department_id: DepartmentId,
        opinion: String,
    },
    /// Open co-handling requests ended: by the lead's resolve or explain, a withdrawal or
    /// close (recorded as not replied), or a transfer of the lead to the department.
    CoHandlingEnded {
        department_ids: Vec<DepartmentId>,
        reason: CoHandlingEnd,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationReason {
    /// A bad rating reopened the ticket (DESIGN.md rule 7).
    BadRating,
    /// A deadline passed its escalation instant unmet (DESIGN.md section 5).
    Overdue,
}

impl Event {
    /// The event as an actor may read it on the timeline, or `None` when it is hidden
    /// (DESIGN.md rule 8 and section 7: internal entries are hidden from enterprises).
    /// Officials read every event whole.
    pub fn seen_by(&self, actor: &crate::Actor) -> Option<Event> {
        if actor.role() != Some(crate::values::Role::Enterprise) {
            return Some(self.clone());
        }
        let (data, show_actor) = self.data.for_enterprise()?;
        Some(Event {
            actor_id: self.actor_id.filter(|_| show_actor),
            data,
            ..self.clone()
        })
    }
}

impl EventData {
    /// The event's kind as stored and shown, e.g. `info_requested`.
    pub fn kind(&self) -> &'static str {
        use EventData::*;
        match self {
            Submitted(_) => "submitted",
            Accepted { .. } => "accepted",
            Disposed { .. } => "disposed",
            Assigned { .. } => "assigned",
            Transferred { .. } => "transferred",
            Contacted { .. } => "contacted",
            Commented { .. } => "commented",
            InfoRequested { .. } => "info_requested",
            InfoSupplied { .. } => "info_supplied",
            ExtensionRequested { .. } => "extension_requested",
            ExtensionDecided { .. } => "extension_decided",
            Resolved { .. } => "resolved",
            Explained { .. } => "explained",
            Rated { .. } => "rated",
            Reopened { .. } => "reopened",
            Escalated { .. } => "escalated",
            Appealed { .. } => "appealed",
            AppealDecided { .. } => "appeal_decided",
            Withdrawn { .. } => "withdrawn",
            Closed { .. } => "closed",
            AlertAcknowledged { .. } => "alert_acknowledged",
            Alerted { .. } => "alerted",
            DeadlinesRecomputed { .. } => "deadlines_recomputed",
            Visit { .. } => "visit",
            AttachmentAdded { .. } => "attachment_added",
            CoHandlersAdded { .. } => "co_handlers_added",
            CoHandlerReplied { .. } => "co_handler_replied",
            CoHandlingEnded { .. } => "co_handling_ended",
        }
    }

    /// Whether the event changes the ticket's state and so its `version`: comments, visits,
    /// alerts and their acknowledgements do not (DESIGN.md section 3, rule 11).
    pub fn changes_state(&self) -> bool {
        !matches!(
            self,
            EventData::Commented { .. }
                | EventData::AlertAcknowledged { .. }
                | EventData::Alerted { .. }
                | EventData::Visit { .. }
                | EventData::AttachmentAdded { .. }
        )
    }

    /// What an enterprise may read of an event, decided here for every kind at once (no
    /// wildcard: a new kind must be decided): `None` for an internal entry, otherwise the
    /// data it may read and whether it may see who acted (DESIGN.md rule 8; section 7; 北京市
    /// 接诉即办工作条例 Art. 15: the enterprise is told of an extension granted, not of the
    /// supervisor's note on it nor who decided).
    pub fn for_enterprise(&self) -> Option<(EventData, bool)> {
        use EventData::*;
        if self.is_internal() {
            return None;
        }
        let shown = match self {
            ExtensionDecided {
                approve, resolve, ..
            } => (
                ExtensionDecided {
                    approve: *approve,
                    note: None,
                    resolve: resolve.clone(),
                },
                false,
            ),
            // Who co-handles is internal (issue 13): the enterprise reads its own
            // deadlines moved by the pause, not the co-handling departments'.
            InfoSupplied {
                body,
                attachment_ids,
                contact,
                resolve,
                ..
            } => (
                InfoSupplied {
                    body: body.clone(),
                    attachment_ids: attachment_ids.clone(),
                    contact: contact.clone(),
                    resolve: resolve.clone(),
                    co_handlers: Vec::new(),
                },
                true,
            ),
            Submitted(_)
            | Accepted { .. }
            | Disposed { .. }
            | Contacted { .. }
            | Commented { .. }
            | InfoRequested { .. }
            | Resolved { .. }
            | Explained { .. }
            | Rated { .. }
            | Reopened { .. }
            | Withdrawn { .. }
            | Closed { .. }
            | Visit { .. }
            | AttachmentAdded { .. } => (self.clone(), true),
            Assigned { .. }
            | Transferred { .. }
            | ExtensionRequested { .. }
            | Escalated { .. }
            | Appealed { .. }
            | AppealDecided { .. }
            | AlertAcknowledged { .. }
            | Alerted { .. }
            | DeadlinesRecomputed { .. }
            | CoHandlersAdded { .. }
            | CoHandlerReplied { .. }
            | CoHandlingEnded { .. } => return None,
        };
        Some(shown)
    }

    /// Internal entries are hidden from the enterprise (rule 8 and section 7, events):
    /// internal comments, and the administration of the ticket inside government.
    pub fn is_internal(&self) -> bool {
        use EventData::*;
        match self {
            Commented { internal, .. } | AttachmentAdded { internal, .. } => *internal,
            // The enterprise is told of an extension granted, not of one refused (Art. 15).
            ExtensionDecided { approve, .. } => !approve,
            Assigned { .. }
            | Transferred { .. }
            | ExtensionRequested { .. }
            | Escalated { .. }
            | Appealed { .. }
            | AppealDecided { .. }
            | AlertAcknowledged { .. }
            | Alerted { .. }
            | DeadlinesRecomputed { .. }
            | CoHandlersAdded { .. }
            | CoHandlerReplied { .. }
            | CoHandlingEnded { .. } => true,
            _ => false,
        }
    }
}
