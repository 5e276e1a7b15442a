//! Ticket use cases: each one transaction in `jiban_persistence::tickets`, with the rules
//! from the node's cache and the public address for links in emails.

use chrono::{DateTime, Utc};
use jiban_domain::Actor;
use jiban_domain::ticket::{Command, Ticket};
use jiban_domain::values::{TicketId, UserId};
use jiban_persistence::repo::users;
use jiban_persistence::tickets::{
    self, Context, Created, Idempotency, Page, StoredEvent, TicketError, TicketFilter, TicketInput,
};
use jiban_persistence::{DbConnection, StoreError};

use crate::problem::{ApiError, FieldError};
use crate::rules::RulesCache;
use crate::state::AppState;

impl From<TicketError> for ApiError {
    fn from(e: TicketError) -> Self {
        match e {
            TicketError::Domain(e) => e.into(),
            TicketError::VersionMismatch { current } => ApiError::new(
                actix_web::http::StatusCode::PRECONDITION_FAILED,
                "version_mismatch",
                format!(
                    "the ticket has changed since you read it: it is at version {current}; \
                     reload it and decide again"
                ),
            ),
            TicketError::IdempotencyMismatch => ApiError::invalid(vec![FieldError::parameter(
                "Idempotency-Key",
                "idempotency_key_reused",
                "this Idempotency-Key was already used with a different request",
            )]),
            TicketError::Store(e) => e.into(),
        }
    }
}

/// Everything a ticket use case needs besides the connection.
pub struct Env<'a> {
    pub rules: &'a RulesCache,
    pub public_url: &'a str,
    pub enterprise_ticket_url: Option<&'a str>,
}

impl Env<'_> {
    /// The node's ticket settings, as every handler passes them.
    pub fn of(state: &AppState) -> Env<'_> {
        Env {
            rules: &state.rules,
            public_url: &state.public_url,
            enterprise_ticket_url: state.enterprise_ticket_url.as_deref(),
        }
    }

    pub(crate) fn context<'r>(&'r self, rules: &'r jiban_domain::ticket::Rules) -> Context<'r> {
        Context {
            rules,
            public_url: self.public_url,
            enterprise_ticket_url: self.enterprise_ticket_url,
        }
    }
}

pub fn create(
    conn: &mut DbConnection,
    env: &Env<'_>,
    input: TicketInput,
    actor: &Actor,
    now: DateTime<Utc>,
    idempotency: Option<(String, String)>,
) -> Result<Created, ApiError> {
    let rules = env.rules.get(conn)?;
    let ctx = env.context(&rules);
    let key = idempotency
        .as_ref()
        .map(|(key, fingerprint)| Idempotency { key, fingerprint });
    Ok(tickets::create(conn, input, actor, now, ctx, key)?)
}

/// A command on a ticket. `expected_version` is the client's `If-Match`.
pub fn act(
    conn: &mut DbConnection,
    env: &Env<'_>,
    id: TicketId,
    expected_version: Option<u64>,
    command: Command,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Ticket, ApiError> {
    named_things_exist(conn, id, &command, actor)?;
    let rules = env.rules.get(conn)?;
    let ctx = env.context(&rules);
    Ok(tickets::execute(
        conn,
        id,
        expected_version,
        command,
        actor,
        now,
        ctx,
    )?)
}

/// What a command names besides its ticket must exist, and a ticket it names must be one
/// the actor may see: a 422 naming the field, never a 409 from a foreign key nor an
/// oracle for tickets out of scope (issue 8). Call after the ticket's own scope check.
fn named_things_exist(
    conn: &mut DbConnection,
    id: TicketId,
    command: &Command,
    actor: &Actor,
) -> Result<(), ApiError> {
    match command {
        Command::Comment {
            attachment_ids,
            internal,
            ..
        } => super::attachments::check_named(conn, id, attachment_ids, !internal, actor)?,
        Command::SupplyInfo { attachment_ids, .. } => {
            super::attachments::check_named(conn, id, attachment_ids, true, actor)?
        }
        _ => {}
    }
    let department = match command {
        Command::Accept {
            department_id: Some(d),
            ..
        }
        | Command::Transfer {
            department_id: d, ..
        } => Some(*d),
        _ => None,
    };
    if let Some(d) = department
        && !jiban_persistence::repo::departments::exists(conn, d)?
    {
        return Err(ApiError::invalid_field(
            "/department_id",
            "unknown_department",
            "no department has this id",
        ));
    }
    if let Command::AddCoHandlers { department_ids, .. } = command {
        let known = jiban_persistence::repo::departments::existing(conn, department_ids)?;
        let unknown: Vec<FieldError> = department_ids
            .iter()
            .enumerate()
            .filter(|(_, d)| !known.contains(d))
            .map(|(i, _)| {
                FieldError::body(
                    format!("/department_ids/{i}"),
                    "unknown_department",
                    "no department has this id",
                )
            })
            .collect();
        if !unknown.is_empty() {
            return Err(ApiError::invalid(unknown));
        }
    }
    if let Command::Dispose {
        duplicate_of: Some(other),
        ..
    } = command
    {
        match tickets::get(conn, *other, actor) {
            Ok(_) => {}
            Err(tickets::TicketError::Domain(jiban_domain::DomainError::NotFound)) => {
                return Err(ApiError::invalid_field(
                    "/duplicate_of",
                    "unknown_ticket",
                    "no ticket you may see has this id",
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// The user named by `assignee_id`, as the rules see them: 422 when there is no such
/// active user.
pub fn assignee(conn: &mut DbConnection, id: UserId) -> Result<jiban_domain::User, ApiError> {
    match users::principal(conn, id)? {
        Some(p) if p.active => Ok(p.user),
        _ => Err(ApiError::invalid_field(
            "/assignee_id",
            "unknown_user",
            "no active user has this id",
        )),
    }
}

pub fn get(conn: &mut DbConnection, id: TicketId, actor: &Actor) -> Result<Ticket, ApiError> {
    Ok(tickets::get(conn, id, actor)?)
}

/// A page of the timeline by `seq`, and the `seq` the next page starts after.
pub fn events(
    conn: &mut DbConnection,
    id: TicketId,
    actor: &Actor,
    limit: i64,
    after_seq: Option<i32>,
) -> Result<(Vec<StoredEvent>, Option<i32>), ApiError> {
    Ok(tickets::events(conn, id, actor, limit, after_seq)?)
}

pub fn list(
    conn: &mut DbConnection,
    actor: &Actor,
    filter: &TicketFilter,
    limit: i64,
    after: Option<tickets::Cursor>,
    now: DateTime<Utc>,
) -> Result<Page, StoreError> {
    tickets::list(conn, actor, filter, limit, after, now)
}

/// The tickets changed after `after` (the change feed); the route checks the role.
pub fn changes(
    conn: &mut DbConnection,
    after: tickets::FeedCursor,
    limit: i64,
) -> Result<(Vec<tickets::Change>, tickets::FeedCursor), ApiError> {
    Ok(tickets::changes(conn, after, limit)?)
}
