//! Creating tickets and running commands on them: each one transaction that loads with a
//! row lock, checks the version, lets the domain decide, writes the row, appends the
//! events and queues the notifications they imply (DESIGN.md section 2).

use chrono::{DateTime, Datelike, SubsecRound, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use jiban_domain::deadline::calendar::local_date;
use jiban_domain::ticket::{self, Command, Event, NewTicket, Rules, Ticket, can_see};
use jiban_domain::values::{
    CategoryCode, Description, EnterpriseId, Kind, TicketId, TicketNumber, Title, Urgency,
};
use jiban_domain::{Actor, DomainError};

use super::rows::{EventRow, NewEventRow, StatRow, StoredEvent, TicketRow, ticket_from_state};
use super::{fast, feed, notify, search};
use crate::conn::{Backend, DbConnection, write_tx};
use crate::error::StoreError;
use crate::outbox::v7_at;
use crate::schema::{idempotency_keys, ticket_events, ticket_stats, tickets};
use crate::types::{DbInstant, DbUuid};
use jiban_domain::notice::{Audience, NoticeContext, notices_for};

/// Why a ticket command did not go through.
#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    /// A rule refused it, or the ticket is not there for this actor (`NotFound`).
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The client's `If-Match` names another version (412).
    #[error("the ticket has changed: it is at version {current}")]
    VersionMismatch { current: u64 },
    /// The `Idempotency-Key` was first used with another request (422).
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyMismatch,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<DieselError> for TicketError {
    fn from(e: DieselError) -> Self {
        TicketError::Store(e.into())
    }
}

/// What the use cases need besides the database: the rules, and where people read a
/// ticket (for links in emails).
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    pub rules: &'a Rules,
    /// e.g. `https://jiban.example.gov.cn`; officials' mail links a ticket's page on the
    /// dashboard, `<public_url>/dashboard/tickets/<id>`.
    pub public_url: &'a str,
    /// The enterprises' own app's page of a ticket, a template with `{id}` and `{number}`
    /// (`JIBAN_ENTERPRISE_TICKET_URL`); `None`: enterprises' mail carries no link.
    pub enterprise_ticket_url: Option<&'a str>,
}

/// A new ticket's fields as the client sent them, already parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketInput {
    pub enterprise_id: Option<EnterpriseId>,
    pub kind: Kind,
    pub urgency: Option<Urgency>,
    pub category: CategoryCode,
    pub title: Title,
    pub description: Description,
}

/// An `Idempotency-Key` and the fingerprint of the request that carried it.
#[derive(Clone, Copy, Debug)]
pub struct Idempotency<'a> {
    pub key: &'a str,
    pub fingerprint: &'a str,
}

/// How long an idempotency key is remembered (DESIGN.md section 7).
pub const IDEMPOTENCY_TTL: chrono::Duration = chrono::Duration::hours(24);

#[derive(Clone, Debug, PartialEq)]
pub struct Created {
    /// The ticket as it was created.
    pub ticket: Ticket,
    /// True when an earlier request with the same key created it.
    pub replayed: bool,
}

/// Instants are kept to the microsecond on both backends; the domain sees the same.
fn stored_instant(now: DateTime<Utc>) -> DateTime<Utc> {
    now.trunc_subsecs(6)
}

/// Files a ticket: its number, its row, its first event and the notice to whoever must
/// act, in one transaction. With an idempotency key, a retry returns the ticket as first
/// created, the same key with another fingerprint is refused, and a retry arriving while
/// the first request is in flight waits for it (the key's unique index makes it wait).
pub fn create(
    conn: &mut DbConnection,
    input: TicketInput,
    actor: &Actor,
    now: DateTime<Utc>,
    ctx: Context<'_>,
    idempotency: Option<Idempotency<'_>>,
) -> Result<Created, TicketError> {
    let now = stored_instant(now);
    let year = local_date(now).year();
    match create_once(conn, &input, actor, now, ctx, idempotency) {
        // The year's first ticket on this database: its sequence is made once, outside
        // any transaction (gaps in the numbers are fine).
        Err(TicketError::Store(StoreError::Other(message)))
            if super::numbers::missing_sequence(&message, year) =>
        {
            super::numbers::create_sequence(conn, year)?;
            create_once(conn, &input, actor, now, ctx, idempotency)
        }
        other => other,
    }
}

