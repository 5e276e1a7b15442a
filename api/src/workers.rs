//! The two background workers of `jiban serve` (DESIGN.md section 5, issue 7), and the
//! passes `jiban alerts run-once` runs once:
//!
//! - the **deadline scanner**, every `JIBAN_SCAN_INTERVAL_SECONDS`: claims the tickets
//!   whose `next_alert_at` has passed and lets `jiban_persistence::tickets::scan` record
//!   their alerts once, queue the mail, escalate, close unrated tickets;
//! - the **sender**, every `JIBAN_SEND_INTERVAL_SECONDS`: claims due outbox rows, sends
//!   each mail with the [`Mailer`] and POSTs each webhook delivery with the
//!   [`Deliverer`], and marks it sent, or failed as the failure was classified (mail: a
//!   transient one waits with backoff however long an outage lasts; a permanent one,
//!   `JIBAN_MAIL_MAX_ATTEMPTS` times, makes the row dead; webhooks: any failed try counts,
//!   and `JIBAN_WEBHOOK_MAX_ATTEMPTS` of them make the row dead). Without a mail server it
//!   sends the webhooks and leaves the mail queued, unclaimed.
//!
//! Several nodes run both against one PostgreSQL: claims are `FOR UPDATE SKIP LOCKED`, so
//! each ticket and each row is in one node's hands at a time; the ledger's and the
//! outbox's unique keys decide each alert once. Delivery is at least once: a node killed
//! mid-send leaves its claimed rows to come back when their lease ends, with the same
//! Message-ID. On SIGTERM both finish what they hold (the scanner its batch, the sender
//! the message in flight) and give back the rest.
//!
//! A third loop, **housekeeping** ([`spawn_housekeeping`]), runs on every node whatever
//! `JIBAN_ALERTS` says: at start and then once an hour it deletes expired refresh tokens,
//! login attempts older than the throttle window and idempotency keys past their day
//! (`jiban_persistence::housekeeping`: DELETEs bounded by age, under a PostgreSQL advisory
//! lock taken without waiting, so one node works while the others skip).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use jiban_persistence::outbox::{self, Failure, Message, OutboxKind, OutboxStatus, QueueStats};
use jiban_persistence::tickets::{self, Context, ScanReport};
use jiban_persistence::{Pool, StoreError};
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::mail::{Mailer, OutgoingMail, SendError};
use crate::rules::RulesCache;
use crate::webhook::{Deliverer, DeliveryError, Outgoing};

/// Tickets per scanner transaction.
pub const SCAN_BATCH: i64 = 100;
/// Batches per scanner pass, so one pass ends even while others keep adding work.
const SCAN_MAX_BATCHES: usize = 1000;
/// Outbox rows per claim. A node killed mid-send resends at most these (same Message-ID).
pub const SEND_BATCH: i64 = 20;
/// Messages on the wire at once per node, each on its own pooled SMTP connection
/// (`mail::SMTP_POOL_SIZE`).
pub const SEND_CONCURRENCY: usize = crate::mail::SMTP_POOL_SIZE as usize;

/// How often a node runs the housekeeping pass (DESIGN.md section 8: at most hourly).
pub const HOUSEKEEPING_INTERVAL: Duration = Duration::from_secs(3600);

/// What the passes need besides the database.
#[derive(Clone, Debug)]
pub struct Settings {
    pub public_url: String,
    pub enterprise_ticket_url: Option<String>,
    /// Permanent rejections before a row is dead (`JIBAN_MAIL_MAX_ATTEMPTS`).
    pub max_rejections: i32,
    /// Failed tries before a webhook row is dead (`JIBAN_WEBHOOK_MAX_ATTEMPTS`).
    pub webhook_max_attempts: i32,
    /// Whether webhooks may reach non-public addresses (`JIBAN_WEBHOOK_ALLOW_PRIVATE`).
    pub webhook_allow_private: bool,
    pub scan_interval: Duration,
    pub send_interval: Duration,
}

/// What the sender sends with: the mailer when a mail server is configured, and the
/// webhook deliverer always.
#[derive(Clone, Debug)]
pub struct Senders {
    pub mail: Option<Mailer>,
    pub webhooks: Deliverer,
}

impl Senders {
    pub fn new(mail: Option<Mailer>, settings: &Settings) -> Senders {
        Senders {
            mail,
            webhooks: Deliverer::new(settings.webhook_allow_private),
        }
    }
}

