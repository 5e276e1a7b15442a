//! What every handler shares, one instance per process (behind `web::Data`).

use std::sync::Arc;

use crate::auth::PrincipalCache;
use crate::auth::jwt::Keys;
use crate::auth::password::PasswordWorkers;
use crate::db::Db;
use crate::metrics::{Metrics, PoolGauges};
use crate::ratelimit::WriteLimiter;
use crate::rules::RulesCache;

pub struct AppState {
    pub db: Db,
    pub keys: Keys,
    pub principals: PrincipalCache,
    /// argon2id on a few threads with reused memory (`auth::password`).
    pub passwords: PasswordWorkers,
    /// A login's refresh chain ends this many days after it (`JIBAN_SESSION_DAYS`).
    pub session_days: u32,
    pub metrics: Metrics,
    /// Writes per user per minute on this node (`JIBAN_RATE_LIMIT_PER_MINUTE`); `None`:
    /// no limit.
    pub write_limiter: Option<WriteLimiter>,
    /// Where this API is reached from outside, for links in emails (`JIBAN_PUBLIC_URL`).
    pub public_url: String,
    /// The enterprises' own app's page of a ticket, with `{id}` and `{number}`
    /// (`JIBAN_ENTERPRISE_TICKET_URL`); `None`: enterprises' mail carries no link.
    pub enterprise_ticket_url: Option<String>,
    /// Calendar, SLA table and dispatch map, cached per node.
    pub rules: Arc<RulesCache>,
    /// The background workers' counters and state (`/metrics`, `/readyz`).
    pub workers: Arc<crate::workers::Stats>,
    /// The composite score's weights (`JIBAN_SCORE_WEIGHTS`, DESIGN.md section 6).
    pub score_weights: jiban_domain::stats::Weights,
    /// Whether a webhook may point at loopback, private and other non-public addresses
    /// (`JIBAN_WEBHOOK_ALLOW_PRIVATE`).
    pub webhook_allow_private: bool,
    /// The attachment store (`JIBAN_STORAGE_URL`).
    pub storage: Arc<crate::storage::Storage>,
    /// Attachments' limits and spool folder.
    pub attachments: crate::attachment::Limits,
}

impl AppState {
    pub fn pool_gauges(&self) -> PoolGauges {
        let state = self.db.pool().state();
        PoolGauges {
            connections: state.connections,
            idle: state.idle_connections,
            max_size: self.db.pool().max_size(),
        }
    }
}
