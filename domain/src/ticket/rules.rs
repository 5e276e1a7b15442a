//! The rules of DESIGN.md sections 1 and 3, one small function each.

use chrono::{DateTime, Utc};

use crate::actor::{Actor, User};
use crate::error::DomainError;
use crate::values::{Channel, DepartmentId, Disposition, Role, TicketId};

use super::state::{Decision, Status, Ticket};

/// Nobody sees a ticket outside their scope (DESIGN.md section 1): an enterprise its own
/// enterprise's; a liaison those of the enterprises it is stationed at, and those assigned
/// to it; an officer the intake queue (no department yet), its department's, and those it
/// is assigned to or first responded to; supervisors and admins everything.
pub fn can_see(actor: &Actor, ticket: &Ticket) -> bool {
    let Actor::User(user) = actor else {
        return true;
    };
    match user.role {
        Role::Enterprise => user.enterprise_id == Some(ticket.enterprise_id),
        Role::Liaison => {
            user.is_stationed_at(ticket.enterprise_id) || ticket.assignee_id == Some(user.id)
        }
        Role::Officer => {
            handles_as_officer(user, ticket) || ticket.co_handled_by(user.department_id)
        }
        Role::Supervisor | Role::Admin => true,
    }
}

/// An officer's scope as a handler (DESIGN.md section 1): the intake queue, its
/// department's tickets, and those it is assigned to or first responded to.
fn handles_as_officer(user: &User, ticket: &Ticket) -> bool {
    ticket.department_id.is_none()
        || ticket.department_id == user.department_id
        || ticket.assignee_id == Some(user.id)
        || ticket.first_responder_id == Some(user.id)
}

/// An officer who sees the ticket only because its department co-handles it (协办, issue
/// 13): it reads the ticket, comments, attaches, replies with its opinion and acknowledges
/// its alerts, and does nothing that is the lead's (only the lead resolves or explains:
/// the lead department answers for the result).
pub fn co_handler_only(user: &User, ticket: &Ticket) -> bool {
    user.role == Role::Officer
        && !handles_as_officer(user, ticket)
        && ticket.co_handled_by(user.department_id)
}

/// The department a ticket is accepted into (DESIGN.md section 7, `accept`; issue 8): a
/// dispatched ticket keeps its department, since moving it is a transfer, with a reason
/// and a count (rule 4); from the intake queue an officer accepts into its own department
/// and a liaison names the department it takes the ticket to.
pub fn accepting_department(
    ticket: &Ticket,
    user: &User,
    asked: Option<DepartmentId>,
) -> Result<Option<DepartmentId>, DomainError> {
    let refuse = |code, message| {
        Err(DomainError::Refused {
            field: "department_id",
            code,
            message,
        })
    };
    match (ticket.department_id, user.role) {
        (Some(dispatched), _) => match asked {
            Some(other) if other != dispatched => Err(DomainError::UseTransfer),
            _ => Ok(Some(dispatched)),
        },
        (None, Role::Officer) => match (asked, user.department_id) {
            (_, None) => Err(DomainError::NotPermitted(
                "an officer without a department cannot accept from the intake queue",
            )),
            (Some(other), Some(own)) if other != own => refuse(
                "not_own_department",
                "an officer accepts a ticket from the intake queue into its own department",
            ),
            (_, own) => Ok(own),
        },
        (None, _) => match asked {
            Some(department) => Ok(Some(department)),
            None => refuse(
                "required",
                "name the department the ticket is taken to from the intake queue",
            ),
        },
    }
}

/// Who may be assigned a ticket: an officer of its department (any officer while it has
/// none), or a liaison stationed at its enterprise (DESIGN.md section 1).
pub fn may_be_assigned(
    user: &User,
    ticket_department: Option<DepartmentId>,
    ticket: &Ticket,
) -> bool {
    match user.role {
        Role::Officer => {
            user.department_id.is_some()
                && (ticket_department.is_none() || ticket_department == user.department_id)
        }
        Role::Liaison => user.is_stationed_at(ticket.enterprise_id),
        _ => false,
    }
}

/// The channel follows who filed (DESIGN.md section 1): liaisons file as `liaison`,
/// officers on the hotline, supervisors through supervision, enterprises online.
pub fn channel_of(role: Role) -> Channel {
    match role {
        Role::Liaison => Channel::Liaison,
        Role::Officer => Channel::Hotline,
        Role::Supervisor | Role::Admin => Channel::Supervision,
        Role::Enterprise => Channel::Online,
    }
}

