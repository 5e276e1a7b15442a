//! The notification outbox (DESIGN.md §5). A use case inserts rows inside its own
//! transaction; the sender worker claims due rows, sends them after the transaction, and
//! marks each sent or failed. Deciding a notification is exactly once (the dedupe key);
//! delivering it is at least once (a claim is a lease that runs out if the sender dies).
//!
//! The clock is always a parameter (`now`): nothing here reads it.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use crate::conn::{DbConnection, write_tx};
use crate::error::StoreError;
use crate::schema::outbox;
use crate::types::{DbInstant, DbUuid};

/// How long a claim lasts. A sender that has neither marked the row sent nor failed by
/// then is presumed dead and the row is due again (hence at least once).
pub const CLAIM_LEASE: Duration = Duration::minutes(5);
/// Backoff after the first failure; it doubles per failure up to [`MAX_BACKOFF`], less a
/// jitter of up to a fifth so that rows failed together do not all come back together.
pub const FIRST_BACKOFF: Duration = Duration::seconds(30);
/// However long an outage lasts, a pending row is tried again at least this often, so
/// mail flows within minutes of the server's return (issue 7).
pub const MAX_BACKOFF: Duration = Duration::minutes(15);
/// Rows per INSERT: far below PostgreSQL's 65 535 bind parameters.
const INSERT_CHUNK: usize = 500;
/// `last_error` keeps this many characters: an SMTP transcript can be long.
const MAX_ERROR_CHARS: usize = 2000;
/// The predicate of the partial index `outbox_due_idx`, word for word, as SQL text: with
/// the statuses bound as parameters a planner could not always prove the index usable.
const MAYBE_DUE: &str = "status IN ('pending', 'sending')";
/// The same for webhook rows only, the predicate of `outbox_webhooks_due_idx` word for
/// word: a node without a mail server claims these without walking the mail waiting for
/// one, however much of it there is.
const WEBHOOKS_MAYBE_DUE: &str = "status IN ('pending', 'sending') AND kind = 'webhook'";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxKind {
    Email,
    Webhook,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxStatus {
    /// Waiting for `next_attempt_at`.
    Pending,
    /// Claimed by a sender until `next_attempt_at` (the lease).
    Sending,
    Sent,
    /// Failed `max_attempts` times; waits for an admin's retry.
    Dead,
}

macro_rules! text_enum {
    ($ty:ident { $($variant:ident = $text:literal),* $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text),* }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $ty {
            type Err = StoreError;
            fn from_str(s: &str) -> Result<Self, StoreError> {
                match s {
                    $($text => Ok($ty::$variant),)*
                    other => Err(StoreError::Other(format!(
                        concat!("unknown ", stringify!($ty), " {:?}"), other
                    ))),
                }
            }
        }
    };
}

text_enum!(OutboxKind { Email = "email", Webhook = "webhook" });
text_enum!(OutboxStatus {
    Pending = "pending",
    Sending = "sending",
    Sent = "sent",
    Dead = "dead",
});

/// A notification to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    /// Unique per decided notification, e.g. ticket, deadline, level, due instant and
    /// recipient for an alert: queuing the same key again inserts nothing.
    pub dedupe_key: String,
    pub kind: OutboxKind,
    /// An email address, or a webhook URL.
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub payload: Option<serde_json::Value>,
    pub ticket_id: Option<uuid::Uuid>,
}

/// A queued notification as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Also the source of the email's Message-ID, so a resend is recognisable.
    pub id: uuid::Uuid,
    pub dedupe_key: String,
    pub kind: OutboxKind,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub payload: Option<serde_json::Value>,
    pub ticket_id: Option<uuid::Uuid>,
    pub status: OutboxStatus,
    /// Claims so far, the current one included.
    pub attempts: i32,
    /// Permanent rejections so far (SMTP 5xx); enough of them make the row dead.
    pub rejections: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// The webhook a `webhook` row is for (its secret signs the delivery).
    pub webhook_id: Option<uuid::Uuid>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = outbox)]
struct Row {
    id: DbUuid,
    dedupe_key: String,
    kind: String,
    recipient: String,
    subject: String,
    body: String,
    payload: Option<String>,
    ticket_id: Option<DbUuid>,
    status: String,
    attempts: i32,
    rejections: i32,
    next_attempt_at: DbInstant,
    last_error: Option<String>,
    created_at: DbInstant,
    sent_at: Option<DbInstant>,
    webhook_id: Option<DbUuid>,
}