fn create_once(
    conn: &mut DbConnection,
    input: &TicketInput,
    actor: &Actor,
    now: DateTime<Utc>,
    ctx: Context<'_>,
    idempotency: Option<Idempotency<'_>>,
) -> Result<Created, TicketError> {
    let id = TicketId::from_uuid(v7_at(now)).expect("v7 ids are UUID v7");
    let year = local_date(now).year();
    let build = |number: TicketNumber| -> Result<(Ticket, Event), TicketError> {
        let new = NewTicket {
            id,
            number,
            enterprise_id: input.enterprise_id,
            kind: input.kind,
            urgency: input.urgency,
            category: input.category.clone(),
            title: input.title.clone(),
            description: input.description.clone(),
        };
        let event = ticket::submit(new, actor, now, ctx.rules)?;
        let created = Ticket::replay(std::slice::from_ref(&event))
            .ok_or_else(|| StoreError::Other("a submitted event makes a ticket".into()))?;
        Ok((created, event))
    };
    // On PostgreSQL the create statement numbers the ticket (`fast`); on SQLite the
    // counter row is bumped in the write transaction.
    let pg = matches!(conn, DbConnection::Pg(_));
    let number = |conn: &mut DbConnection| {
        if pg {
            return super::numbers::placeholder(year);
        }
        let seq = super::numbers::next_sqlite(conn, year)?;
        TicketNumber::new(year, seq).map_err(|e| StoreError::Other(format!("ticket number: {e}")))
    };
    // Without a key, one statement on PostgreSQL needs no explicit transaction.
    if pg && idempotency.is_none() {
        let (mut created, event) = build(number(conn)?)?;
        insert_new(conn, &mut created, &event, actor, now, ctx)?;
        return Ok(Created {
            ticket: created,
            replayed: false,
        });
    }
    write_tx(conn, |conn| {
        if let (Some(key), Some(user)) = (idempotency, actor.id())
            && let Some(first) = claim_key(conn, user.as_uuid(), key, id, now)?
        {
            return Ok(Created {
                ticket: first,
                replayed: true,
            });
        }
        let (mut created, event) = build(number(conn)?)?;
        insert_new(conn, &mut created, &event, actor, now, ctx)?;
        Ok(Created {
            ticket: created,
            replayed: false,
        })
    })
}

