//! The `jiban` command line (DESIGN.md section 8): serve, migrate, deadline, alerts
//! run-once, user add, import. Each subcommand is a module with its arguments and a `run` that returns the process's exit status.
//!
//! Bad arguments are clap errors (a message on stderr, exit status 2): the value parsers
//! of each subcommand say what is wrong and which form is accepted. A bad configuration
//! (`JIBAN_*` variables, `JIBAN_CONFIG` file) exits with status 2 too.

mod alerts;
mod deadline;
mod import;
mod user;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;

pub use deadline::{DeadlineArgs, DeadlineReport, compute_deadlines};
pub use import::{FileArg, ImportArgs, ImportCommand};
pub use user::{AddArgs, UserArgs, UserCommand};

/// Jiban (即办): enterprise complaints and service requests under statutory deadlines.
#[derive(Debug, Parser)]
#[command(name = "jiban", version, propagate_version = true)]
pub struct Cli {
    /// What to do; without one, `serve`.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (the default). Configured by JIBAN_* environment variables and
    /// an optional TOML file named by JIBAN_CONFIG; see docs/API.md and README.md.
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Print the accept, contact and resolve deadlines of a ticket received at an instant,
    /// as one JSON object.
    Deadline(DeadlineArgs),
    /// Deadline alerts: `jiban alerts run-once [--at <instant>] [--dry-run]`.
    Alerts(alerts::AlertsArgs),
    /// Manage users from the server's shell: `jiban user add` creates one (e.g. an admin
    /// to replace a lost one).
    User(UserArgs),
    /// Import a CSV file of enterprises or users, all lines or none: `jiban import
    /// enterprises FILE.csv`, `jiban import users FILE.csv` (columns: the JSON create
    /// body's fields; docs/API.md, "Importing").
    Import(ImportArgs),
}

/// Parses the process's arguments and runs the subcommand. On bad arguments clap prints
/// the problem on stderr and exits with status 2.
pub fn main() -> ExitCode {
    crate::auth::password::return_large_blocks();
    few_arenas();
    run(Cli::parse())
}

/// Caps glibc's malloc arenas at two (`mallopt(3)`, "M_ARENA_MAX"; the default is eight
/// per core). Each blocking thread that runs a database call would otherwise get an arena
/// of its own and keep what it freed there: on SQLite, whose page caches are allocated on
/// whichever thread holds the connection, the server held 54 MiB after a short `sqlite`
/// phase of bench/run and 81 MiB after the full one; with two arenas 41 MiB, with the
/// same creates and gets per second (docs/BENCHMARKS.md, "Memory on SQLite"). Called at
/// start, before other threads run. Elsewhere than glibc it does nothing.
fn few_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a parameter of the allocator; it is called at start,
    // before any other thread allocates.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => with_config(crate::server::serve),
        Command::Migrate => with_config(crate::server::migrate_only),
        Command::Deadline(args) => deadline::run(&args),
        Command::Alerts(args) => match Config::from_env() {
            Ok(config) => alerts::run(&args, config),
            Err(e) => {
                eprintln!("jiban: configuration: {e}");
                ExitCode::from(2)
            }
        },
        Command::User(args) => match Config::from_env() {
            Ok(config) => user::run(&args, config),
            Err(e) => {
                eprintln!("jiban: configuration: {e}");
                ExitCode::from(2)
            }
        },
        Command::Import(args) => match Config::from_env() {
            Ok(config) => import::run(&args, config),
            Err(e) => {
                eprintln!("jiban: configuration: {e}");
                ExitCode::from(2)
            }
        },
    }
}

/// Loads the configuration and runs `f` with it; a bad configuration is reported on
/// stderr with exit status 2, like a bad argument.
fn with_config(f: fn(Config) -> ExitCode) -> ExitCode {
    match Config::from_env() {
        Ok(config) => f(config),
        Err(e) => {
            eprintln!("jiban: configuration: {e}");
            ExitCode::from(2)
        }
    }
}