impl TryFrom<Row> for Message {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<Self, StoreError> {
        let payload = r
            .payload
            .map(|p| serde_json::from_str(&p))
            .transpose()
            .map_err(|e| StoreError::Other(format!("outbox {} payload: {e}", r.id.0)))?;
        Ok(Message {
            id: r.id.0,
            dedupe_key: r.dedupe_key,
            kind: r.kind.parse()?,
            recipient: r.recipient,
            subject: r.subject,
            body: r.body,
            payload,
            ticket_id: r.ticket_id.map(|t| t.0),
            status: r.status.parse()?,
            attempts: r.attempts,
            rejections: r.rejections,
            next_attempt_at: r.next_attempt_at.get(),
            last_error: r.last_error,
            created_at: r.created_at.get(),
            sent_at: r.sent_at.map(DbInstant::get),
            webhook_id: r.webhook_id.map(|w| w.0),
        })
    }
}

fn messages(rows: Vec<Row>) -> Result<Vec<Message>, StoreError> {
    rows.into_iter().map(Message::try_from).collect()
}

/// NULLs are bound, not rendered as DEFAULT, so each statement shape is prepared once
/// (DEPENDENCIES.md).
#[derive(Insertable)]
#[diesel(table_name = outbox, treat_none_as_default_value = false)]
struct NewRow<'a> {
    id: DbUuid,
    dedupe_key: &'a str,
    kind: &'a str,
    recipient: &'a str,
    subject: &'a str,
    body: &'a str,
    payload: Option<String>,
    ticket_id: Option<DbUuid>,
    status: &'a str,
    attempts: i32,
    next_attempt_at: DbInstant,
    created_at: DbInstant,
    webhook_id: Option<DbUuid>,
}

/// Queues messages, due at once; a message whose dedupe key is already queued (by this
/// call, an earlier one, or another node) is skipped. Returns how many were inserted.
///
/// `ON CONFLICT (dedupe_key) DO NOTHING` on both backends (SQLite has had it since 3.24),
/// rather than SQLite's `INSERT OR IGNORE`, which would also swallow a CHECK or NOT NULL
/// violation. Diesel offers no upsert through the `MultiConnection` enum, hence the match.
pub fn enqueue(
    conn: &mut DbConnection,
    new: &[NewMessage],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let now = DbInstant::from(now);
    let rows = new
        .iter()
        .map(|m| NewRow {
            id: DbUuid(v7_at(now.get())),
            dedupe_key: &m.dedupe_key,
            kind: m.kind.as_str(),
            recipient: &m.recipient,
            subject: &m.subject,
            body: &m.body,
            payload: m.payload.as_ref().map(|p| p.to_string()),
            ticket_id: m.ticket_id.map(DbUuid),
            status: OutboxStatus::Pending.as_str(),
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
            webhook_id: None,
        })
        .collect::<Vec<_>>();
    insert_new(conn, &rows)
}

/// A webhook delivery to queue (`crate::webhooks`): one event for one webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// Unique per (webhook, event): queuing it again inserts nothing.
    pub dedupe_key: String,
    pub webhook_id: uuid::Uuid,
    /// The webhook's URL, the row's recipient.
    pub url: String,
    /// The event's name (`ticket.commented`, `alert.overdue`), the row's subject and the
    /// delivery's `X-Jiban-Event`.
    pub event: String,
    /// The JSON body, sent and signed as stored, so every retry sends the same bytes.
    pub body: String,
    pub ticket_id: Option<uuid::Uuid>,
}

/// Queues webhook deliveries (kind `webhook`), due at once, as [`enqueue`] queues mail: a
/// delivery whose dedupe key is already queued is skipped. Returns how many were inserted.
pub fn enqueue_deliveries(
    conn: &mut DbConnection,
    new: &[NewDelivery],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let now = DbInstant::from(now);
    let rows = new
        .iter()
        .map(|d| NewRow {
            id: DbUuid(v7_at(now.get())),
            dedupe_key: &d.dedupe_key,
            kind: OutboxKind::Webhook.as_str(),
            recipient: &d.url,
            subject: &d.event,
            body: &d.body,
            payload: None,
            ticket_id: d.ticket_id.map(DbUuid),
            status: OutboxStatus::Pending.as_str(),
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
            webhook_id: Some(DbUuid(d.webhook_id)),
        })
        .collect::<Vec<_>>();
    insert_new(conn, &rows)
}

fn insert_new(conn: &mut DbConnection, rows: &[NewRow<'_>]) -> Result<usize, StoreError> {
    let mut inserted = 0;
    for rows in rows.chunks(INSERT_CHUNK) {
        let insert = diesel::insert_into(outbox::table).values(rows);
        inserted += match conn {
            DbConnection::Pg(c) => insert
                .on_conflict(outbox::dedupe_key)
                .do_nothing()
                .execute(c)?,
            DbConnection::Sqlite(c) => insert
                .on_conflict(outbox::dedupe_key)
                .do_nothing()
                .execute(c)?,
        };
    }
    Ok(inserted)
}

/// A UUID v7 whose time part is `now`, so ids sort by creation without reading the clock.
pub(crate) fn v7_at(now: DateTime<Utc>) -> uuid::Uuid {
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        now.timestamp().max(0) as u64,
        now.timestamp_subsec_nanos(),
    );
    uuid::Uuid::new_v7(ts)
}