/// Writes a new ticket, its search row, its first event and the new-ticket notice: one
/// statement on PostgreSQL (see `fast`), which also gives `created` its number, plain
/// inserts on SQLite.
fn insert_new(
    conn: &mut DbConnection,
    created: &mut Ticket,
    event: &Event,
    actor: &Actor,
    now: DateTime<Utc>,
    ctx: Context<'_>,
) -> Result<(), TicketError> {
    let row = TicketRow::new(created, 1, &ctx.rules.calendar)?;
    let written = match conn {
        DbConnection::Pg(c) => {
            let link = notify::official_link(ctx, created);
            let notice_ctx = NoticeContext {
                enterprise_name: fast::ENTERPRISE_NAME,
                official_link: &link,
                enterprise_link: None,
                actor_role: actor.role(),
            };
            let notices = notices_for(event, created, &notice_ctx);
            let [notice] = notices.as_slice() else {
                return Err(StoreError::Other("a new ticket has one notice".into()).into());
            };
            let (role, department) = match notice.audience {
                Audience::DepartmentOfficers(d) => ("officer", Some(DbUuid(d.as_uuid()))),
                Audience::Supervisors => ("supervisor", None),
                _ => return Err(StoreError::Other("a new ticket goes to officers".into()).into()),
            };
            let delivery = jiban_domain::webhook::delivery(created, 1, event, false)
                .ok_or_else(|| StoreError::Other("a new ticket is public".into()))?;
            let placeholder = created.number.to_string();
            let statement = fast::CreateStatement {
                year: created.number.year(),
                placeholder: &placeholder,
                ticket: &row,
                event: &NewEventRow::new(created, 1, event)?,
                stats: &StatRow::of_ticket(created),
                search: &jiban_domain::search::index(&created.title, &created.description),
                announcement: fast::Announcement {
                    dedupe_prefix: notify::dedupe_key(created, 1, "user:"),
                    subject: &notice.subject,
                    body: &notice.body,
                    role,
                    department_id: department,
                    now: now.into(),
                },
                webhooks: fast::Submitted {
                    key_suffix: crate::webhooks::entry_key_suffix(created.id.as_uuid(), 1),
                    event: &delivery.event,
                    body: &delivery.body,
                    covering: jiban_domain::webhook::covering(&delivery.event),
                },
            };
            statement.get_result::<i64>(c).and_then(|seq| {
                let seq = u64::try_from(seq).unwrap_or(0);
                created.number = TicketNumber::new(created.number.year(), seq)
                    .map_err(|e| DieselError::DeserializationError(e.to_string().into()))?;
                Ok(())
            })
        }
        DbConnection::Sqlite(_) => diesel::insert_into(tickets::table)
            .values(&row)
            .execute(conn)
            .map(|_| ()),
    };
    match written {
        Err(DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)) => {
            // The enterprise named does not exist (the category is checked by the rules).
            return Err(DomainError::Refused {
                field: "enterprise_id",
                code: "unknown_enterprise",
                message: "no such enterprise",
            }
            .into());
        }
        other => other?,
    }
    if let DbConnection::Sqlite(_) = conn {
        // PostgreSQL's column default is the feed position (the create statement's
        // transaction); SQLite's is written here.
        diesel::insert_into(ticket_stats::table)
            .values((
                &StatRow::of_ticket(created),
                ticket_stats::changed.eq(feed::changed_now(Backend::Sqlite)),
            ))
            .execute(conn)?;
        search::insert_sqlite(conn, created)?;
        append(conn, created, 0, std::slice::from_ref(event))?;
        notify::enqueue(
            conn,
            created,
            1,
            std::slice::from_ref(event),
            actor.role(),
            now,
            ctx,
        )?;
    }
    Ok(())
}

/// Takes the idempotency key for `new_id`, or finds who took it first: `Some(ticket as
/// first created)` for a retry, an error for a key reused with another request.
/// Deletes the idempotency keys whose day is over (`IDEMPOTENCY_TTL`, DESIGN.md section 8):
/// a retry after that creates a new ticket anyway, so the row only takes space.
pub fn prune_idempotency_keys(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    use idempotency_keys::dsl as k;
    Ok(
        diesel::delete(k::idempotency_keys.filter(k::expires_at.le(DbInstant::from(now))))
            .execute(conn)?,
    )
}

