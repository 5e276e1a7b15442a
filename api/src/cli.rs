//! The `jiban` command line (DESIGN.md section 8). Each subcommand is a module with its
//! arguments and a `run` that returns the process's exit status.
//!
//! Bad arguments are clap errors (a message on stderr, exit status 2): the value parsers
//! of each subcommand say what is wrong and which form is accepted.

mod deadline;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use deadline::{DeadlineArgs, DeadlineReport, compute_deadlines};

/// Jiban (即办): enterprise complaints and service requests under statutory deadlines.
#[derive(Debug, Parser)]
#[command(
    name = "jiban",
    version,
    propagate_version = true,
    subcommand_required = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the accept, contact and resolve deadlines of a ticket received at an instant,
    /// as one JSON object.
    Deadline(DeadlineArgs),
}

/// Parses the process's arguments and runs the subcommand. On bad arguments clap prints
/// the problem on stderr and exits with status 2.
pub fn main() -> ExitCode {
    run(Cli::parse())
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Deadline(args) => deadline::run(&args),
    }
}