/// Claims up to `limit` due rows for sending: each becomes `sending` with a lease of
/// [`CLAIM_LEASE`], and its `attempts` counts this claim. Rows come oldest first.
///
/// Several senders (threads or nodes) never claim the same row while a lease runs: on
/// PostgreSQL the candidate rows are locked with `FOR UPDATE SKIP LOCKED`, so concurrent
/// claimers take different rows without waiting; on SQLite the `BEGIN IMMEDIATE`
/// transaction makes them take turns.
pub fn claim_due(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Message>, StoreError> {
    claim(conn, now, limit, MAYBE_DUE)
}

/// As [`claim_due`], webhook rows only: a node without a mail server sends the webhooks
/// and leaves the mail queued, unclaimed.
pub fn claim_due_webhooks(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Message>, StoreError> {
    claim(conn, now, limit, WEBHOOKS_MAYBE_DUE)
}

/// Claims the due rows that `maybe_due` (a partial index's predicate, as SQL text) admits.
fn claim(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    limit: i64,
    maybe_due: &'static str,
) -> Result<Vec<Message>, StoreError> {
    let lease_end = DbInstant::from(now + CLAIM_LEASE);
    let now = DbInstant::from(now);
    // diesel refuses a subquery on the table being updated; an alias makes it another.
    let due = diesel::alias!(outbox as due);
    let due = due
        .select(due.field(outbox::id))
        .filter(sql::<Bool>(maybe_due))
        .filter(due.field(outbox::next_attempt_at).le(now))
        .order((due.field(outbox::next_attempt_at), due.field(outbox::id)))
        .limit(limit);
    let changes = (
        outbox::status.eq(OutboxStatus::Sending.as_str()),
        outbox::attempts.eq(outbox::attempts + 1),
        outbox::next_attempt_at.eq(lease_end),
    );
    let mut rows: Vec<Row> = match conn {
        DbConnection::Pg(c) => {
            diesel::update(outbox::table.filter(outbox::id.eq_any(due.for_update().skip_locked())))
                .set(changes)
                .returning(Row::as_returning())
                .get_results(c)?
        }
        DbConnection::Sqlite(_) => write_tx(conn, |conn| {
            let DbConnection::Sqlite(c) = conn else {
                unreachable!("matched above")
            };
            diesel::update(outbox::table.filter(outbox::id.eq_any(due)))
                .set(changes)
                .returning(Row::as_returning())
                .get_results(c)
        })?,
    };
    // RETURNING has no order.
    rows.sort_by_key(|r| (r.created_at, r.id));
    messages(rows)
}

/// Marks a claimed row sent.
pub fn mark_sent(
    conn: &mut DbConnection,
    id: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let updated = diesel::update(claimed(id))
        .set((
            outbox::status.eq(OutboxStatus::Sent.as_str()),
            outbox::sent_at.eq(Some(DbInstant::from(now))),
        ))
        .execute(conn)?;
    expect_one(conn, id, updated, "not being sent")
}

/// The wait before the next try of row `id` after `attempts` tries: 30 s, 1 min, 2 min,
/// … up to [`MAX_BACKOFF`], each less a jitter of up to a fifth. The jitter is derived
/// from the row and the attempt, not drawn: nothing here reads a clock or a random source.
pub fn backoff(id: uuid::Uuid, attempts: i32) -> Duration {
    let doublings = attempts.saturating_sub(1).clamp(0, 16) as u32;
    let full = (FIRST_BACKOFF * 2i32.pow(doublings)).min(MAX_BACKOFF);
    let spread = (id.as_u128() as u64
        ^ u64::from(attempts.unsigned_abs()).wrapping_mul(0x9E37_79B9_7F4A_7C15))
        % 1000;
    full - full * i32::try_from(spread).unwrap_or(0) / 5000
}

/// How a try failed, as the sender classified it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No connection, a timeout, a TLS failure, SMTP 4xx: the row waits with backoff for
    /// as long as the outage lasts and never becomes dead.
    Transient,
    /// SMTP 5xx: after `max_rejections` of these the row is dead.
    Permanent,
    /// The message can never be sent (an address that does not parse): dead at once.
    Invalid,
}

/// Records a failed try of a claimed row and returns its new status: pending again after
/// [`backoff`], or `dead` after `max_rejections` permanent rejections or an invalid
/// message. A dead row waits for an admin's [`retry`].
pub fn mark_failed(
    conn: &mut DbConnection,
    id: uuid::Uuid,
    now: DateTime<Utc>,
    error: &str,
    failure: Failure,
    max_rejections: i32,
) -> Result<OutboxStatus, StoreError> {
    let (attempts, rejections): (i32, i32) = claimed(id)
        .select((outbox::attempts, outbox::rejections))
        .first(conn)
        .optional()?
        .map_or_else(|| Err(missing_or_conflict(conn, id, "not being sent")), Ok)?;
    let rejections = rejections + i32::from(failure == Failure::Permanent);
    let dead = failure == Failure::Invalid || rejections >= max_rejections;
    let (status, next) = if dead {
        (OutboxStatus::Dead, now)
    } else {
        (OutboxStatus::Pending, now + backoff(id, attempts))
    };
    let error: String = error.chars().take(MAX_ERROR_CHARS).collect();
    // `attempts` unchanged: nobody reclaimed the row between the read and this write.
    let updated = diesel::update(claimed(id).filter(outbox::attempts.eq(attempts)))
        .set((
            outbox::status.eq(status.as_str()),
            outbox::rejections.eq(rejections),
            outbox::next_attempt_at.eq(DbInstant::from(next)),
            outbox::last_error.eq(Some(error)),
        ))
        .execute(conn)?;
    expect_one(conn, id, updated, "claimed again meanwhile")?;
    Ok(status)
}

/// Gives a claimed row back unsent, due at `now`, its claim not counted: what a sender
/// does with what it holds when it stops.
pub fn release(
    conn: &mut DbConnection,
    id: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let updated = diesel::update(claimed(id))
        .set((
            outbox::status.eq(OutboxStatus::Pending.as_str()),
            outbox::attempts.eq(outbox::attempts - 1),
            outbox::next_attempt_at.eq(DbInstant::from(now)),
        ))
        .execute(conn)?;
    expect_one(conn, id, updated, "not being sent")
}

/// Puts a dead row, or a pending one that has failed, back in the queue due at `now`,
/// with a fresh count of rejections: an admin's retry after fixing the cause.
pub fn retry(
    conn: &mut DbConnection,
    id: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let dead = outbox::status.eq(OutboxStatus::Dead.as_str());
    let failing = outbox::status
        .eq(OutboxStatus::Pending.as_str())
        .and(outbox::last_error.is_not_null());
    let updated = diesel::update(
        outbox::table
            .filter(outbox::id.eq(DbUuid(id)))
            .filter(dead.or(failing)),
    )
    .set((
        outbox::status.eq(OutboxStatus::Pending.as_str()),
        outbox::rejections.eq(0),
        outbox::next_attempt_at.eq(DbInstant::from(now)),
    ))
    .execute(conn)?;
    expect_one(conn, id, updated, "neither dead nor failing")
}

/// Ends the deliveries still waiting for a webhook that was deleted: each pending row of
/// it becomes `dead`, saying why. A row being sent is left to its sender, which finds the
/// webhook gone; an admin's retry of any of them ends the same way.
pub fn cancel_webhook(
    conn: &mut DbConnection,
    webhook_id: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        outbox::table
            .filter(outbox::webhook_id.eq(DbUuid(webhook_id)))
            .filter(outbox::status.eq(OutboxStatus::Pending.as_str())),
    )
    .set((
        outbox::status.eq(OutboxStatus::Dead.as_str()),
        outbox::next_attempt_at.eq(DbInstant::from(now)),
        outbox::last_error.eq(Some(WEBHOOK_DELETED)),
    ))
    .execute(conn)?)
}

