//! The notifications a command's events imply, queued in the outbox inside the command's
//! transaction: one row per recipient, deduplicated by (ticket, event, recipient). No email
//! is sent inside a request (DESIGN.md section 2).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use jiban_domain::notice::{Audience, NoticeContext, notices_for};
use jiban_domain::ticket::{Event, Ticket};

use super::store::Context;
use crate::conn::DbConnection;
use crate::error::StoreError;
use crate::outbox::{self, NewMessage, OutboxKind};
use crate::schema::{enterprises, users};
use crate::types::DbUuid;

/// Queues the notices of `events`, the first of which is the ticket's event `first_seq`.
pub(crate) fn enqueue(
    conn: &mut DbConnection,
    ticket: &Ticket,
    first_seq: i32,
    events: &[Event],
    now: DateTime<Utc>,
    ctx: Context<'_>,
) -> Result<(), StoreError> {
    let link = link(ctx, ticket);
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
            link: &link,
        };
        for notice in notices_for(event, ticket, &ctx) {
            for (who, address) in recipients(conn, &notice.audience)? {
                messages.push(NewMessage {
                    dedupe_key: dedupe_key(ticket, seq, &who),
                    kind: OutboxKind::Email,
                    recipient: address,
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

/// Where people read a ticket.
pub(crate) fn link(ctx: Context<'_>, ticket: &Ticket) -> String {
    format!(
        "{}/tickets/{}",
        ctx.public_url.trim_end_matches('/'),
        ticket.id
    )
}

/// The dedupe key of a ticket event's notice to one recipient.
pub(crate) fn dedupe_key(ticket: &Ticket, seq: i32, who: &str) -> String {
    format!("ticket:{}:{seq}:{who}", ticket.id)
}

fn name_of(conn: &mut DbConnection, ticket: &Ticket) -> Result<String, StoreError> {
    Ok(enterprises::table
        .find(DbUuid(ticket.enterprise_id.as_uuid()))
        .select(enterprises::name)
        .first(conn)?)
}

/// The people an audience names, as (a stable key, an address). Deactivated users get
/// nothing.
fn recipients(
    conn: &mut DbConnection,
    audience: &Audience,
) -> Result<Vec<(String, String)>, StoreError> {
    let people = |rows: Vec<(DbUuid, String)>| {
        rows.into_iter()
            .map(|(id, email)| (format!("user:{}", id.0), email))
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
            .map(|email| (format!("enterprise:{enterprise}"), email))
            .collect(),
    })
}
