//! The notifications a command's events imply, queued in the outbox inside the command's
//! transaction: one row per recipient, deduplicated by (ticket, event, recipient). No email
//! is sent inside a request (DESIGN.md section 2).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use jiban_domain::notice::{Audience, NoticeContext, notices_for};
use jiban_domain::ticket::{Event, Ticket};
use jiban_domain::values::Role;

use super::store::Context;
use crate::conn::DbConnection;
use crate::error::StoreError;
use crate::outbox::{self, NewMessage, OutboxKind};
use crate::schema::{enterprises, users};
use crate::types::DbUuid;

/// Queues the notices of `events`, the first of which is the ticket's event `first_seq`;
/// `actor_role` is the role of whoever caused them (`None`: the system).
pub(crate) fn enqueue(
    conn: &mut DbConnection,
    ticket: &Ticket,
    first_seq: i32,
    events: &[Event],
    actor_role: Option<Role>,
    now: DateTime<Utc>,
    ctx: Context<'_>,
) -> Result<(), StoreError> {
    let official = official_link(ctx, ticket);
    let enterprise = enterprise_link(ctx, ticket);
    let mut enterprise_name = None;
    let mut messages = Vec::new();
    for (event, seq) in events.iter().zip(first_seq..) {
        // Most events notify nobody: look the enterprise's name up only when needed.
        if !jiban_domain::notice::notifies(&event.data) {
            continue;
        }
        let name = match &enterprise_name {
            Some(name) => name,
            None => enterprise_name.insert(name_of(conn, ticket)?),
        };
        let ctx = NoticeContext {
            enterprise_name: name,
            official_link: &official,
            enterprise_link: enterprise.as_deref(),
            actor_role,
        };
        for notice in notices_for(event, ticket, &ctx) {
            for who in recipients(conn, &notice.audience)? {
                messages.push(NewMessage {
                    dedupe_key: dedupe_key(ticket, seq, &who.key),
                    kind: OutboxKind::Email,
                    recipient: who.address,
                    subject: notice.subject.clone(),
                    body: notice.body.clone(),
                    payload: None,
                    ticket_id: Some(ticket.id.as_uuid()),
                });
            }
        }
    }
    if !messages.is_empty() {
        outbox::enqueue(conn, &messages, now)?;
    }
    Ok(())
}

/// Where officials read a ticket: its page on the dashboard, which the binary serves.
pub(crate) fn official_link(ctx: Context<'_>, ticket: &Ticket) -> String {
    format!(
        "{}/dashboard/tickets/{}",
        ctx.public_url.trim_end_matches('/'),
        ticket.id
    )
}

/// Where an enterprise reads its ticket: the enterprises' own client app, when its
/// address template (`JIBAN_ENTERPRISE_TICKET_URL`, with `{id}` and `{number}`) is
/// configured; otherwise nowhere, so the mail carries no link rather than a dead one.
pub(crate) fn enterprise_link(ctx: Context<'_>, ticket: &Ticket) -> Option<String> {
    ctx.enterprise_ticket_url.map(|template| {
        template
            .replace("{id}", &ticket.id.to_string())
            .replace("{number}", &ticket.number.to_string())
    })
}

/// The dedupe key of a ticket event's notice to one recipient.
pub(crate) fn dedupe_key(ticket: &Ticket, seq: i32, who: &str) -> String {
    format!("ticket:{}:{seq}:{who}", ticket.id)
}

pub(crate) fn name_of(conn: &mut DbConnection, ticket: &Ticket) -> Result<String, StoreError> {
    Ok(enterprises::table
        .find(DbUuid(ticket.enterprise_id.as_uuid()))
        .select(enterprises::name)
        .first(conn)?)
}

/// One person (or the enterprise's contact address) an audience names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Recipient {
    /// The user, when it is one.
    pub user_id: Option<uuid::Uuid>,
    /// Stable within a ticket: `user:<id>` or `enterprise:<id>`, for dedupe keys.
    pub key: String,
    pub address: String,
}

/// The people an audience names. Deactivated users get nothing.
pub(crate) fn recipients(
    conn: &mut DbConnection,
    audience: &Audience,
) -> Result<Vec<Recipient>, StoreError> {
    let people = |rows: Vec<(DbUuid, String)>| {
        rows.into_iter()
            .map(|(id, email)| Recipient {
                user_id: Some(id.0),
                key: format!("user:{}", id.0),
                address: email,
            })
            .collect()
    };
    let active = users::table
        .filter(users::active.eq(true))
        .select((users::id, users::email));
    Ok(match audience {
        Audience::DepartmentOfficers(department) => people(
            active
                .filter(users::role.eq("officer"))
                .filter(users::department_id.eq(DbUuid(department.as_uuid())))
                .order(users::id)
                .load(conn)?,
        ),
        Audience::Supervisors => people(
            active
                .filter(users::role.eq("supervisor"))
                .order(users::id)
                .load(conn)?,
        ),
        Audience::User(user) => people(
            active
                .filter(users::id.eq(DbUuid(user.as_uuid())))
                .load(conn)?,
        ),
        Audience::PairedLeader(enterprise) => people(
            enterprises::table
                .inner_join(users::table.on(enterprises::paired_leader_id.eq(users::id.nullable())))
                .filter(enterprises::id.eq(DbUuid(enterprise.as_uuid())))
                .filter(users::active.eq(true))
                .select((users::id, users::email))
                .load(conn)?,
        ),
        Audience::Enterprise(enterprise) => enterprises::table
            .find(DbUuid(enterprise.as_uuid()))
            .select(enterprises::contact_email)
            .load::<String>(conn)?
            .into_iter()
            .map(|email| Recipient {
                user_id: None,
                key: format!("enterprise:{enterprise}"),
                address: email,
            })
            .collect(),
    })
}