/// What a delivery for a deleted webhook says in `last_error`.
pub const WEBHOOK_DELETED: &str = "the webhook was deleted";

/// One row.
pub fn get(conn: &mut DbConnection, id: uuid::Uuid) -> Result<Message, StoreError> {
    outbox::table
        .find(DbUuid(id))
        .select(Row::as_select())
        .first(conn)?
        .try_into()
}

/// Rows, oldest first, optionally of one status (the admin's view of dead letters).
pub fn list(
    conn: &mut DbConnection,
    status: Option<OutboxStatus>,
    limit: i64,
) -> Result<Vec<Message>, StoreError> {
    let mut query = outbox::table
        .select(Row::as_select())
        .order((outbox::created_at, outbox::id))
        .limit(limit)
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(outbox::status.eq(status.as_str()));
    }
    messages(query.load(conn)?)
}

/// What the admin's list filters on: a stored status, or `Failing`, the pending rows
/// whose last try failed (mail waiting out an outage or a rejection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStatus {
    Is(OutboxStatus),
    Failing,
}

/// Where a page of [`page`] starts: after the row with this `(created_at, id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: DateTime<Utc>,
    pub id: uuid::Uuid,
}

/// One page of rows, newest first, and where the next starts when more may follow.
pub fn page(
    conn: &mut DbConnection,
    status: Option<ListStatus>,
    limit: i64,
    after: Option<Cursor>,
) -> Result<(Vec<Message>, Option<Cursor>), StoreError> {
    let mut query = outbox::table
        .select(Row::as_select())
        .order((outbox::created_at.desc(), outbox::id.desc()))
        .limit(limit + 1)
        .into_boxed();
    match status {
        Some(ListStatus::Is(status)) => {
            query = query.filter(outbox::status.eq(status.as_str()));
        }
        Some(ListStatus::Failing) => {
            query = query
                .filter(outbox::status.eq(OutboxStatus::Pending.as_str()))
                .filter(outbox::last_error.is_not_null());
        }
        None => {}
    }
    if let Some(c) = after {
        let at = DbInstant::from(c.created_at);
        query = query.filter(crate::types::keyset_before!(
            outbox::created_at,
            outbox::id,
            at,
            DbUuid(c.id)
        ));
    }
    let mut rows = messages(query.load(conn)?)?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|m| Cursor {
            created_at: m.created_at,
            id: m.id,
        })
    } else {
        None
    };
    Ok((rows, next))
}

