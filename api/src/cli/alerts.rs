//! `jiban alerts run-once [--at <instant>] [--dry-run]`: one deadline-scanner pass and one
//! sender pass as of an instant, against `JIBAN_DATABASE_URL`, then a JSON summary on
//! stdout (DESIGN.md section 8, issue 7).
//!
//! It acts for real: alerts are recorded, tickets escalated or closed, mail sent. That is
//! what a test walking a ticket's life needs, and what an operator runs after an outage.
//! With `--at` the instant is that one: deadlines and backoff are counted from it, so a
//! life of days can be walked in seconds. `--dry-run` writes and sends nothing and lists
//! what would fire: "what fires at 17:00 on Friday".

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SubsecRound as _, Utc};
use clap::{Args, Subcommand};
use jiban_persistence::{migrate, tickets};
use serde::Serialize;
use serde_json::json;

use super::deadline::{local_rfc3339, parse_instant};
use crate::config::Config;
use crate::rules::RulesCache;
use crate::server::{mailer, open_pool, run_migrations, worker_settings};
use crate::usecase::bootstrap;
use crate::workers;

#[derive(Debug, Args)]
pub struct AlertsArgs {
    #[command(subcommand)]
    pub command: AlertsCommand,
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// One scanner pass and one sender pass, as of now or `--at`, then a JSON summary
    /// {"scanned", "alerts", "sent", "failed", "dead", …} on stdout (sent, failed and dead
    /// count outbox rows of both kinds, mail and webhooks).
    RunOnce(RunOnceArgs),
}

#[derive(Debug, Args)]
pub struct RunOnceArgs {
    /// Act as of this instant instead of now: an RFC 3339 instant with its UTC offset,
    /// e.g. 2026-09-25T17:00:00+08:00. Deadlines and mail backoff are counted from it.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
    pub at: Option<DateTime<Utc>>,

    /// List what would fire and what would close; write and send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// What a real run prints.
#[derive(Debug, Serialize)]
struct Summary {
    at: String,
    /// Tickets the scanner looked at.
    scanned: usize,
    /// Alerts recorded now.
    alerts: usize,
    /// Mails queued for them.
    queued: usize,
    escalated: usize,
    closed: usize,
    /// Outbox rows (mail and webhooks) sent, failed and to be tried again, and dead.
    sent: usize,
    failed: usize,
    dead: usize,
}

pub(super) fn run(args: &AlertsArgs, config: Config) -> ExitCode {
    match &args.command {
        AlertsCommand::RunOnce(run) => run_once(run, config),
    }
}

fn run_once(args: &RunOnceArgs, config: Config) -> ExitCode {
    crate::telemetry::init(config.log_format);
    let now = crate::now();
    let at = args.at.map(|at| at.trunc_subsecs(6)).unwrap_or(now);
    if at > now + chrono::Duration::minutes(1) {
        eprintln!(
            "jiban: acting as of {}, later than now: alerts fall due, tickets escalate or \
             close and mail backoff counts as at that instant",
            local_rfc3339(at)
        );
    }
    match actix_web::rt::System::new().block_on(pass(args, &config, at)) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("jiban: alerts run-once: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn pass(
    args: &RunOnceArgs,
    config: &Config,
    at: DateTime<Utc>,
) -> Result<serde_json::Value, String> {
    let pool = open_pool(config, 2).map_err(|e| e.to_string())?;
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.bind));
    let settings = worker_settings(config, &public_url);
    let rules = Arc::new(RulesCache::new(Duration::from_secs(60)));
    if args.dry_run {
        return dry_run(&pool, &rules, &settings, at);
    }
    run_migrations(&pool).map_err(|e| e.to_string())?;
    {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        bootstrap::seed_reference(&mut conn, crate::now()).map_err(|e| e.to_string())?;
    }
    let scanned = workers::scan_pass(&pool, rules, &settings, at)
        .await
        .map_err(|e| format!("scanner: {e}"))?;
    let mail = mailer(config).map_err(|e| e.to_string())?;
    if mail.is_none() {
        eprintln!(
            "jiban: JIBAN_SMTP_URL is not set: no mail sent, it stays queued (webhooks are \
             delivered)"
        );
    }
    let senders = workers::Senders::new(mail, &settings);
    let sent = workers::send_pass(&pool, &senders, &settings, at, None, None)
        .await
        .map_err(|e| format!("sender: {e}"))?;
    let summary = Summary {
        at: local_rfc3339(at),
        scanned: scanned.scanned,
        alerts: scanned.alerts,
        queued: scanned.queued,
        escalated: scanned.escalated,
        closed: scanned.closed,
        sent: sent.sent,
        failed: sent.failed,
        dead: sent.dead,
    };
    serde_json::to_value(summary).map_err(|e| e.to_string())
}

/// What a pass would do, read without writing. The database must be migrated already.
fn dry_run(
    pool: &jiban_persistence::Pool,
    rules: &RulesCache,
    settings: &workers::Settings,
    at: DateTime<Utc>,
) -> Result<serde_json::Value, String> {
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let pending = migrate::pending_count(&mut conn).map_err(|e| e.to_string())?;
    if pending > 0 {
        return Err(format!(
            "{pending} database migrations are not applied: run `jiban migrate` first"
        ));
    }
    let rules = rules.get(&mut conn).map_err(|e| e.to_string())?;
    let ctx = tickets::Context {
        rules: &rules,
        public_url: &settings.public_url,
        enterprise_ticket_url: settings.enterprise_ticket_url.as_deref(),
    };
    let (planned, closing) =
        tickets::plan(&mut conn, at, ctx, i64::MAX).map_err(|e| e.to_string())?;
    let alerts: Vec<_> = planned
        .iter()
        .map(|p| {
            json!({
                "ticket_id": p.ticket_id,
                "ticket_number": p.number,
                "deadline": p.alert.key.deadline.as_str(),
                "level": p.alert.key.level.as_str(),
                "due_at": local_rfc3339(p.alert.key.due_at),
                "fires_at": local_rfc3339(p.alert.fires_at),
                "recipients": p.recipients,
            })
        })
        .collect();
    Ok(json!({
        "at": local_rfc3339(at),
        "dry_run": true,
        "alerts": alerts,
        "would_close": closing,
    }))
}
