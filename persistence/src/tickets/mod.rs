//! Tickets: the one transaction per command of DESIGN.md section 2, and the queries that
//! read them back.
//!
//! - [`create`]: number, row, first event, notice; idempotent with a key.
//! - [`execute`]: lock, version check, `decide`, row, events, notices.
//! - [`changes`]: the change feed, every ticket changed after a position.
//! - [`get`], [`events`], [`list`]: scoped by `can_see`, in Rust and in SQL alike; the
//!   list's text search (`q`) is `search`'s, and [`backfill_search`] indexes old tickets.
//! - [`scan`]: the deadline scanner's pass (alerts, escalations, unrated closes), and
//!   [`plan`], what it would do; [`claim_due`], [`recompute_provisional`].

pub(crate) mod cohandlers;
mod fast;
mod feed;
#[cfg(feature = "bench")]
mod history;
pub(crate) mod notify;
mod numbers;
mod query;
pub(crate) mod rows;
mod scan;
mod search;
pub(crate) mod store;

pub use feed::{Change, FeedCursor, changes};
#[cfg(feature = "bench")]
pub use history::insert_history;
pub use query::{
    Cursor, MAX_LIMIT, Order, Page, TicketFilter, Visible, claim_due, list, oldest_due,
    recompute_provisional, visible_alerts,
};
pub use rows::StoredEvent;
pub(crate) use rows::ticket_from_state;
pub use scan::{Planned, ScanReport, plan, scan, scan_batch};
pub use search::backfill as backfill_search;
pub use store::{
    Context, Created, IDEMPOTENCY_TTL, Idempotency, TicketError, TicketInput, create, events,
    execute, get, prune_idempotency_keys,
};

#[cfg(test)]
mod tests;