/// The queue at a glance, for `/metrics`: what waits and what died, never the history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Rows per status of `QUEUE_STATUSES`; each of them is present.
    pub by_status: Vec<(OutboxStatus, i64)>,
    /// When the oldest row still waiting (pending or being sent) was queued.
    pub oldest_waiting: Option<DateTime<Utc>>,
}

/// The statuses `stats` counts. Sent rows are the outbox's history, kept for the admin's
/// view and never pruned: counting them read the whole table on every scanner pass, a
/// cost that grew with every mail ever sent (issue 9). A node's own sends are the counter
/// `jiban_mail_sent_total`.
const QUEUE_STATUSES: [OutboxStatus; 3] = [
    OutboxStatus::Pending,
    OutboxStatus::Sending,
    OutboxStatus::Dead,
];

/// Reads `outbox_status_created_at_idx` only within the statuses counted, and its first
/// entry of each waiting status for the oldest: the cost follows the queue, not the history.
pub fn stats(conn: &mut DbConnection) -> Result<QueueStats, StoreError> {
    let counts: Vec<(String, i64)> = outbox::table
        .filter(outbox::status.eq_any(QUEUE_STATUSES.map(OutboxStatus::as_str)))
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load(conn)?;
    let by_status = QUEUE_STATUSES
        .into_iter()
        .map(|status| {
            let n = counts
                .iter()
                .find(|(s, _)| s == status.as_str())
                .map_or(0, |(_, n)| *n);
            (status, n)
        })
        .collect();
    let mut oldest_waiting: Option<DbInstant> = None;
    for status in [OutboxStatus::Pending, OutboxStatus::Sending] {
        let first: Option<DbInstant> = outbox::table
            .filter(outbox::status.eq(status.as_str()))
            .select(outbox::created_at)
            .order(outbox::created_at)
            .first(conn)
            .optional()?;
        oldest_waiting = oldest_waiting.into_iter().chain(first).min();
    }
    Ok(QueueStats {
        by_status,
        oldest_waiting: oldest_waiting.map(DbInstant::get),
    })
}

type Claimed = diesel::dsl::Filter<
    diesel::dsl::Filter<outbox::table, diesel::dsl::Eq<outbox::id, DbUuid>>,
    diesel::dsl::Eq<outbox::status, &'static str>,
>;

fn claimed(id: uuid::Uuid) -> Claimed {
    outbox::table
        .filter(outbox::id.eq(DbUuid(id)))
        .filter(outbox::status.eq(OutboxStatus::Sending.as_str()))
}

fn expect_one(
    conn: &mut DbConnection,
    id: uuid::Uuid,
    updated: usize,
    why: &str,
) -> Result<(), StoreError> {
    if updated == 1 {
        Ok(())
    } else {
        Err(missing_or_conflict(conn, id, why))
    }
}

