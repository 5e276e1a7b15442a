//! `submit` and `decide`: who may do what, in which state, and what it sets off.

use chrono::{DateTime, Utc};

use crate::actor::{Actor, User};
use crate::deadline::{Deadline, Limit};
use crate::error::DomainError;
use crate::values::{INFO_ITEMS_MAX, Kind, Role, Urgency};

use super::cohandling::{self, CoHandlingAsked, CoHandlingEnd, ReplyDueMoved};
use super::command::{Command, NewTicket};
use super::event::{Deadlines, EscalationReason, Event, EventData, Submitted};
use super::rules::{self, ACCEPTED_OPEN, ANSWERED, IN_HAND, can_see, require_status};
use super::state::{CloseReason, Status, Ticket};
use super::{RATING_WINDOW_WORKING_DAYS, Rules};

/// A new ticket (DESIGN.md sections 1 and 3): an enterprise files for itself, a liaison for
/// an enterprise it is stationed at, an officer or supervisor for any; its category
/// dispatches it; without an urgency it is `general`; its deadlines start now.
pub fn submit(
    new: NewTicket,
    actor: &Actor,
    now: DateTime<Utc>,
    rules: &Rules,
) -> Result<Event, DomainError> {
    let Actor::User(user) = actor else {
        return Err(DomainError::NotPermitted("the system files no tickets"));
    };
    let enterprise_id = filing_enterprise(user, &new)?;
    let department_id = *rules
        .categories
        .get(&new.category)
        .ok_or(DomainError::Refused {
            field: "category",
            code: "unknown_category",
            message: "no such category: GET /v1/categories lists them",
        })?;
    let urgency = new.urgency.unwrap_or(Urgency::General);
    let submitted = Submitted {
        id: new.id,
        number: new.number,
        enterprise_id,
        kind: new.kind,
        urgency,
        category: new.category,
        title: new.title.into_string(),
        description: new.description.into_string(),
        channel: rules::channel_of(user.role),
        department_id,
        deadlines: fresh_deadlines(now, urgency, rules),
    };
    Ok(Event {
        at: now,
        actor_id: Some(user.id),
        version: 1,
        data: EventData::Submitted(Box::new(submitted)),
    })
}

/// Whose ticket it is (DESIGN.md section 1, who may file).
fn filing_enterprise(
    user: &User,
    new: &NewTicket,
) -> Result<crate::values::EnterpriseId, DomainError> {
    let required = DomainError::Refused {
        field: "enterprise_id",
        code: "required",
        message: "name the enterprise the ticket is filed for",
    };
    match user.role {
        Role::Enterprise => {
            let own = user.enterprise_id.ok_or(DomainError::NotPermitted(
                "this enterprise account belongs to no enterprise",
            ))?;
            match new.enterprise_id {
                Some(other) if other != own => Err(DomainError::NotPermitted(
                    "an enterprise files tickets only for itself",
                )),
                _ => Ok(own),
            }
        }
        Role::Liaison => {
            let enterprise = match (new.enterprise_id, user.stationed_at.as_slice()) {
                (Some(e), _) => e,
                (None, [only]) => *only,
                (None, _) => return Err(required),
            };
            if user.is_stationed_at(enterprise) {
                Ok(enterprise)
            } else {
                Err(DomainError::NotPermitted(
                    "a liaison files only for the enterprises it is stationed at",
                ))
            }
        }
        Role::Officer | Role::Supervisor => new.enterprise_id.ok_or(required),
        Role::Admin => Err(admin_refusal()),
    }
}

fn admin_refusal() -> DomainError {
    DomainError::NotPermitted("admins read tickets for support and act on none")
}

/// The three deadlines of a class, counted from `start` (DESIGN.md section 4).
fn fresh_deadlines(start: DateTime<Utc>, urgency: Urgency, rules: &Rules) -> Deadlines {
    let policy = rules.sla.get(urgency);
    Deadlines {
        accept: Deadline::start(start, policy.accept, &rules.calendar),
        contact: Deadline::start(start, policy.contact, &rules.calendar),
        resolve: Deadline::start(start, policy.resolve, &rules.calendar),
    }
}

