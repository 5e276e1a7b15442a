//! Storage for Jiban: diesel over SQLite and PostgreSQL.
//!
//! Built by issue 3; nothing here yet.
