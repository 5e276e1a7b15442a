//! Storage for Jiban: one diesel codebase over SQLite (the embedded default) and
//! PostgreSQL (production, many stateless nodes).
//!
//! The pieces, in the order a reader needs them:
//! - [`conn`]: the backend chosen from the URL, the r2d2 pool and its per-connection
//!   setup, and [`conn::write_tx`], how every write transaction is opened;
//! - [`types`]: the two SQL types diesel's `MultiConnection` lacks (UUID, UTC instant);
//! - [`schema`]: the tables, one `table!` each, for both backends;
//! - [`migrate`]: the embedded migrations of `migrations/postgres` and `migrations/sqlite`;
//! - [`outbox`]: notifications queued inside a use case's transaction and claimed by the
//!   sender worker;
//! - [`visits`]: liaisons' on-site visits and their links to tickets;
//! - [`webhooks`]: the admin's webhooks, and the deliveries each ticket event and alert
//!   queues for their subscribers;
//! - `testdb` (feature `test-util`): a fresh database per test on either backend.

pub mod alerts;
pub mod attachments;
pub mod conn;
pub mod error;
pub mod housekeeping;
pub mod migrate;
pub mod outbox;
pub mod repo;
pub mod schema;
pub mod stats;
#[cfg(any(test, feature = "test-util"))]
pub mod testdb;
pub mod tickets;
pub mod types;
pub mod visits;
pub mod webhooks;

pub use conn::{Backend, DbConnection, DbUrl, Pool, PoolConfig, PooledConn, build_pool, write_tx};
pub use error::StoreError;