/// Decides a command on a ticket: the events it causes, or the rule that refuses it. A
/// ticket outside the actor's scope is "not found" whatever the command (DESIGN.md
/// section 1: ids do not leak).
pub fn decide(
    ticket: &Ticket,
    command: Command,
    actor: &Actor,
    now: DateTime<Utc>,
    rules: &Rules,
) -> Result<Vec<Event>, DomainError> {
    if !can_see(actor, ticket) {
        return Err(DomainError::NotFound);
    }
    let data = match actor {
        Actor::System => decide_for_system(ticket, command, now)?,
        Actor::User(user) if user.role == Role::Admin => return Err(admin_refusal()),
        Actor::User(user) => decide_for_user(ticket, command, user, now, rules)?,
    };
    // One command is one version, however many events it causes (DESIGN.md rule 11).
    let changed = data.iter().any(EventData::changes_state);
    let version = ticket.version + u64::from(changed);
    Ok(data
        .into_iter()
        .map(|data| Event {
            at: now,
            actor_id: actor.id(),
            version,
            data,
        })
        .collect())
}

/// The scanner only closes tickets whose rating window ended unrated (DESIGN.md rule 7).
fn decide_for_system(
    ticket: &Ticket,
    command: Command,
    now: DateTime<Utc>,
) -> Result<Vec<EventData>, DomainError> {
    match command {
        Command::CloseUnrated => {
            require_status(ticket, "close", ANSWERED)?;
            rules::rating_window_ended(ticket, now)?;
            let mut events = vec![EventData::Closed {
                reason: CloseReason::RatingWindowEnded,
            }];
            events.extend(end_co_handling(ticket, CoHandlingEnd::Closed));
            Ok(events)
        }
        _ => Err(DomainError::NotPermitted(
            "the system only closes tickets whose rating window ended",
        )),
    }
}

fn only(user: &User, roles: &[Role], message: &'static str) -> Result<(), DomainError> {
    if roles.contains(&user.role) {
        Ok(())
    } else {
        Err(DomainError::NotPermitted(message))
    }
}

