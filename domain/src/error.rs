//! A refused command: which rule refused it, and how the HTTP layer should answer.

use thiserror::Error;

use crate::ticket::Status;
use crate::values::ValueError;

/// How a refusal reads to a client (DESIGN.md section 7, status codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The ticket is not there for this actor (404: ids do not leak).
    NotFound,
    /// The actor may see the ticket but not do this (403).
    Forbidden,
    /// A rule refuses the action in the ticket's current state (409).
    Conflict,
    /// A field's value is not acceptable here (422).
    Invalid,
}

/// A rule said no. `code()` is stable snake_case; `field()` names the input at fault.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum DomainError {
    #[error("ticket not found")]
    NotFound,
    #[error("{0}")]
    NotPermitted(&'static str),
    #[error("cannot {action} a ticket that is {status}")]
    WrongStatus {
        action: &'static str,
        status: Status,
    },
    #[error("information was already requested; only a supervisor may ask a second time")]
    InfoAlreadyRequested,
    #[error("a ticket has at most one extension, and this one has had it")]
    ExtensionAlreadyUsed,
    #[error("there is no extension request waiting for a decision")]
    NoPendingExtension,
    #[error("after two transfers only a supervisor may transfer, designating the department")]
    TransferNeedsSupervisor,
    #[error("the ticket is already in that department")]
    SameDepartment,
    #[error("a dispatched ticket keeps its department when accepted: moving it is a transfer")]
    UseTransfer,
    #[error("the rating window has closed")]
    RatingWindowClosed,
    #[error("the rating window is still open")]
    RatingWindowOpen,
    #[error("there is no rating to appeal")]
    NoRating,
    #[error("this rating has already been appealed")]
    AppealAlreadyFiled,
    #[error("there is no appeal waiting for a decision")]
    NoPendingAppeal,
    #[error("the department already has a co-handling request open on this ticket")]
    AlreadyCoHandling,
    #[error("the department has no co-handling request on this ticket")]
    NotCoHandling,
    #[error("the department's co-handling request has ended")]
    CoHandlingEnded,
    #[error("{field}: {error}")]
    InvalidField {
        field: &'static str,
        error: ValueError,
    },
    #[error("{field}: {message}")]
    Refused {
        field: &'static str,
        code: &'static str,
        message: &'static str,
    },
}

impl DomainError {
    pub fn kind(&self) -> ErrorKind {
        use DomainError::*;
        match self {
            NotFound | NotCoHandling => ErrorKind::NotFound,
            NotPermitted(_) | TransferNeedsSupervisor => ErrorKind::Forbidden,
            InvalidField { .. } | Refused { .. } => ErrorKind::Invalid,
            WrongStatus { .. }
            | InfoAlreadyRequested
            | ExtensionAlreadyUsed
            | NoPendingExtension
            | SameDepartment
            | UseTransfer
            | RatingWindowClosed
            | RatingWindowOpen
            | NoRating
            | AppealAlreadyFiled
            | NoPendingAppeal
            | AlreadyCoHandling
            | CoHandlingEnded => ErrorKind::Conflict,
        }
    }

    pub fn code(&self) -> &'static str {
        use DomainError::*;
        match self {
            NotFound => "not_found",
            NotPermitted(_) => "not_permitted",
            WrongStatus { .. } => "wrong_status",
            InfoAlreadyRequested => "info_already_requested",
            ExtensionAlreadyUsed => "extension_already_used",
            NoPendingExtension => "no_pending_extension",
            TransferNeedsSupervisor => "transfer_needs_supervisor",
            SameDepartment => "same_department",
            RatingWindowClosed => "rating_window_closed",
            RatingWindowOpen => "rating_window_open",
            NoRating => "no_rating",
            AppealAlreadyFiled => "appeal_already_filed",
            NoPendingAppeal => "no_pending_appeal",
            UseTransfer => "use_transfer",
            AlreadyCoHandling => "already_co_handling",
            NotCoHandling => "not_co_handling",
            CoHandlingEnded => "co_handling_ended",
            InvalidField { error, .. } => error.code(),
            Refused { code, .. } => code,
        }
    }

    /// The request field at fault, for the problem's `errors` list.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            DomainError::InvalidField { field, .. } | DomainError::Refused { field, .. } => {
                Some(field)
            }
            _ => None,
        }
    }
}