fn claim_key(
    conn: &mut DbConnection,
    user: uuid::Uuid,
    key: Idempotency<'_>,
    new_id: TicketId,
    now: DateTime<Utc>,
) -> Result<Option<Ticket>, TicketError> {
    use idempotency_keys::dsl as k;
    let this_key = k::user_id.eq(DbUuid(user)).and(k::key.eq(key.key));
    // An expired key is forgotten.
    diesel::delete(
        k::idempotency_keys.filter(this_key.and(k::expires_at.le(DbInstant::from(now)))),
    )
    .execute(conn)?;
    let row = (
        k::user_id.eq(DbUuid(user)),
        k::key.eq(key.key),
        k::fingerprint.eq(key.fingerprint),
        k::response_status.eq(Some(201)),
        k::ticket_id.eq(Some(DbUuid(new_id.as_uuid()))),
        k::created_at.eq(DbInstant::from(now)),
        k::expires_at.eq(DbInstant::from(now + IDEMPOTENCY_TTL)),
    );
    let insert = diesel::insert_into(k::idempotency_keys).values(row);
    let inserted = match conn {
        DbConnection::Pg(c) => insert
            .on_conflict((k::user_id, k::key))
            .do_nothing()
            .execute(c)?,
        DbConnection::Sqlite(c) => insert
            .on_conflict((k::user_id, k::key))
            .do_nothing()
            .execute(c)?,
    };
    if inserted == 1 {
        return Ok(None);
    }
    let (fingerprint, ticket_id): (String, Option<DbUuid>) = k::idempotency_keys
        .filter(this_key)
        .select((k::fingerprint, k::ticket_id))
        .first(conn)?;
    if fingerprint != key.fingerprint {
        return Err(TicketError::IdempotencyMismatch);
    }
    let ticket_id = ticket_id.ok_or_else(|| StoreError::Conflict("request in flight".into()))?;
    let first: EventRow = ticket_events::table
        .filter(ticket_events::ticket_id.eq(ticket_id))
        .filter(ticket_events::seq.eq(1))
        .select(EventRow::as_select())
        .first(conn)?;
    let event = StoredEvent::try_from(first)?.to_event()?;
    Ok(Ticket::replay(&[event]))
}

/// Runs one command on a ticket (DESIGN.md section 2): lock, check the version, decide,
/// write, append, notify. `expected_version` is the client's `If-Match`; commands that do
/// not change the state (comments, acknowledgements) may leave it out.
pub fn execute(
    conn: &mut DbConnection,
    id: TicketId,
    expected_version: Option<u64>,
    command: Command,
    actor: &Actor,
    now: DateTime<Utc>,
    ctx: Context<'_>,
) -> Result<Ticket, TicketError> {
    let now = stored_instant(now);
    write_tx(conn, |conn| {
        let (ticket, last_seq) = load_for_update(conn, id)?;
        // Visibility first: a version answer would tell an outsider the ticket exists.
        if !can_see(actor, &ticket) {
            return Err(DomainError::NotFound.into());
        }
        if let Some(expected) = expected_version
            && expected != ticket.version
        {
            return Err(TicketError::VersionMismatch {
                current: ticket.version,
            });
        }
        let events = ticket::decide(&ticket, command, actor, now, ctx.rules)?;
        let next = ticket::apply(ticket, &events);
        save(conn, &next, last_seq, &events, ctx.rules)?;
        notify::enqueue(conn, &next, last_seq + 1, &events, actor.role(), now, ctx)?;
        Ok(next)
    })
}

/// Writes a ticket changed by `events` and appends them after `last_seq`.
pub(crate) fn save(
    conn: &mut DbConnection,
    ticket: &Ticket,
    last_seq: i32,
    events: &[Event],
    rules: &Rules,
) -> Result<(), TicketError> {
    let new_last = last_seq + i32::try_from(events.len()).unwrap_or(i32::MAX);
    let row = TicketRow::new(ticket, new_last, &rules.calendar)?;
    diesel::update(tickets::table.find(row.id))
        .set(&row)
        .execute(conn)?;
    // The statistics' row, and the ticket's new place in the change feed: every event
    // moves it there, those that leave `version` alone too.
    let stats = StatRow::of_ticket(ticket);
    let changed = ticket_stats::changed.eq(feed::changed_now(conn.backend()));
    let updated = diesel::update(ticket_stats::table.find(stats.ticket_id))
        .set((&stats, changed.clone()))
        .execute(conn)?;
    // Every ticket has its row (written with it, or by the migration); should one be
    // missing, the save writes it.
    if updated == 0 {
        diesel::insert_into(ticket_stats::table)
            .values((&stats, changed))
            .execute(conn)?;
    }
    super::cohandlers::sync(conn, ticket, events)?;
    append(conn, ticket, last_seq, events)
}

