//! Jiban's shell around the pure rules of `jiban_domain`: the `jiban` command line
//! ([`cli`]) and the HTTP API it serves (docs/ARCHITECTURE.md, "The api layer";
//! docs/API.md for the conventions a client sees).
//!
//! - [`server`]: start-up (`jiban serve`, `jiban migrate`), [`config`], [`telemetry`];
//! - [`app`], [`middleware`], [`routes`]: the actix application and its handlers;
//! - [`auth`]: access and refresh tokens, passwords, the principal cache and the
//!   [`auth::Authenticated`] extractor that yields the domain's `Actor`;
//! - [`problem`], [`extract`]: problem+json errors and request bodies;
//! - [`import`]: CSV imports of enterprises and users (`jiban import`, `text/csv` bodies);
//! - [`ratelimit`]: the per-user, per-node write rate limit;
//! - [`mail`]: notifications over SMTP (lettre, rustls), with what a failure means;
//! - [`webhook`]: webhook deliveries (signed POSTs to checked, pinned addresses);
//! - [`usecase`]: one function per request's database work, one transaction each.

pub mod app;
pub mod attachment;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod extract;
pub mod import;
pub mod limits;
pub mod mail;
pub mod metrics;
pub mod middleware;
pub mod problem;
pub mod ratelimit;
pub mod request_id;
pub mod routes;
pub mod rules;
pub mod server;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod time;
pub mod usecase;
pub mod webhook;
pub mod workers;

use chrono::{DateTime, SubsecRound as _, Utc};

/// The current instant at the storage's precision (microseconds), so that what a request
/// answers is exactly what a later read returns.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
