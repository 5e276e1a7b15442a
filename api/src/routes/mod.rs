//! The HTTP routes: each handler parses its input, calls one use case on the blocking
//! pool, and maps the answer (DESIGN.md section 7 is the contract; openapi.yaml documents
//! it). Request and response shapes live beside their handlers.
//!
//! Order inside a handler: authenticate (401) → role (403) → body (400/413/415/422) →
//! use case (404/409/422). The body is read by [`crate::extract::JsonBody`], whose error
//! waits until the role is checked.

pub mod alerts;
pub mod attachments;
pub mod auth;
pub mod changes;
pub mod cohandling;
pub mod dashboard;
pub mod departments;
pub mod enterprises;
pub mod health;
pub mod notifications;
pub mod paging;
pub mod reference;
pub mod stats;
pub mod tickets;
pub mod users;
pub mod visits;
pub mod webhooks;

use actix_web::web;

/// Every route. Ticket routes go beside the others under `/v1`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    auth::configure(cfg);
    departments::configure(cfg);
    users::configure(cfg);
    enterprises::configure(cfg);
    reference::configure(cfg);
    tickets::configure(cfg);
    cohandling::configure(cfg);
    alerts::configure(cfg);
    notifications::configure(cfg);
    visits::configure(cfg);
    stats::configure(cfg);
    webhooks::configure(cfg);
    attachments::configure(cfg);
    dashboard::configure(cfg);
}
