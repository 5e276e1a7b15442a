//! 驻厂走访 (六必访): a liaison's on-site visit to an enterprise it is stationed at, linked
//! to the tickets it touched (DESIGN.md section 1, the liaison's row; section 3, rule 8).
//!
//! A visit is a record of its own, not a ticket command: `record` says whether the liaison
//! may record it, `may_link` whether a ticket may be linked, and each linked ticket gets a
//! `visit` event through `Command::RecordVisit` (which changes no version).

use chrono::{DateTime, Duration, Utc};

use crate::actor::{Actor, User};
use crate::error::DomainError;
use crate::ticket::{Ticket, can_see};
use crate::values::{
    DESCRIPTION_MAX, EnterpriseId, Role, TITLE_MAX, Text, TicketId, UserId, ValueError, VisitId,
};

/// At most this many tickets linked to one visit: a visit touches a few matters, and the
/// whole visit is one transaction that locks each linked ticket.
pub const MAX_LINKED_TICKETS: usize = 20;

/// How far in the future `visited_at` may lie: the clock skew of a liaison's phone, not a
/// way to record visits planned ahead.
pub const FUTURE_TOLERANCE: Duration = Duration::minutes(5);

/// Why the liaison went: one line, with a ticket title's limits (1–200 characters; `Text`
/// refuses control characters and line breaks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Purpose(Text<1, TITLE_MAX>);

impl Purpose {
    pub fn parse(raw: &str) -> Result<Purpose, ValueError> {
        Text::parse(raw).map(Purpose)
    }

    pub fn into_string(self) -> String {
        self.0.into_string()
    }
}

/// What was seen and agreed: long text with a ticket description's limits (1–10,000
/// characters); line breaks and tabs allowed, other control characters not (`Text`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary(Text<1, DESCRIPTION_MAX>);

impl Summary {
    pub fn parse(raw: &str) -> Result<Summary, ValueError> {
        Text::parse(raw).map(Summary)
    }

    pub fn into_string(self) -> String {
        self.0.into_string()
    }
}

/// A visit as the liaison reports it, already parsed. The shell supplies its id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewVisit {
    pub id: VisitId,
    pub enterprise_id: EnterpriseId,
    pub visited_at: DateTime<Utc>,
    pub purpose: Purpose,
    pub summary: Summary,
    /// Distinct, at most [`MAX_LINKED_TICKETS`] (checked where the request is parsed).
    pub ticket_ids: Vec<TicketId>,
}

/// A visit as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Visit {
    pub id: VisitId,
    pub enterprise_id: EnterpriseId,
    pub liaison_id: UserId,
    pub visited_at: DateTime<Utc>,
    pub purpose: String,
    pub summary: String,
    pub ticket_ids: Vec<TicketId>,
    pub created_at: DateTime<Utc>,
}

/// Records a visit: only a liaison, only at an enterprise it is stationed at (DESIGN.md
/// section 1), and not in the future. Another role, or another enterprise, is 403
/// `not_permitted` as for filing a ticket there: the answer is the same whether the
/// enterprise exists or not, so it leaks nothing.
pub fn record(new: NewVisit, actor: &Actor, now: DateTime<Utc>) -> Result<Visit, DomainError> {
    let user = may_record(actor)?;
    if !user.is_stationed_at(new.enterprise_id) {
        return Err(DomainError::NotPermitted(
            "a liaison records visits only at the enterprises it is stationed at",
        ));
    }
    if new.visited_at > now + FUTURE_TOLERANCE {
        return Err(DomainError::Refused {
            field: "visited_at",
            code: "in_future",
            message: "a visit is recorded once it has happened: visited_at is in the future",
        });
    }
    Ok(Visit {
        id: new.id,
        enterprise_id: new.enterprise_id,
        liaison_id: user.id,
        visited_at: new.visited_at,
        purpose: new.purpose.into_string(),
        summary: new.summary.into_string(),
        ticket_ids: new.ticket_ids,
        created_at: now,
    })
}

/// Only liaisons record on-site visits (DESIGN.md section 1, rule 8).
pub fn may_record(actor: &Actor) -> Result<&User, DomainError> {
    match actor {
        Actor::User(user) if user.role == Role::Liaison => Ok(user),
        _ => Err(DomainError::NotPermitted("only liaisons record visits")),
    }
}

/// A visit links tickets of the enterprise visited that its liaison can see.
pub fn may_link(visit: &Visit, ticket: &Ticket, actor: &Actor) -> bool {
    ticket.enterprise_id == visit.enterprise_id && can_see(actor, ticket)
}

/// Who sees a visit (issue 8): the enterprise its own; a liaison those at the enterprises
/// it is stationed at; supervisors and admins all; an officer those linked to a ticket it
/// can see (`linked` are the visit's tickets). The list's SQL says the same.
pub fn can_see_visit(actor: &Actor, visit: &Visit, linked: &[Ticket]) -> bool {
    let Actor::User(user) = actor else {
        return true;
    };
    match user.role {
        Role::Enterprise => user.enterprise_id == Some(visit.enterprise_id),
        Role::Liaison => user.is_stationed_at(visit.enterprise_id),
        Role::Supervisor | Role::Admin => true,
        Role::Officer => linked.iter().any(|t| can_see(actor, t)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purpose_is_one_line_and_summary_keeps_line_breaks() {
        assert!(Purpose::parse("六必访：新开工").is_ok());
        for bad in [
            "a\u{0}b", "a\nb", "a\tb", "a\u{1b}b", "a\u{85}b", "a\u{7f}b",
        ] {
            assert_eq!(
                Purpose::parse(bad).map_err(|e| e.code()),
                Err("control_character"),
                "{bad:?}"
            );
        }
        assert!(Summary::parse("第一行\n第二行\r\n\t缩进").is_ok());
        for bad in ["a\u{0}b", "a\u{1b}b", "a\u{9f}b", "a\u{7}b"] {
            assert_eq!(
                Summary::parse(bad).map_err(|e| e.code()),
                Err("control_character"),
                "{bad:?}"
            );
        }
        assert_eq!(Purpose::parse("  ").map_err(|e| e.code()), Err("blank"));
        assert_eq!(
            Purpose::parse(&"字".repeat(TITLE_MAX + 1)).map_err(|e| e.code()),
            Err("too_long")
        );
        assert!(Summary::parse(&"字".repeat(DESCRIPTION_MAX)).is_ok());
    }
}
