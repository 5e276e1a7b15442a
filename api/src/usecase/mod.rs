//! Use cases: what one request does to the database, as one function taking a connection.
//!
//! A handler parses its input into the values a use case takes, runs the use case on the
//! blocking pool ([`crate::db::Db::run`]), and maps the answer. Each use case that writes
//! does it in ONE transaction ([`jiban_persistence::write_tx`]), reading what it checks
//! inside that transaction: nothing is half-written, and no check goes stale before the
//! write. CPU-heavy work (argon2) is done before the transaction opens, because on SQLite
//! an open write transaction holds the database's one write lock.

pub mod alerts;
pub mod attachments;
pub mod auth;
pub mod bootstrap;
pub mod departments;
pub mod enterprises;
pub mod notifications;
pub mod reference;
pub mod stats;
pub mod tickets;
pub mod users;
pub mod visits;
pub mod webhooks;
