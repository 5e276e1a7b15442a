//! `jiban import enterprises FILE.csv` and `jiban import users FILE.csv`: a CSV import
//! from the server's shell (issue 10, point 6; `crate::import`, docs/API.md "Importing").
//! It applies pending migrations, reads the file as `POST /v1/enterprises` and
//! `POST /v1/users` read a `text/csv` body (the same parsing, rules and use cases), and
//! writes every line in one transaction, or nothing.
//!
//! Users' passwords are hashed after every line has been checked and before the
//! transaction opens, on every core of this process (at most four threads, 19 MiB each),
//! so that `jiban import users` takes [`ROWS_MAX`] users where the server takes
//! [`HTTP_USERS_MAX`](crate::import::HTTP_USERS_MAX).
//!
//! Output: `imported N enterprises|users` on stdout. Otherwise the reason on stderr, and
//! for a file with bad lines each of them as `line N, field F: message (code)`.
//! Exit status: 0 imported; 2 the file cannot be read or has bad lines (nothing was
//! written), or bad configuration; 1 the database failed.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::config::Config;
use crate::import::{self, BYTES_MAX, ROWS_MAX};
use crate::problem::ApiError;
use crate::usecase;

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub what: ImportCommand,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Enterprises. Columns: name, uscc, contact_name, contact_phone, contact_email;
    /// optional: paired_leader_id.
    Enterprises(FileArg),
    /// Users. Columns: username, password, role, display_name, email; optional:
    /// department_id (officers), enterprise_id (enterprise users).
    Users(FileArg),
}

#[derive(Debug, Args)]
pub struct FileArg {
    /// The CSV file: UTF-8 (with or without a BOM), its first line naming the columns, at
    /// most 10,000 rows and 4 MiB; `-` reads standard input.
    pub file: PathBuf,
}

/// Why an import did not happen.
enum Failure {
    /// The file, or a line of it, was refused (exit 2); or a write conflicted (exit 1).
    Refused(ApiError),
    /// The database could not be opened or failed, or hashing did (exit 1).
    Other(String),
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::Refused(e)
    }
}

pub fn run(args: &ImportArgs, config: Config) -> ExitCode {
    let (what, file) = match &args.what {
        ImportCommand::Enterprises(arg) => ("enterprises", &arg.file),
        ImportCommand::Users(arg) => ("users", &arg.file),
    };
    let prefix = format!("jiban import {what}");
    let bytes = match read_file(file) {
        Ok(bytes) => bytes,
        Err(message) => {
            eprintln!("{prefix}: {}: {message}", file.display());
            return ExitCode::from(2);
        }
    };
    let imported = match &args.what {
        ImportCommand::Enterprises(_) => enterprises(&bytes, &config),
        ImportCommand::Users(_) => users(&bytes, &config, &prefix),
    };
    match imported {
        Ok(count) => {
            println!("{prefix}: imported {count} {what} from {}", file.display());
            ExitCode::SUCCESS
        }
        Err(Failure::Other(message)) => {
            eprintln!("{prefix}: {message}");
            ExitCode::FAILURE
        }
        Err(Failure::Refused(e)) => refused(&prefix, file, &e),
    }
}

/// The whole file, at most [`BYTES_MAX`] bytes of it.
fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    let limit = BYTES_MAX as u64 + 1;
    let read = if path == Path::new("-") {
        std::io::stdin().lock().take(limit).read_to_end(&mut bytes)
    } else {
        File::open(path).and_then(|f| f.take(limit).read_to_end(&mut bytes))
    };
    read.map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.len() > BYTES_MAX {
        return Err(format!(
            "larger than {} MiB, the import's limit: split it",
            BYTES_MAX / (1024 * 1024)
        ));
    }
    Ok(bytes)
}

fn open(config: &Config) -> Result<jiban_persistence::Pool, Failure> {
    crate::server::open_pool(config, 1)
        .and_then(|pool| crate::server::run_migrations(&pool).map(|_| pool))
        .map_err(|e| Failure::Other(e.to_string()))
}

fn connection(pool: &jiban_persistence::Pool) -> Result<jiban_persistence::PooledConn, Failure> {
    pool.get().map_err(|e| Failure::Other(e.to_string()))
}

fn enterprises(bytes: &[u8], config: &Config) -> Result<usize, Failure> {
    let (rows, errors) = import::enterprises(bytes, ROWS_MAX)?;
    let pool = open(config)?;
    let created =
        usecase::enterprises::import(&mut *connection(&pool)?, rows, errors, crate::now())?;
    Ok(created.len())
}

fn users(bytes: &[u8], config: &Config, prefix: &str) -> Result<usize, Failure> {
    let (rows, mut errors) = import::users(bytes, ROWS_MAX)?;
    let pool = open(config)?;
    errors.extend(usecase::users::check_many(&mut *connection(&pool)?, &rows)?);
    if !errors.is_empty() {
        return Err(ApiError::invalid_lines(errors).into());
    }
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(4);
    if rows.len() > 100 {
        eprintln!(
            "{prefix}: hashing {} passwords on {threads} threads",
            rows.len()
        );
    }
    let passwords: Vec<&str> = rows.iter().map(|r| r.value.password.expose()).collect();
    let hashes = crate::auth::password::hash_all(&passwords, threads)
        .map_err(|e| Failure::Other(format!("argon2: {e}")))?;
    let created =
        usecase::users::create_many(&mut *connection(&pool)?, rows, hashes, crate::now())?;
    Ok(created.len())
}

/// Says why on stderr: the problem, then each bad line (exit 2); a conflict or failure
/// of the database exits 1.
fn refused(prefix: &str, file: &Path, e: &ApiError) -> ExitCode {
    eprintln!("{prefix}: {}: {}", file.display(), e.detail());
    for error in e.errors() {
        let at = match (error.line, &error.field) {
            (Some(line), Some(field)) => format!("line {line}, field {field}"),
            (Some(line), None) => format!("line {line}"),
            _ => "the file".to_owned(),
        };
        eprintln!("{at}: {} ({})", error.detail, error.code);
    }
    match e.status().as_u16() {
        413 | 422 => ExitCode::from(2),
        _ => ExitCode::FAILURE,
    }
}