fn append(
    conn: &mut DbConnection,
    ticket: &Ticket,
    last_seq: i32,
    events: &[Event],
) -> Result<(), TicketError> {
    let rows = events
        .iter()
        .zip(last_seq + 1..)
        .map(|(e, seq)| NewEventRow::new(ticket, seq, e))
        .collect::<Result<Vec<_>, _>>()?;
    // A multi-row insert does not pass through the MultiConnection enum.
    let insert = diesel::insert_into(ticket_events::table).values(&rows);
    match conn {
        DbConnection::Pg(c) => insert.execute(c)?,
        DbConnection::Sqlite(c) => insert.execute(c)?,
    };
    // Every entry appended is delivered to the webhooks subscribed to it, in this
    // transaction (DESIGN.md section 5).
    crate::webhooks::enqueue_events(conn, ticket, last_seq + 1, events)?;
    Ok(())
}

/// Loads a ticket with a row lock (PostgreSQL `FOR UPDATE`; SQLite's `BEGIN IMMEDIATE`
/// already holds the database) and the seq of its latest event.
pub(crate) fn load_for_update(
    conn: &mut DbConnection,
    id: TicketId,
) -> Result<(Ticket, i32), TicketError> {
    let query = tickets::table
        .find(DbUuid(id.as_uuid()))
        .select((tickets::state, tickets::last_seq));
    let found: Option<(String, i32)> = match conn {
        DbConnection::Pg(c) => query.for_update().first(c).optional()?,
        DbConnection::Sqlite(c) => query.first(c).optional()?,
    };
    let (state, last_seq) = found.ok_or(DomainError::NotFound)?;
    Ok((ticket_from_state(&state)?, last_seq))
}

/// A ticket, if the actor may see it (DESIGN.md section 1: otherwise "not found").
pub fn get(conn: &mut DbConnection, id: TicketId, actor: &Actor) -> Result<Ticket, TicketError> {
    let state: Option<String> = tickets::table
        .find(DbUuid(id.as_uuid()))
        .select(tickets::state)
        .first(conn)
        .optional()?;
    let ticket = ticket_from_state(&state.ok_or(DomainError::NotFound)?)?;
    if can_see(actor, &ticket) {
        Ok(ticket)
    } else {
        Err(DomainError::NotFound.into())
    }
}

/// One page of a ticket's timeline by `seq` ascending, after `after_seq` when given, and
/// the `seq` the next page starts after when more may follow. Enterprises do not see
/// internal entries (DESIGN.md rule 8), and read the others through
/// [`StoredEvent::seen_by`]; a page is filled past the entries it hides, so that it holds
/// `limit` entries unless the timeline ends.
pub fn events(
    conn: &mut DbConnection,
    id: TicketId,
    actor: &Actor,
    limit: i64,
    after_seq: Option<i32>,
) -> Result<(Vec<StoredEvent>, Option<i32>), TicketError> {
    get(conn, id, actor)?;
    let enterprise = actor.role() == Some(jiban_domain::values::Role::Enterprise);
    let mut seen = Vec::new();
    let mut after = after_seq;
    loop {
        let mut query = ticket_events::table
            .filter(ticket_events::ticket_id.eq(DbUuid(id.as_uuid())))
            .select(EventRow::as_select())
            .order(ticket_events::seq)
            .limit(limit + 1)
            .into_boxed();
        if let Some(seq) = after {
            query = query.filter(ticket_events::seq.gt(seq));
        }
        if enterprise {
            query = query.filter(ticket_events::internal.eq(false));
        }
        let rows: Vec<EventRow> = query.load(conn)?;
        let ended = rows.len() as i64 <= limit;
        for row in rows {
            after = Some(row.seq);
            if let Some(event) = StoredEvent::try_from(row)?.seen_by(actor)? {
                seen.push(event);
                if seen.len() as i64 > limit {
                    break;
                }
            }
        }
        if ended || seen.len() as i64 > limit {
            break;
        }
    }
    let next = if seen.len() as i64 > limit {
        seen.truncate(limit as usize);
        seen.last().map(|e| e.seq)
    } else {
        None
    };
    Ok((seen, next))
}
