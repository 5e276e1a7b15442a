//! Tickets: the one transaction per command of DESIGN.md section 2, and the queries that
//! read them back.
//!
//! - [`create`]: number, row, first event, notice; idempotent with a key.
//! - [`execute`]: lock, version check, `decide`, row, events, notices.
//! - [`get`], [`events`], [`list`]: scoped by `can_see`, in Rust and in SQL alike.
//! - [`claim_due`], [`recompute_provisional`]: for the scanner and calendar loads.

mod fast;
mod notify;
mod numbers;
mod query;
mod rows;
mod store;

pub use query::{Cursor, MAX_LIMIT, Page, TicketFilter, claim_due, list, recompute_provisional};
pub use rows::StoredEvent;
pub use store::{
    Context, Created, IDEMPOTENCY_TTL, Idempotency, TicketError, TicketInput, create, events,
    execute, get,
};

#[cfg(test)]
mod tests;