fn decide_for_user(
    t: &Ticket,
    command: Command,
    user: &User,
    now: DateTime<Utc>,
    rules: &Rules,
) -> Result<Vec<EventData>, DomainError> {
    use Role::*;
    let action = command.name();
    if rules::co_handler_only(user, t)
        && !matches!(
            command,
            Command::Comment { .. }
                | Command::AddAttachments { .. }
                | Command::ReplyCoHandling { .. }
                | Command::AcknowledgeAlert { .. }
        )
    {
        return Err(DomainError::NotPermitted(
            "a co-handling department comments and replies; the lead department handles the ticket",
        ));
    }
    let events = match command {
        Command::Accept {
            department_id,
            assignee,
            urgency,
            resolve_with,
        } => {
            only(
                user,
                &[Officer, Liaison],
                "only officers and liaisons accept tickets",
            )?;
            require_status(t, action, &[Status::Submitted])?;
            let department_id = rules::accepting_department(t, user, department_id)?;
            let assignee_id = match assignee {
                Some(a) if rules::may_be_assigned(&a, department_id, t) => Some(a.id),
                Some(_) => return Err(assignee_not_eligible()),
                None if rules::may_be_assigned(user, department_id, t) => Some(user.id),
                None => None,
            };
            // An urgency correction recomputes the deadlines from the received instant
            // (DESIGN.md section 3, "Urgency classes").
            let corrected = urgency.filter(|u| *u != t.urgency);
            let deadlines = corrected.map(|u| Box::new(fresh_deadlines(t.created_at, u, rules)));
            let mut events = vec![EventData::Accepted {
                department_id,
                assignee_id,
                urgency: corrected.unwrap_or(t.urgency),
                deadlines,
            }];
            if let Some(result) = resolve_with {
                // 当场办结: consultations may be resolved at acceptance (DESIGN.md section 4).
                if t.kind != Kind::Consultation {
                    return Err(DomainError::Refused {
                        field: "result",
                        code: "only_consultations_resolve_at_acceptance",
                        message: "only a consultation may be resolved at acceptance",
                    });
                }
                events.push(resolved(result.into_string(), now, rules));
                events.extend(end_co_handling(t, CoHandlingEnd::Resolved));
            }
            events
        }
        Command::Dispose {
            disposition,
            explanation,
            duplicate_of,
        } => {
            only(user, &[Officer], "only officers dispose of tickets")?;
            require_status(t, action, &[Status::Submitted])?;
            rules::duplicate_link(t, disposition, duplicate_of)?;
            let mut events = vec![EventData::Disposed {
                disposition,
                explanation: explanation.into_string(),
                duplicate_of,
            }];
            events.extend(end_co_handling(t, CoHandlingEnd::Closed));
            events
        }
        Command::Assign { assignee } => {
            only(
                user,
                &[Officer, Supervisor],
                "only officers and supervisors assign",
            )?;
            require_status(t, action, IN_HAND)?;
            if !rules::may_be_assigned(&assignee, t.department_id, t) {
                return Err(assignee_not_eligible());
            }
            vec![EventData::Assigned {
                assignee_id: assignee.id,
            }]
        }
        Command::Transfer {
            department_id,
            reason,
        } => {
            only(
                user,
                &[Officer, Supervisor],
                "only officers and supervisors transfer",
            )?;
            require_status(t, action, IN_HAND)?;
            rules::may_transfer(user.role, t.transfer_count)?;
            if t.department_id == Some(department_id) {
                return Err(DomainError::SameDepartment);
            }
            let mut events = vec![EventData::Transferred {
                from_department_id: t.department_id,
                to_department_id: department_id,
                reason: reason.into_string(),
            }];
            // The other co-handlers stay; a co-handler that becomes the lead answers for
            // the whole, so its own request ends (issue 13).
            if t.open_co_handler(department_id).is_some() {
                events.push(EventData::CoHandlingEnded {
                    department_ids: vec![department_id],
                    reason: CoHandlingEnd::BecameLead,
                });
            }
            events
        }
        Command::Contact { method, summary } => {
            only(
                user,
                &[Officer, Liaison],
                "only officers and liaisons record contacts",
            )?;
            require_status(t, action, ACCEPTED_OPEN)?;
            vec![EventData::Contacted {
                method,
                summary: summary.into_string(),
            }]
        }
        Command::Comment {
            body,
            internal,
            attachment_ids,
        } => {
            if internal && user.role == Enterprise {
                return Err(DomainError::NotPermitted(
                    "enterprises cannot write internal comments",
                ));
            }
            vec![EventData::Commented {
                body: body.into_string(),
                internal,
                attachment_ids,
            }]
        }
        Command::AddAttachments {
            attachments,
            internal,
        } => add_attachments(attachments, internal, user)?,
        Command::RequestInfo { items, note } => {
            only(
                user,
                &[Officer, Liaison, Supervisor],
                "only officers, liaisons and supervisors request information",
            )?;
            require_status(t, action, &[Status::InProgress])?;
            rules::may_request_info(user.role, t.info_requests)?;
            if items.is_empty() || items.len() > INFO_ITEMS_MAX {
                return Err(DomainError::Refused {
                    field: "items",
                    code: "items_count",
                    message: "list every missing item at once: 1 to 50 items",
                });
            }
            vec![EventData::InfoRequested {
                items: items.into_iter().map(|i| i.into_string()).collect(),
                note: note.map(|n| n.into_string()),
            }]
        }
        Command::SupplyInfo {
            body,
            attachment_ids,
        } => {
            only(
                user,
                &[Enterprise, Liaison],
                "only the enterprise or its liaison supplies information",
            )?;
            require_status(t, action, &[Status::AwaitingInfo])?;
            let since = t.paused_since.unwrap_or(now);
            let resume = |d: &Deadline| {
                if d.is_met() {
                    d.clone()
                } else {
                    d.paused(since, now, &rules.calendar)
                }
            };
            // Reply limits stand still with the ticket's clock (issue 13); one set during
            // the pause stood still from its own start.
            let co_handlers = t
                .open_co_handlers()
                .filter(|c| !c.reply_due.is_met())
                .map(|c| ReplyDueMoved {
                    department_id: c.department_id,
                    reply_due: c.reply_due.paused(
                        since.max(c.reply_due.started_at),
                        now,
                        &rules.calendar,
                    ),
                })
                .collect();
            vec![EventData::InfoSupplied {
                body: body.into_string(),
                attachment_ids,
                contact: resume(&t.contact_due),
                resolve: resume(&t.resolve_due),
                co_handlers,
            }]
        }
        Command::RequestExtension { reason, amount } => {
            only(user, &[Officer], "only officers request extensions")?;
            require_status(t, action, ACCEPTED_OPEN)?;
            rules::may_request_extension(t, amount)?;
            vec![EventData::ExtensionRequested {
                amount,
                unit: t.resolve_due.limit.unit(),
                reason: reason.into_string(),
            }]
        }
        Command::DecideExtension { approve, note } => {
            only(user, &[Supervisor], "only supervisors decide extensions")?;
            require_status(t, action, ACCEPTED_OPEN)?;
            rules::has_pending_extension(t)?;
            let amount = t.extension.as_ref().map_or(0, |e| e.amount);
            vec![EventData::ExtensionDecided {
                approve,
                note: note.map(|n| n.into_string()),
                resolve: approve.then(|| t.resolve_due.extended(amount, &rules.calendar)),
            }]
        }
        Command::Resolve { result } => {
            only(
                user,
                &[Officer, Liaison],
                "only officers and liaisons resolve tickets",
            )?;
            if user.role == Liaison && t.assignee_id != Some(user.id) {
                return Err(DomainError::NotPermitted(
                    "a liaison resolves only the tickets assigned to it",
                ));
            }
            require_status(t, action, &[Status::InProgress])?;
            let mut events = vec![resolved(result.into_string(), now, rules)];
            events.extend(end_co_handling(t, CoHandlingEnd::Resolved));
            events
        }
        Command::Explain {
            explanation,
            policy_basis,
            plan,
        } => {
            only(user, &[Officer], "only officers explain")?;
            require_status(t, action, &[Status::InProgress])?;
            let mut events = vec![EventData::Explained {
                explanation: explanation.into_string(),
                policy_basis: policy_basis.into_string(),
                plan: plan.map(|p| p.into_string()),
                rating_due: rating_window(now, rules),
            }];
            events.extend(end_co_handling(t, CoHandlingEnd::Explained));
            events
        }
        Command::Rate { level, comment } => {
            only(user, &[Enterprise], "only the enterprise rates its ticket")?;
            require_status(t, action, ANSWERED)?;
            rules::within_rating_window(t, now)?;
            let rated = EventData::Rated {
                level,
                comment: comment.map(|c| c.into_string()),
            };
            if level.is_bad() {
                // A bad rating reopens the ticket as a redo with fresh contact and resolve
                // deadlines from the rating, and escalates it (DESIGN.md rule 7).
                let fresh = fresh_deadlines(now, t.urgency, rules);
                vec![
                    rated,
                    EventData::Reopened {
                        contact: fresh.contact,
                        resolve: fresh.resolve,
                    },
                    EventData::Escalated {
                        reason: EscalationReason::BadRating,
                        to_paired_leader: rules::escalates_to_paired_leader(t.redo_count),
                        deadline: None,
                    },
                ]
            } else {
                let mut events = vec![
                    rated,
                    EventData::Closed {
                        reason: CloseReason::Rated,
                    },
                ];
                events.extend(end_co_handling(t, CoHandlingEnd::Closed));
                events
            }
        }
        Command::Appeal { reason } => {
            only(user, &[Officer], "only officers appeal ratings")?;
            let rating = t.latest_rating().ok_or(DomainError::NoRating)?;
            if rating.appeal.is_some() {
                return Err(DomainError::AppealAlreadyFiled);
            }
            vec![EventData::Appealed {
                reason: reason.into_string(),
            }]
        }
        Command::DecideAppeal { uphold, note } => {
            only(user, &[Supervisor], "only supervisors decide appeals")?;
            let pending = t
                .latest_rating()
                .and_then(|r| r.appeal.as_ref())
                .is_some_and(|a| a.decision == super::Decision::Pending);
            if !pending {
                return Err(DomainError::NoPendingAppeal);
            }
            vec![EventData::AppealDecided {
                uphold,
                note: note.map(|n| n.into_string()),
            }]
        }
        Command::Withdraw { reason } => {
            only(
                user,
                &[Enterprise],
                "only the enterprise withdraws its ticket",
            )?;
            require_status(t, action, IN_HAND)?;
            let mut events = vec![EventData::Withdrawn {
                reason: reason.into_string(),
            }];
            events.extend(end_co_handling(t, CoHandlingEnd::Withdrawn));
            events
        }
        Command::CloseUnrated => {
            return Err(DomainError::NotPermitted(
                "only the deadline scanner closes unrated tickets",
            ));
        }
        Command::AddCoHandlers {
            department_ids,
            request,
            due_at,
        } => {
            cohandling::may_add_co_handlers(user, t)?;
            require_status(t, action, ACCEPTED_OPEN)?;
            cohandling::check_departments(t, &department_ids)?;
            let limit = match due_at {
                Some(due_at) => cohandling::reply_limit_until(t, now, due_at, &rules.calendar)?,
                None => cohandling::default_reply_limit(t, now, &rules.calendar),
            };
            let reply_due = Deadline::start(now, limit, &rules.calendar);
            vec![EventData::CoHandlersAdded {
                request: request.into_string(),
                asked: department_ids
                    .into_iter()
                    .map(|department_id| CoHandlingAsked {
                        department_id,
                        reply_due: reply_due.clone(),
                    })
                    .collect(),
            }]
        }
        Command::ReplyCoHandling {
            department_id,
            opinion,
        } => {
            cohandling::may_reply(user, t, department_id)?;
            vec![EventData::CoHandlerReplied {
                department_id,
                opinion: opinion.into_string(),
            }]
        }
        Command::AcknowledgeAlert {
            alert_id,
            recipients,
        } => {
            // An escalation is acknowledged by a recipient or any supervisor (DESIGN.md
            // section 5).
            if user.role != Supervisor && !recipients.contains(&user.id) {
                return Err(DomainError::NotPermitted(
                    "only the alert's recipients or a supervisor acknowledge it",
                ));
            }
            vec![EventData::AlertAcknowledged { alert_id }]
        }
        Command::RecordVisit {
            visit_id,
            visited_at,
            purpose,
            summary,
        } => {
            // A liaison's on-site visit, at an enterprise it is stationed at (DESIGN.md
            // section 1); in any status, like a comment: a visit may follow a closed matter up.
            if !user.is_stationed_at(t.enterprise_id) {
                return Err(DomainError::NotPermitted(
                    "only a liaison stationed at the ticket's enterprise links its visits",
                ));
            }
            vec![EventData::Visit {
                visit_id,
                visited_at,
                purpose,
                summary,
            }]
        }
    };
    Ok(events)
}