/// What a sender pass did, over rows of both kinds (mail and webhooks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SendReport {
    pub sent: usize,
    /// Tries that failed and will be tried again.
    pub failed: usize,
    /// Rows that became dead.
    pub dead: usize,
}

/// Runs blocking database work off the async threads.
async fn blocking<T, F>(pool: &Pool, f: F) -> Result<T, StoreError>
where
    F: FnOnce(&mut jiban_persistence::DbConnection) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    actix_web::rt::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await
    .map_err(|e| StoreError::Other(format!("a worker thread failed: {e}")))?
}

/// One scanner pass as of `now`.
pub async fn scan_pass(
    pool: &Pool,
    rules: Arc<RulesCache>,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<ScanReport, StoreError> {
    let public_url = settings.public_url.clone();
    let enterprise_ticket_url = settings.enterprise_ticket_url.clone();
    blocking(pool, move |conn| {
        let rules = rules.get(conn)?;
        let ctx = Context {
            rules: &rules,
            public_url: &public_url,
            enterprise_ticket_url: enterprise_ticket_url.as_deref(),
        };
        tickets::scan(conn, now, ctx, SCAN_BATCH, SCAN_MAX_BATCHES)
    })
    .await
}

/// One sender pass as of `now`: claims and sends due rows until none is left (or `stop`
/// is raised, when the rows still held are given back unsent). Up to [`SEND_CONCURRENCY`]
/// messages are on the wire at once: an SMTP exchange or a POST is mostly waiting. Mail is
/// claimed only when there is a mailer to send it.
pub async fn send_pass(
    pool: &Pool,
    senders: &Senders,
    settings: &Settings,
    now: DateTime<Utc>,
    stop: Option<&watch::Receiver<bool>>,
    stats: Option<&Stats>,
) -> Result<SendReport, StoreError> {
    let mut report = SendReport::default();
    let stopping = || stop.is_some_and(|s| *s.borrow());
    let with_mail = senders.mail.is_some();
    loop {
        let claimed = blocking(pool, move |conn| {
            if with_mail {
                outbox::claim_due(conn, now, SEND_BATCH)
            } else {
                outbox::claim_due_webhooks(conn, now, SEND_BATCH)
            }
        })
        .await?;
        if claimed.is_empty() {
            return Ok(report);
        }
        let mut held: VecDeque<Message> = claimed.into();
        let mut flying = JoinSet::new();
        loop {
            while flying.len() < SEND_CONCURRENCY && !stopping() {
                let Some(message) = held.pop_front() else {
                    break;
                };
                let (id, kind) = (message.id, message.kind);
                match (kind, &senders.mail) {
                    (OutboxKind::Email, Some(mailer)) => {
                        let mailer = mailer.clone();
                        flying.spawn(async move {
                            let mail = OutgoingMail {
                                id: message.id,
                                to: &message.recipient,
                                subject: &message.subject,
                                body: &message.body,
                            };
                            (id, kind, mailer.send(&mail).await.map_err(Failed::from))
                        });
                    }
                    (OutboxKind::Email, None) => {
                        // Not claimed without a mailer; should one be, it goes back.
                        blocking(pool, move |conn| outbox::release(conn, id, now)).await?;
                    }
                    (OutboxKind::Webhook, _) => {
                        let (pool, deliverer) = (pool.clone(), senders.webhooks.clone());
                        flying.spawn(async move {
                            (id, kind, deliver(&pool, &deliverer, message).await)
                        });
                    }
                }
            }
            let Some(done) = flying.join_next().await else {
                break;
            };
            let (id, kind, outcome) =
                done.map_err(|e| StoreError::Other(format!("a send task failed: {e}")))?;
            record(pool, settings, now, id, kind, outcome, &mut report, stats).await?;
        }
        let rest: Vec<uuid::Uuid> = held.into_iter().map(|m| m.id).collect();
        if !rest.is_empty() {
            blocking(pool, move |conn| {
                rest.iter()
                    .try_for_each(|id| outbox::release(conn, *id, now))
            })
            .await?;
        }
        if stopping() {
            return Ok(report);
        }
    }
}

/// A try that did not arrive: what it means for the row, its class for the metrics, and
/// the text the row keeps.
#[derive(Debug)]
struct Failed {
    failure: Failure,
    class: &'static str,
    text: String,
}

impl From<SendError> for Failed {
    fn from(error: SendError) -> Self {
        let (failure, class) = match &error {
            SendError::Transient(_) => (Failure::Transient, "transient"),
            SendError::Permanent(_) => (Failure::Permanent, "permanent"),
            SendError::Invalid(_) => (Failure::Invalid, "invalid"),
        };
        Failed {
            failure,
            class,
            text: error.to_string(),
        }
    }
}

impl From<DeliveryError> for Failed {
    /// Every failed try of a webhook counts towards `JIBAN_WEBHOOK_MAX_ATTEMPTS` (a
    /// receiver's 5xx, no answer, a refused address alike); one that can never be made is
    /// dead at once.
    fn from(error: DeliveryError) -> Self {
        let (failure, class) = match &error {
            DeliveryError::BadUrl(_) => (Failure::Invalid, "invalid"),
            _ => (Failure::Permanent, "failed"),
        };
        Failed {
            failure,
            class,
            text: error.to_string(),
        }
    }
}

/// Delivers one webhook row: its webhook's secret from the database, then the POST on the
/// blocking pool, signed with the real clock (the receiver checks it against its own; a
/// pass run `--at` another instant still signs the moment it sends).
async fn deliver(pool: &Pool, deliverer: &Deliverer, m: Message) -> Result<(), Failed> {
    let invalid = |text: &str| Failed {
        failure: Failure::Invalid,
        class: "invalid",
        text: text.to_owned(),
    };
    let Some(webhook_id) = m.webhook_id else {
        return Err(invalid("a webhook row names no webhook"));
    };
    let secret = blocking(pool, move |conn| {
        jiban_persistence::webhooks::signing_secret(conn, webhook_id)
    })
    .await
    .map_err(|e| Failed {
        failure: Failure::Transient,
        class: "transient",
        text: format!("the webhook's secret could not be read: {e}"),
    })?;
    let Some(secret) = secret else {
        return Err(invalid(outbox::WEBHOOK_DELETED));
    };
    let deliverer = deliverer.clone();
    actix_web::rt::task::spawn_blocking(move || {
        let outgoing = Outgoing {
            id: m.id,
            url: &m.recipient,
            event: &m.subject,
            body: &m.body,
            secret: &secret,
        };
        deliverer.deliver(&outgoing, crate::now().timestamp())
    })
    .await
    .map_err(|e| Failed {
        failure: Failure::Transient,
        class: "transient",
        text: format!("a delivery thread failed: {e}"),
    })?
    .map_err(Failed::from)
}

/// Marks one row as its send turned out.
#[allow(clippy::too_many_arguments)]
async fn record(
    pool: &Pool,
    settings: &Settings,
    now: DateTime<Utc>,
    id: uuid::Uuid,
    kind: OutboxKind,
    outcome: Result<(), Failed>,
    report: &mut SendReport,
    stats: Option<&Stats>,
) -> Result<(), StoreError> {
    match outcome {
        Ok(()) => {
            blocking(pool, move |conn| outbox::mark_sent(conn, id, now)).await?;
            report.sent += 1;
            if let Some(s) = stats {
                match kind {
                    OutboxKind::Email => s.sent.fetch_add(1, Ordering::Relaxed),
                    OutboxKind::Webhook => s.webhooks_delivered.fetch_add(1, Ordering::Relaxed),
                };
            }
        }
        Err(failed) => {
            // The reply may quote the address or the receiver's answer: the row keeps it
            // for the admin, the log names only the row.
            let (max, what) = match kind {
                OutboxKind::Email => (settings.max_rejections, "mail not sent"),
                OutboxKind::Webhook => (settings.webhook_max_attempts, "webhook not delivered"),
            };
            tracing::warn!(outbox_id = %id, kind = failed.class, "{what}");
            let Failed {
                failure,
                class,
                text,
            } = failed;
            let status = blocking(pool, move |conn| {
                outbox::mark_failed(conn, id, now, &text, failure, max)
            })
            .await?;
            if status == OutboxStatus::Dead {
                report.dead += 1;
            } else {
                report.failed += 1;
            }
            if let Some(s) = stats {
                match kind {
                    OutboxKind::Email => s.failure(class),
                    OutboxKind::Webhook => {
                        s.webhook_failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
    }
    Ok(())
}

/// The workers' counters and state, for `/metrics` and `/readyz`.
#[derive(Default)]
pub struct Stats {
    pub scanner_passes: AtomicU64,
    pub alerts: AtomicU64,
    pub escalated: AtomicU64,
    pub closed: AtomicU64,
    pub sent: AtomicU64,
    /// Webhook deliveries answered 2xx.
    pub webhooks_delivered: AtomicU64,
    /// Webhook tries that failed, or could never be made.
    pub webhook_failures: AtomicU64,
    pub housekeeping_passes: AtomicU64,
    pub pruned_refresh_tokens: AtomicU64,
    pub pruned_login_attempts: AtomicU64,
    pub pruned_idempotency_keys: AtomicU64,
    failures: Mutex<[u64; 3]>,
    state: Mutex<State>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct State {
    /// `on`, `off` (`JIBAN_ALERTS=off`) or `no_smtp` (scanner on, mail kept queued).
    pub mode: &'static str,
    #[serde(serialize_with = "crate::time::serialize_opt")]
    pub scanner_last_pass_at: Option<DateTime<Utc>>,
    /// How late the earliest due alert was when the last pass began, in seconds.
    pub scanner_lag_seconds: f64,
    pub scanner_last_error: Option<String>,
    pub sender_last_error: Option<String>,
    #[serde(skip)]
    pub queue: QueueStats,
    #[serde(skip)]
    pub queue_read_at: Option<DateTime<Utc>>,
}

impl Stats {
    fn failure(&self, kind: &str) {
        let i = match kind {
            "transient" => 0,
            "permanent" => 1,
            _ => 2,
        };
        self.failures.lock().unwrap_or_else(|p| p.into_inner())[i] += 1;
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// Records that the workers do not run on this node (`JIBAN_ALERTS=off`).
    pub fn set_mode(&self, mode: &'static str) {
        self.update(|s| s.mode = mode);
    }

    pub fn state(&self) -> State {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The Prometheus lines of the workers.
    pub fn render(&self, now: DateTime<Utc>, out: &mut String) {
        use std::fmt::Write as _;
        let state = self.state();
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        };
        counter(
            out,
            "jiban_scanner_passes_total",
            "Deadline scanner passes completed.",
            self.scanner_passes.load(Ordering::Relaxed),
        );
        counter(
            out,
            "jiban_alerts_total",
            "Alerts recorded by this node's scanner.",
            self.alerts.load(Ordering::Relaxed),
        );
        counter(
            out,
            "jiban_escalations_total",
            "Tickets this node's scanner escalated (supervised).",
            self.escalated.load(Ordering::Relaxed),
        );
        counter(
            out,
            "jiban_unrated_closes_total",
            "Tickets closed at the end of their rating window.",
            self.closed.load(Ordering::Relaxed),
        );
        counter(
            out,
            "jiban_mail_sent_total",
            "Mails this node sent.",
            self.sent.load(Ordering::Relaxed),
        );
        counter(
            out,
            "jiban_webhooks_delivered_total",
            "Webhook deliveries this node made (answered 2xx).",
            self.webhooks_delivered.load(Ordering::Relaxed),
        );
        counter(
            out,
            "jiban_webhook_failures_total",
            "Webhook tries that failed (not 2xx, no answer, a refused address) or could never be made.",
            self.webhook_failures.load(Ordering::Relaxed),
        );
        counter(
            out,
            "jiban_housekeeping_passes_total",
            "Housekeeping passes this node ran (skipped ones, held by another node, not counted).",
            self.housekeeping_passes.load(Ordering::Relaxed),
        );
        out.push_str("# HELP jiban_housekeeping_deleted_total Rows this node's housekeeping deleted, by table.\n# TYPE jiban_housekeeping_deleted_total counter\n");
        for (table, n) in [
            ("refresh_tokens", &self.pruned_refresh_tokens),
            ("login_attempts", &self.pruned_login_attempts),
            ("idempotency_keys", &self.pruned_idempotency_keys),
        ] {
            let _ = writeln!(
                out,
                "jiban_housekeeping_deleted_total{{table=\"{table}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
        let failures = *self.failures.lock().unwrap_or_else(|p| p.into_inner());
        out.push_str("# HELP jiban_mail_failures_total Mails not sent, by class: transient (retried), permanent (5xx), invalid.\n# TYPE jiban_mail_failures_total counter\n");
        for (kind, n) in ["transient", "permanent", "invalid"].iter().zip(failures) {
            let _ = writeln!(out, "jiban_mail_failures_total{{kind=\"{kind}\"}} {n}");
        }
        out.push_str("# HELP jiban_scanner_lag_seconds How late the earliest due alert was when the last scanner pass began.\n# TYPE jiban_scanner_lag_seconds gauge\n");
        let _ = writeln!(
            out,
            "jiban_scanner_lag_seconds {}",
            state.scanner_lag_seconds
        );
        if let Some(at) = state.scanner_last_pass_at {
            out.push_str("# HELP jiban_scanner_last_pass_timestamp_seconds When the last scanner pass ended.\n# TYPE jiban_scanner_last_pass_timestamp_seconds gauge\n");
            let _ = writeln!(
                out,
                "jiban_scanner_last_pass_timestamp_seconds {}",
                at.timestamp()
            );
        }
        if state.queue_read_at.is_some() {
            out.push_str("# HELP jiban_outbox_rows Outbox rows waiting to be sent or dead, by status (read at the last scanner pass; sent rows are jiban_mail_sent_total).\n# TYPE jiban_outbox_rows gauge\n");
            for (status, n) in &state.queue.by_status {
                let _ = writeln!(out, "jiban_outbox_rows{{status=\"{status}\"}} {n}");
            }
            let age = state.queue.oldest_waiting.map_or(0.0, |at| {
                (now - at).num_milliseconds().max(0) as f64 / 1000.0
            });
            out.push_str("# HELP jiban_outbox_oldest_pending_age_seconds Age of the oldest row still waiting to be sent.\n# TYPE jiban_outbox_oldest_pending_age_seconds gauge\n");
            let _ = writeln!(out, "jiban_outbox_oldest_pending_age_seconds {age}");
        }
    }
}

/// Starts the workers on the current actix system. `mailer` is `None` without
/// `JIBAN_SMTP_URL`: the scanner still records alerts and queues their mail, which waits,
/// and the sender delivers the webhooks. Returns their handles; raise `stop` and await
/// them to shut down.
pub fn spawn(
    pool: Pool,
    rules: Arc<RulesCache>,
    settings: Settings,
    mailer: Option<Mailer>,
    stats: Arc<Stats>,
    stop: watch::Receiver<bool>,
) -> Vec<actix_web::rt::task::JoinHandle<()>> {
    stats.update(|s| s.mode = if mailer.is_some() { "on" } else { "no_smtp" });
    let mut handles = Vec::new();
    {
        let (pool, settings, stats, mut stop) =
            (pool.clone(), settings.clone(), stats.clone(), stop.clone());
        handles.push(actix_web::rt::spawn(async move {
            loop {
                let now = crate::now();
                let lag = blocking(&pool, move |conn| tickets::oldest_due(conn, now)).await;
                match scan_pass(&pool, rules.clone(), &settings, now).await {
                    Ok(report) => {
                        stats.scanner_passes.fetch_add(1, Ordering::Relaxed);
                        stats
                            .alerts
                            .fetch_add(report.alerts as u64, Ordering::Relaxed);
                        stats
                            .escalated
                            .fetch_add(report.escalated as u64, Ordering::Relaxed);
                        stats
                            .closed
                            .fetch_add(report.closed as u64, Ordering::Relaxed);
                        if report.alerts + report.closed > 0 {
                            tracing::info!(
                                scanned = report.scanned,
                                alerts = report.alerts,
                                queued = report.queued,
                                escalated = report.escalated,
                                closed = report.closed,
                                "deadline scan"
                            );
                        }
                        let queue = blocking(&pool, outbox::stats).await;
                        stats.update(|s| {
                            s.scanner_last_pass_at = Some(crate::now());
                            s.scanner_last_error = None;
                            s.scanner_lag_seconds = match lag {
                                Ok(Some(oldest)) => {
                                    (now - oldest).num_milliseconds().max(0) as f64 / 1000.0
                                }
                                _ => 0.0,
                            };
                            if let Ok(queue) = queue {
                                s.queue = queue;
                                s.queue_read_at = Some(now);
                            }
                        });
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "deadline scan failed; retrying next interval");
                        stats.update(|s| s.scanner_last_error = Some(e.to_string()));
                    }
                }
                if wait(&mut stop, settings.scan_interval).await {
                    break;
                }
            }
            tracing::info!("deadline scanner stopped");
        }));
    }
    {
        let senders = Senders::new(mailer, &settings);
        let mut stop_wait = stop.clone();
        handles.push(actix_web::rt::spawn(async move {
            loop {
                let now = crate::now();
                match send_pass(&pool, &senders, &settings, now, Some(&stop), Some(&stats)).await {
                    Ok(report) => {
                        if report.sent + report.failed + report.dead > 0 {
                            tracing::info!(
                                sent = report.sent,
                                failed = report.failed,
                                dead = report.dead,
                                "mail and webhooks sent"
                            );
                        }
                        stats.update(|s| s.sender_last_error = None);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "send pass failed; retrying next interval");
                        stats.update(|s| s.sender_last_error = Some(e.to_string()));
                    }
                }
                if wait(&mut stop_wait, settings.send_interval).await {
                    break;
                }
            }
            tracing::info!("sender stopped");
        }));
    }
    handles
}

/// The attachment store's part of housekeeping (issue 11): objects with no row, older than
/// `grace`, are what a crash between storing a file and writing its row left behind.
pub struct Orphans {
    pub storage: Arc<crate::storage::Storage>,
    pub grace: Duration,
}

impl Orphans {
    /// Deletes the objects older than the grace period that no attachment row names, and
    /// says how many. Safe on several nodes at once: a delete of a deleted object is no
    /// error, and an upload in flight is younger than the grace period.
    pub async fn prune(&self, pool: &Pool, now: DateTime<Utc>) -> Result<u64, String> {
        let grace = chrono::Duration::from_std(self.grace).map_err(|e| e.to_string())?;
        let keys = self
            .storage
            .keys_before(now - grace)
            .await
            .map_err(|e| e.to_string())?;
        if keys.is_empty() {
            return Ok(0);
        }
        let asked = keys.clone();
        let known = blocking(pool, move |conn| {
            jiban_persistence::attachments::known_keys(conn, &asked)
        })
        .await
        .map_err(|e| e.to_string())?;
        let mut deleted = 0;
        for key in keys.iter().filter(|k| !known.contains(*k)) {
            self.storage.delete(key).await.map_err(|e| e.to_string())?;
            tracing::info!(key, "deleted a stored object that no attachment names");
            deleted += 1;
            self.storage.count_orphans_deleted(1);
        }
        Ok(deleted)
    }
}

/// Starts the housekeeping loop: one pass now, then one every `interval`, until `stop`.
pub fn spawn_housekeeping(
    pool: Pool,
    stats: Arc<Stats>,
    orphans: Orphans,
    mut stop: watch::Receiver<bool>,
    interval: Duration,
) -> actix_web::rt::task::JoinHandle<()> {
    actix_web::rt::spawn(async move {
        loop {
            if *stop.borrow() {
                break;
            }
            let now = crate::now();
            let attempts_before = now - crate::usecase::auth::THROTTLE_WINDOW;
            match blocking(&pool, move |conn| {
                jiban_persistence::housekeeping::run(conn, now, attempts_before)
            })
            .await
            {
                Ok(report) if !report.skipped => {
                    stats.housekeeping_passes.fetch_add(1, Ordering::Relaxed);
                    for (counter, n) in [
                        (&stats.pruned_refresh_tokens, report.refresh_tokens),
                        (&stats.pruned_login_attempts, report.login_attempts),
                        (&stats.pruned_idempotency_keys, report.idempotency_keys),
                    ] {
                        counter.fetch_add(n as u64, Ordering::Relaxed);
                    }
                    tracing::info!(
                        refresh_tokens = report.refresh_tokens,
                        login_attempts = report.login_attempts,
                        idempotency_keys = report.idempotency_keys,
                        "housekeeping"
                    );
                }
                Ok(_) => tracing::debug!("housekeeping held by another node; skipped"),
                Err(e) => tracing::warn!(error = %e, "housekeeping failed; retrying next interval"),
            }
            match orphans.prune(&pool, now).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "housekeeping: orphaned stored objects"),
                Err(e) => {
                    tracing::warn!(error = %e, "housekeeping of stored objects failed; retrying next interval")
                }
            }
            if wait(&mut stop, interval).await {
                break;
            }
        }
        tracing::info!("housekeeping stopped");
    })
}

/// Sleeps for `interval`; `true` when asked to stop (now or during the sleep).
async fn wait(stop: &mut watch::Receiver<bool>, interval: Duration) -> bool {
    if *stop.borrow() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(interval) => *stop.borrow(),
        changed = stop.changed() => changed.is_err() || *stop.borrow(),
    }
}