/// NotFound when the row does not exist, Conflict when it is in the wrong state.
fn missing_or_conflict(conn: &mut DbConnection, id: uuid::Uuid, why: &str) -> StoreError {
    match get(conn, id) {
        Ok(m) => StoreError::Conflict(format!("outbox row {id} is {}: {why}", m.status)),
        Err(e) => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::both_backends;
    use chrono::TimeZone;
    use std::collections::HashSet;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 9, 18, 2, 0, 0).unwrap()
    }

    fn email(key: &str) -> NewMessage {
        NewMessage {
            dedupe_key: key.to_owned(),
            kind: OutboxKind::Email,
            recipient: "officer@example.gov.cn".to_owned(),
            subject: "【即办】工单 JB-2026-000123 即将超期".to_owned(),
            body: "请于 2026-09-25 00:00 前办结。".to_owned(),
            payload: Some(serde_json::json!({"ticket": "JB-2026-000123", "level": "warning"})),
            ticket_id: Some(uuid::Uuid::now_v7()),
        }
    }

    both_backends!(enqueue_reads_back_what_was_queued, |db| {
        let mut conn = db.conn();
        let msg = email("a");
        assert_eq!(
            enqueue(&mut conn, std::slice::from_ref(&msg), t0()).unwrap(),
            1
        );
        let stored = list(&mut conn, None, 10).unwrap();
        assert_eq!(stored.len(), 1);
        let m = &stored[0];
        assert_eq!(
            (&m.dedupe_key, m.kind, &m.recipient, &m.subject, &m.body),
            (
                &msg.dedupe_key,
                msg.kind,
                &msg.recipient,
                &msg.subject,
                &msg.body
            )
        );
        assert_eq!((&m.payload, m.ticket_id), (&msg.payload, msg.ticket_id));
        assert_eq!((m.status, m.attempts), (OutboxStatus::Pending, 0));
        assert_eq!(
            (m.next_attempt_at, m.created_at, m.sent_at),
            (t0(), t0(), None)
        );
        assert_eq!(get(&mut conn, m.id).unwrap(), *m);
        assert_eq!(get(&mut conn, uuid::Uuid::nil()), Err(StoreError::NotFound));
    });

    both_backends!(a_duplicate_dedupe_key_inserts_nothing, |db| {
        let mut conn = db.conn();
        assert_eq!(
            enqueue(&mut conn, &[email("a"), email("b")], t0()).unwrap(),
            2
        );
        let mut changed = email("a");
        changed.body = "another body".into();
        // Twice in one call, and once more against a stored row.
        let again = [changed.clone(), email("c"), changed];
        assert_eq!(enqueue(&mut conn, &again, t0()).unwrap(), 1);
        let stored = list(&mut conn, None, 10).unwrap();
        let keys: Vec<_> = stored.iter().map(|m| m.dedupe_key.as_str()).collect();
        assert_eq!(keys.len(), 3);
        assert_eq!(
            keys.iter().copied().collect::<HashSet<_>>(),
            HashSet::from(["a", "b", "c"])
        );
        let a = stored.iter().find(|m| m.dedupe_key == "a").unwrap();
        assert_eq!(a.body, email("a").body, "the first one stays");
        assert_eq!(enqueue(&mut conn, &[], t0()).unwrap(), 0);
    });

    both_backends!(sixteen_claimers_take_every_row_exactly_once, |db| {
        let batch: Vec<_> = (0..200).map(|i| email(&format!("k{i}"))).collect();
        assert_eq!(enqueue(&mut db.conn(), &batch, t0()).unwrap(), 200);
        let claimed: Vec<uuid::Uuid> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..16)
                .map(|_| {
                    s.spawn(|| {
                        let mut conn = db.conn();
                        let mut mine = Vec::new();
                        loop {
                            let got = claim_due(&mut conn, t0(), 7).unwrap();
                            if got.is_empty() {
                                return mine;
                            }
                            assert!(got.iter().all(|m| m.status == OutboxStatus::Sending));
                            mine.extend(got.into_iter().map(|m| m.id));
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        assert_eq!(claimed.len(), 200, "no row claimed twice, none missed");
        assert_eq!(claimed.iter().collect::<HashSet<_>>().len(), 200);
        let rows = list(&mut db.conn(), Some(OutboxStatus::Sending), 1000).unwrap();
        assert_eq!(rows.len(), 200);
        assert!(rows.iter().all(|m| m.attempts == 1));
    });

    both_backends!(claims_take_due_rows_oldest_first_and_leases_run_out, |db| {
        let mut conn = db.conn();
        enqueue(&mut conn, &[email("later")], t0() + Duration::minutes(1)).unwrap();
        enqueue(&mut conn, &[email("first")], t0()).unwrap();
        let got = claim_due(&mut conn, t0(), 10).unwrap();
        assert_eq!(got.len(), 1, "the later one is not due yet");
        assert_eq!(got[0].dedupe_key, "first");
        assert_eq!(got[0].next_attempt_at, t0() + CLAIM_LEASE);

        let at = t0() + Duration::minutes(1);
        let got = claim_due(&mut conn, at, 10).unwrap();
        assert_eq!(
            got.iter().map(|m| &*m.dedupe_key).collect::<Vec<_>>(),
            ["later"]
        );
        // The sender of "first" died: when its lease ends it is due again.
        let got = claim_due(&mut conn, t0() + CLAIM_LEASE, 10).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!((&*got[0].dedupe_key, got[0].attempts), ("first", 2));
    });

    #[test]
    fn backoff_doubles_is_capped_at_fifteen_minutes_and_jitters() {
        let id = uuid::Uuid::from_u128(7);
        let within = |attempts: i32, full: Duration| {
            let b = backoff(id, attempts);
            assert!(b <= full && b >= full * 4 / 5, "{attempts}: {b} vs {full}");
        };
        within(1, Duration::seconds(30));
        within(2, Duration::seconds(60));
        within(5, Duration::minutes(8));
        within(6, MAX_BACKOFF);
        within(i32::MAX, MAX_BACKOFF);
        assert_eq!(MAX_BACKOFF, Duration::minutes(15));
        let spread: HashSet<_> = (0..50u128)
            .map(|n| backoff(uuid::Uuid::from_u128(n), 3))
            .collect();
        assert!(spread.len() > 10, "rows failed together come back apart");
    }

    both_backends!(transient_failures_wait_and_never_die, |db| {
        let mut conn = db.conn();
        enqueue(&mut conn, &[email("a")], t0()).unwrap();
        let mut now = t0();
        for attempt in 1..=40 {
            let got = claim_due(&mut conn, now, 10).unwrap();
            assert_eq!(got.len(), 1, "attempt {attempt}");
            let status = mark_failed(
                &mut conn,
                got[0].id,
                now,
                "connection refused",
                Failure::Transient,
                3,
            )
            .unwrap();
            assert_eq!(status, OutboxStatus::Pending, "an outage never kills a row");
            let m = get(&mut conn, got[0].id).unwrap();
            assert!(m.next_attempt_at - now <= MAX_BACKOFF);
            assert_eq!((m.attempts, m.rejections), (attempt, 0));
            now = m.next_attempt_at;
        }
    });

    both_backends!(rejections_back_off_then_die_and_a_retry_revives, |db| {
        let mut conn = db.conn();
        enqueue(&mut conn, &[email("a")], t0()).unwrap();
        let mut now = t0();
        for attempt in 1..=3 {
            let got = claim_due(&mut conn, now, 10).unwrap();
            assert_eq!(got.len(), 1, "attempt {attempt}");
            // A transient failure in between counts no rejection.
            if attempt == 2 {
                mark_failed(&mut conn, got[0].id, now, "421 busy", Failure::Transient, 3).unwrap();
                now = get(&mut conn, got[0].id).unwrap().next_attempt_at;
                let again = claim_due(&mut conn, now, 10).unwrap();
                assert_eq!(again.len(), 1);
            }
            let status = mark_failed(
                &mut conn,
                got[0].id,
                now,
                "550 no such user",
                Failure::Permanent,
                3,
            )
            .unwrap();
            let m = get(&mut conn, got[0].id).unwrap();
            assert_eq!(m.rejections, attempt);
            assert_eq!(m.last_error.as_deref(), Some("550 no such user"));
            if attempt < 3 {
                assert_eq!(status, OutboxStatus::Pending);
                assert_eq!(m.next_attempt_at, now + backoff(m.id, m.attempts));
                let early = m.next_attempt_at - Duration::microseconds(1);
                assert!(claim_due(&mut conn, early, 10).unwrap().is_empty());
                // A failing row is listed as such.
                let (failing, _) = page(&mut conn, Some(ListStatus::Failing), 10, None).unwrap();
                assert_eq!(failing.len(), 1);
                now = m.next_attempt_at;
            } else {
                assert_eq!(status, OutboxStatus::Dead);
            }
        }
        assert!(
            claim_due(&mut conn, now + Duration::days(1), 10)
                .unwrap()
                .is_empty()
        );
        let (dead, _) = page(
            &mut conn,
            Some(ListStatus::Is(OutboxStatus::Dead)),
            10,
            None,
        )
        .unwrap();
        assert_eq!(dead.len(), 1);
        let id = dead[0].id;
        // Only a claimed row can be marked; only a dead or failing row can be retried.
        assert!(matches!(
            mark_sent(&mut conn, id, now),
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            mark_failed(&mut conn, id, now, "x", Failure::Permanent, 3),
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(
            retry(&mut conn, uuid::Uuid::nil(), now),
            Err(StoreError::NotFound)
        );

        let later = now + Duration::days(1);
        retry(&mut conn, id, later).unwrap();
        retry(&mut conn, id, later).expect("a failing row may be retried again");
        let got = claim_due(&mut conn, later, 10).unwrap();
        assert_eq!((got.len(), got[0].rejections), (1, 0));
        mark_sent(&mut conn, id, later).unwrap();
        assert!(matches!(
            retry(&mut conn, id, later),
            Err(StoreError::Conflict(_))
        ));
        let m = get(&mut conn, id).unwrap();
        assert_eq!((m.status, m.sent_at), (OutboxStatus::Sent, Some(later)));
        let stats = stats(&mut conn).unwrap();
        assert_eq!(
            stats.by_status,
            [
                (OutboxStatus::Pending, 0),
                (OutboxStatus::Sending, 0),
                (OutboxStatus::Dead, 0)
            ],
            "the sent row is history, not queue"
        );
        assert_eq!(stats.oldest_waiting, None);
    });

    /// Issue 9: the scanner's reading of the queue for `/metrics` costs what waits, not
    /// the history. Fifty sent rows and two pending ones: with the indexes forced (a test's
    /// few rows are otherwise cheapest to read whole), `stats` reads a handful of index
    /// entries, not the fifty sent rows (the `pg_stat_xact` counters: what this transaction
    /// read).
    #[test]
    fn postgres_queue_stats_skip_the_sent_history() {
        use diesel::connection::SimpleConnection;
        use diesel::sql_types::BigInt;
        let Some(db) = crate::testdb::TestDb::postgres() else {
            return;
        };
        let mut conn = db.conn();
        // The history as the years leave it: rows long sent. Written directly, so that no
        // earlier version of them (pending, sending) is left in the index for a
        // concurrent test's snapshot to keep alive.
        conn.batch_execute(
            "INSERT INTO outbox (id, dedupe_key, kind, recipient, subject, body, status, \
             attempts, next_attempt_at, created_at, sent_at) \
             SELECT gen_random_uuid(), 'sent-' || n, 'email', 'a@example.cn', 's', 'b', \
             'sent', 1, now(), now(), now() FROM generate_series(1, 50) n",
        )
        .unwrap();
        let later = t0() + Duration::minutes(5);
        enqueue(&mut conn, &[email("a"), email("b")], later).unwrap();

        #[derive(QueryableByName)]
        struct Read {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        // The counters are the backend's, not yet flushed: read them before and after.
        let read = |conn: &mut DbConnection| -> i64 {
            diesel::sql_query(
                "SELECT ((SELECT coalesce(sum(seq_tup_read), 0) FROM pg_stat_xact_user_tables \
                           WHERE relid = 'outbox'::regclass) \
                       + (SELECT coalesce(sum(pg_stat_get_xact_tuples_returned(indexrelid)), 0) \
                           FROM pg_index WHERE indrelid = 'outbox'::regclass))::bigint AS n",
            )
            .get_result::<Read>(conn)
            .unwrap()
            .n
        };
        conn.batch_execute("BEGIN; SET LOCAL enable_seqscan = off")
            .unwrap();
        stats(&mut conn).unwrap(); // its statements prepared and planned
        let before = read(&mut conn);
        let got = stats(&mut conn).unwrap();
        let read = read(&mut conn) - before;
        conn.batch_execute("ROLLBACK").unwrap();

        assert_eq!(
            got.by_status,
            [
                (OutboxStatus::Pending, 2),
                (OutboxStatus::Sending, 0),
                (OutboxStatus::Dead, 0)
            ]
        );
        assert_eq!(got.oldest_waiting, Some(later));
        assert!(read < 10, "stats read {read} rows of the outbox");
    }

    both_backends!(
        an_invalid_message_dies_at_once_and_a_release_counts_nothing,
        |db| {
            let mut conn = db.conn();
            enqueue(&mut conn, &[email("a"), email("b")], t0()).unwrap();
            let got = claim_due(&mut conn, t0(), 10).unwrap();
            let status = mark_failed(
                &mut conn,
                got[0].id,
                t0(),
                "bad address",
                Failure::Invalid,
                8,
            )
            .unwrap();
            assert_eq!(status, OutboxStatus::Dead);
            release(&mut conn, got[1].id, t0()).unwrap();
            let m = get(&mut conn, got[1].id).unwrap();
            assert_eq!((m.status, m.attempts), (OutboxStatus::Pending, 0));
            assert_eq!(stats(&mut conn).unwrap().oldest_waiting, Some(t0()));
        }
    );

    both_backends!(long_errors_are_cut, |db| {
        let mut conn = db.conn();
        enqueue(&mut conn, &[email("a")], t0()).unwrap();
        let id = claim_due(&mut conn, t0(), 1).unwrap()[0].id;
        mark_failed(
            &mut conn,
            id,
            t0(),
            &"错".repeat(5000),
            Failure::Permanent,
            5,
        )
        .unwrap();
        let m = get(&mut conn, id).unwrap();
        assert_eq!(m.last_error.unwrap().chars().count(), MAX_ERROR_CHARS);
    });
}