fn assignee_not_eligible() -> DomainError {
    DomainError::Refused {
        field: "assignee_id",
        code: "assignee_not_eligible",
        message: "assign an officer of the ticket's department or a liaison stationed at its enterprise",
    }
}

/// Feedback is the result (DESIGN.md rule 6); the rating window opens.
fn resolved(result: String, now: DateTime<Utc>, rules: &Rules) -> EventData {
    EventData::Resolved {
        result,
        rating_due: rating_window(now, rules),
    }
}

/// The rating window: 5 working days after resolve or explain (DESIGN.md section 4), a
/// deadline like the others, provisional on a year without calendar data.
fn rating_window(now: DateTime<Utc>, rules: &Rules) -> Deadline {
    Deadline::start(
        now,
        Limit::working_days(RATING_WINDOW_WORKING_DAYS),
        &rules.calendar,
    )
}

/// Recomputes a ticket's provisional deadlines on the calendar now loaded (DESIGN.md
/// section 4: the one exception to deadlines being snapshots). `None` when nothing moves.
pub fn recompute_provisional(ticket: &Ticket, now: DateTime<Utc>, rules: &Rules) -> Option<Event> {
    let again = |d: &Deadline| {
        if d.provisional {
            d.recomputed(&rules.calendar)
        } else {
            d.clone()
        }
    };
    let deadlines = Deadlines {
        accept: again(&ticket.accept_due),
        contact: again(&ticket.contact_due),
        resolve: again(&ticket.resolve_due),
    };
    // The rating window too (DESIGN.md section 4), while it is still open to a rating.
    let rating = ticket.rating_due.as_ref().map(again);
    // Open co-handling requests' reply limits too (issue 13).
    let co_handlers: Vec<ReplyDueMoved> = ticket
        .open_co_handlers()
        .filter_map(|c| {
            let moved = again(&c.reply_due);
            (moved != c.reply_due).then_some(ReplyDueMoved {
                department_id: c.department_id,
                reply_due: moved,
            })
        })
        .collect();
    let unchanged = deadlines.accept == ticket.accept_due
        && deadlines.contact == ticket.contact_due
        && deadlines.resolve == ticket.resolve_due
        && rating == ticket.rating_due
        && co_handlers.is_empty();
    (!unchanged).then(|| Event {
        at: now,
        actor_id: None,
        version: ticket.version + 1,
        data: EventData::DeadlinesRecomputed {
            deadlines: Box::new(deadlines),
            rating: rating.filter(|r| Some(r) != ticket.rating_due.as_ref()),
            co_handlers,
        },
    })
}

/// Resolving or explaining ends every open co-handling request, recorded as not replied
/// unless it was; so do a withdrawal and a close (issue 13). `None` when none is open.
fn end_co_handling(ticket: &Ticket, reason: CoHandlingEnd) -> Option<EventData> {
    let department_ids: Vec<_> = ticket.open_co_handlers().map(|c| c.department_id).collect();
    (!department_ids.is_empty()).then_some(EventData::CoHandlingEnded {
        department_ids,
        reason,
    })
}

/// Files attached to a ticket (issue 11): anyone in scope who may comment may attach, and,
/// as with comments, only officials mark them internal (DESIGN.md rule 8). One
/// `attachment_added` entry per file.
fn add_attachments(
    attachments: Vec<crate::attachment::NewAttachment>,
    internal: bool,
    user: &User,
) -> Result<Vec<EventData>, DomainError> {
    crate::attachment::check_internal(internal, user.role)?;
    Ok(attachments
        .into_iter()
        .map(|a| EventData::AttachmentAdded {
            attachment_id: a.id,
            filename: a.filename,
            content_type: a.content_type,
            size: a.size,
            sha256: a.sha256,
            internal,
        })
        .collect())
}
