//! What an actor asks to do to a ticket. Fields are already parsed value types: a command
//! that exists is well-formed; whether it is allowed is `decide`'s question.

use crate::actor::User;
use crate::values::AttachmentId;
use crate::values::{
    AlertId, Body, CategoryCode, CoHandlingRequest, ContactMethod, DepartmentId, Description,
    Disposition, DispositionExplanation, EnterpriseId, Explanation, InfoItem, Kind, Opinion,
    RatingLevel, Reason, ResultText, TicketId, TicketNumber, Title, Urgency, UserId, VisitId,
};

/// A new ticket. The shell supplies its id (UUID v7) and number (from the year's sequence).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTicket {
    pub id: TicketId,
    pub number: TicketNumber,
    /// Required when an officer, liaison or supervisor files on an enterprise's behalf; an
    /// enterprise user may leave it out (its own enterprise).
    pub enterprise_id: Option<EnterpriseId>,
    pub kind: Kind,
    pub urgency: Option<Urgency>,
    pub category: CategoryCode,
    pub title: Title,
    pub description: Description,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Accept {
        department_id: Option<DepartmentId>,
        /// Who works it; defaults to whoever accepts.
        assignee: Option<User>,
        /// A corrected urgency class: deadlines are recomputed from the received instant.
        urgency: Option<Urgency>,
        /// 当场办结: a consultation answered at acceptance.
        resolve_with: Option<ResultText>,
    },
    Dispose {
        disposition: Disposition,
        explanation: DispositionExplanation,
        duplicate_of: Option<TicketId>,
    },
    Assign {
        assignee: User,
    },
    Transfer {
        department_id: DepartmentId,
        reason: Reason,
    },
    Contact {
        method: ContactMethod,
        summary: Body,
    },
    Comment {
        body: Body,
        internal: bool,
        /// Files already attached to this ticket that the comment refers to (the shell
        /// checked they belong to it and that the actor may name them).
        attachment_ids: Vec<AttachmentId>,
    },
    RequestInfo {
        items: Vec<InfoItem>,
        note: Option<Reason>,
    },
    SupplyInfo {
        body: Body,
        /// The materials supplied, already attached to this ticket (一次性告知, issue 11).
        attachment_ids: Vec<AttachmentId>,
    },
    /// Files stored for this ticket (issue 11); the shell stored them and checked the
    /// per-ticket limit.
    AddAttachments {
        attachments: Vec<crate::attachment::NewAttachment>,
        internal: bool,
    },
    RequestExtension {
        reason: Reason,
        amount: u32,
    },
    DecideExtension {
        approve: bool,
        note: Option<Reason>,
    },
    Resolve {
        result: ResultText,
    },
    Explain {
        explanation: Explanation,
        policy_basis: Reason,
        plan: Option<Body>,
    },
    Rate {
        level: RatingLevel,
        comment: Option<Body>,
    },
    Appeal {
        reason: Reason,
    },
    DecideAppeal {
        uphold: bool,
        note: Option<Reason>,
    },
    Withdraw {
        reason: Reason,
    },
    /// The scanner closes a ticket whose rating window ended unrated (rule 7).
    CloseUnrated,
    /// Put a liaison's on-site visit on the ticket's timeline (`visit::record` decided the
    /// visit itself; the texts were parsed there).
    RecordVisit {
        visit_id: VisitId,
        visited_at: chrono::DateTime<chrono::Utc>,
        purpose: String,
        summary: String,
    },
    /// 协办: ask departments to co-handle (issue 13); the shell checked they exist. Without
    /// `due_at` the reply limit is the default (`cohandling::default_reply_limit`).
    AddCoHandlers {
        department_ids: Vec<DepartmentId>,
        request: CoHandlingRequest,
        due_at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// A co-handling department's opinion, or its amendment (issue 13).
    ReplyCoHandling {
        department_id: DepartmentId,
        opinion: Opinion,
    },
    /// Acknowledge an escalation; `recipients` are the alert's addressees.
    AcknowledgeAlert {
        alert_id: AlertId,
        recipients: Vec<UserId>,
    },
}

impl Command {
    /// The verb, for messages such as "cannot resolve a ticket that is closed".
    pub fn name(&self) -> &'static str {
        match self {
            Command::Accept { .. } => "accept",
            Command::Dispose { .. } => "dispose",
            Command::Assign { .. } => "assign",
            Command::Transfer { .. } => "transfer",
            Command::Contact { .. } => "record a contact on",
            Command::Comment { .. } => "comment on",
            Command::RequestInfo { .. } => "request information on",
            Command::SupplyInfo { .. } => "supply information to",
            Command::RequestExtension { .. } => "request an extension of",
            Command::DecideExtension { .. } => "decide an extension of",
            Command::Resolve { .. } => "resolve",
            Command::Explain { .. } => "explain",
            Command::Rate { .. } => "rate",
            Command::Appeal { .. } => "appeal the rating of",
            Command::DecideAppeal { .. } => "decide an appeal on",
            Command::Withdraw { .. } => "withdraw",
            Command::CloseUnrated => "close",
            Command::AcknowledgeAlert { .. } => "acknowledge an alert on",
            Command::RecordVisit { .. } => "link a visit to",
            Command::AddAttachments { .. } => "attach files to",
            Command::AddCoHandlers { .. } => "add co-handlers to",
            Command::ReplyCoHandling { .. } => "reply as a co-handler on",
        }
    }
}