/// 一次性告知: an officer or liaison asks once per ticket; only a supervisor may ask a
/// second time, and nobody a third (优化营商环境条例 Art. 36; DESIGN.md rule 3).
pub fn may_request_info(role: Role, requests_so_far: u32) -> Result<(), DomainError> {
    match (requests_so_far, role) {
        (0, _) => Ok(()),
        (1, Role::Supervisor) => Ok(()),
        _ => Err(DomainError::InfoAlreadyRequested),
    }
}

/// A duplicate links the ticket it duplicates, and only a duplicate does (北京市接诉即办
/// 工作条例 Art. 11; DESIGN.md rule 2).
pub fn duplicate_link(
    ticket: &Ticket,
    disposition: Disposition,
    duplicate_of: Option<TicketId>,
) -> Result<(), DomainError> {
    let refuse = |code, message| {
        Err(DomainError::Refused {
            field: "duplicate_of",
            code,
            message,
        })
    };
    match (disposition, duplicate_of) {
        (Disposition::Duplicate, None) => refuse("required", "name the ticket this one duplicates"),
        (Disposition::Duplicate, Some(id)) if id == ticket.id => {
            refuse("duplicate_of_self", "a ticket cannot duplicate itself")
        }
        (Disposition::Duplicate, Some(_)) | (_, None) => Ok(()),
        (_, Some(_)) => refuse(
            "only_for_duplicates",
            "duplicate_of is given only with the disposition duplicate",
        ),
    }
}

/// Transfers: after two, the next one needs a supervisor, who designates the department
/// (DESIGN.md rule 4).
pub fn may_transfer(role: Role, transfers_so_far: u32) -> Result<(), DomainError> {
    if transfers_so_far >= 2 && role != Role::Supervisor {
        Err(DomainError::TransferNeedsSupervisor)
    } else {
        Ok(())
    }
}

/// Extensions: at most one per ticket (requested once, whatever its decision), for at most
/// the class's resolve limit again (北京市接诉即办工作条例 Art. 15; DESIGN.md rule 5).
pub fn may_request_extension(ticket: &Ticket, amount: u32) -> Result<(), DomainError> {
    if ticket.extension.is_some() {
        return Err(DomainError::ExtensionAlreadyUsed);
    }
    let limit = ticket.resolve_due.limit;
    if amount == 0 || amount > limit.amount() {
        return Err(DomainError::Refused {
            field: "amount",
            code: "extension_out_of_range",
            message: "an extension is at least 1 and at most the class's resolve limit, in its unit",
        });
    }
    Ok(())
}

pub fn has_pending_extension(ticket: &Ticket) -> Result<(), DomainError> {
    match &ticket.extension {
        Some(ext) if ext.decision == Decision::Pending => Ok(()),
        _ => Err(DomainError::NoPendingExtension),
    }
}

/// 好差评 is given within the rating window after resolve or explain (DESIGN.md rule 7).
pub fn within_rating_window(ticket: &Ticket, now: DateTime<Utc>) -> Result<(), DomainError> {
    match &ticket.rating_due {
        Some(due) if now < due.due_at => Ok(()),
        _ => Err(DomainError::RatingWindowClosed),
    }
}

/// The scanner closes an unrated ticket only once its window has ended (DESIGN.md rule 7).
pub fn rating_window_ended(ticket: &Ticket, now: DateTime<Utc>) -> Result<(), DomainError> {
    match &ticket.rating_due {
        Some(due) if now >= due.due_at => Ok(()),
        _ => Err(DomainError::RatingWindowOpen),
    }
}

/// A second bad rating also escalates to the enterprise's paired leader (包联领导;
/// DESIGN.md rule 7). `redo_count` is the count before this rating's redo.
pub fn escalates_to_paired_leader(redo_count_before: u32) -> bool {
    redo_count_before >= 1
}

/// The statuses in which a command may act (DESIGN.md section 3 diagram).
pub fn require_status(
    ticket: &Ticket,
    action: &'static str,
    allowed: &[Status],
) -> Result<(), DomainError> {
    if allowed.contains(&ticket.status) {
        Ok(())
    } else {
        Err(DomainError::WrongStatus {
            action,
            status: ticket.status,
        })
    }
}

/// Open work: states from which the enterprise may still withdraw (DESIGN.md rule 10) and
/// in which the ticket is still being handled.
pub const IN_HAND: &[Status] = &[Status::Submitted, Status::InProgress, Status::AwaitingInfo];
/// Accepted and not yet answered.
pub const ACCEPTED_OPEN: &[Status] = &[Status::InProgress, Status::AwaitingInfo];
/// Answered, inside the rating window.
pub const ANSWERED: &[Status] = &[Status::Resolved, Status::Explained];
