//! Jiban's rules, as pure functions.
//!
//! Nothing in this crate reads the clock, the network, a file or a database: time is a
//! parameter (`now`), and every rule is a small function whose doc comment names its
//! source (a law and article, or a section of DESIGN.md).

pub mod actor;
pub mod alert;
pub mod attachment;
pub mod deadline;
pub mod error;
pub mod instant;
pub mod notice;
pub mod search;
pub mod stats;
pub mod ticket;
pub mod values;
pub mod visit;
pub mod webhook;

pub use actor::{Actor, User};
pub use error::{DomainError, ErrorKind};
