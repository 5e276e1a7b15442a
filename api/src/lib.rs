//! Jiban's shell around the pure rules of `jiban_domain`: today the `jiban` command line
//! ([`cli`]); the HTTP API, its configuration and the background workers come with later
//! issues (docs/ARCHITECTURE.md).

pub mod cli;
