//! `jiban user add`: creates a user from the server's own shell, the way an operator
//! recovers a lost admin. It applies pending migrations, checks the fields as
//! `POST /v1/users` does (the same request type and rules), and creates the user in one
//! transaction (the same use case).
//!
//! The password is never an argument (it would show in `ps` and the shell's history): it is
//! one line of standard input when that is not a terminal, else typed twice without echo.
//!
//! Exit status: 0 created; 1 the username is taken or the database failed; 2 bad arguments
//! or configuration, fields that break the rules included.

use std::io::{BufRead as _, IsTerminal as _};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use uuid::Uuid;

use crate::config::Config;
use crate::problem::ApiError;
use crate::routes::users::CreateUserRequest;

#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(subcommand)]
    pub command: UserCommand,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is read from standard input (one line) when it is not
    /// a terminal, else prompted for twice without echo.
    Add(AddArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// 3 to 64 of a-z 0-9 . _ - (case-insensitive).
    #[arg(long)]
    pub username: String,
    #[arg(long, value_parser = ["admin", "supervisor", "officer", "liaison", "enterprise"])]
    pub role: String,
    #[arg(long)]
    pub display_name: String,
    #[arg(long)]
    pub email: String,
    /// An officer's department (required for officers, refused for others).
    #[arg(long)]
    pub department_id: Option<Uuid>,
    /// An enterprise user's enterprise (required for them, refused for others).
    #[arg(long)]
    pub enterprise_id: Option<Uuid>,
}

pub fn run(args: &UserArgs, config: Config) -> ExitCode {
    match &args.command {
        UserCommand::Add(add) => self::add(add, config),
    }
}

fn add(args: &AddArgs, config: Config) -> ExitCode {
    let password = match read_password() {
        Ok(p) => p,
        Err(message) => {
            eprintln!("jiban user add: {message}");
            return ExitCode::from(2);
        }
    };
    let request = CreateUserRequest::new(
        args.username.clone(),
        password,
        args.role.clone(),
        args.display_name.clone(),
        args.email.clone(),
        args.department_id,
        args.enterprise_id,
    );
    let new = match request.parse() {
        Ok(new) => new,
        Err(e) => return refused(&e),
    };
    let pool = match crate::server::open_pool(&config, 1)
        .and_then(|pool| crate::server::run_migrations(&pool).map(|_| pool))
    {
        Ok(pool) => pool,
        Err(e) => {
            eprintln!("jiban user add: {e}");
            return ExitCode::FAILURE;
        }
    };
    // argon2 before a connection is taken: it takes tens of milliseconds.
    let created = crate::auth::password::hash(new.password.expose())
        .map_err(|e| ApiError::internal(format!("argon2: {e}")))
        .and_then(|hash| {
            let mut conn = pool
                .get()
                .map_err(|e| ApiError::unavailable(e.to_string()))?;
            crate::usecase::users::create(&mut conn, new, hash, crate::now())
        });
    match created {
        Ok(user) => {
            println!(
                "jiban: created {} \"{}\" ({})",
                user.role, user.username, user.id
            );
            ExitCode::SUCCESS
        }
        Err(e) => refused(&e),
    }
}

/// Says why on stderr: each invalid field by its option's name (exit 2), or the refusal
/// (exit 1).
fn refused(e: &ApiError) -> ExitCode {
    if e.errors().is_empty() {
        let cause = match e.code() {
            "username_taken" => "a user with this username exists".to_owned(),
            _ => e.to_string(),
        };
        eprintln!("jiban user add: {cause}");
        return if e.status().as_u16() == 422 {
            ExitCode::from(2)
        } else {
            ExitCode::FAILURE
        };
    }
    for field in e.errors() {
        let name = field
            .pointer
            .as_deref()
            .unwrap_or_default()
            .trim_start_matches('/');
        let option = if name == "password" {
            "the password".to_owned()
        } else {
            format!("--{}", name.replace('_', "-"))
        };
        eprintln!(
            "jiban user add: {option}: {} ({})",
            field.detail, field.code
        );
    }
    ExitCode::from(2)
}

/// One line of standard input, or, on a terminal, the password typed twice without echo.
fn read_password() -> Result<String, String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
        let line = line.strip_suffix('\n').unwrap_or(&line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            return Err("no password on standard input (give it as one line)".to_owned());
        }
        return Ok(line.to_owned());
    }
    let first = rpassword::prompt_password("Password: ")
        .map_err(|e| format!("cannot read the password: {e}"))?;
    let second = rpassword::prompt_password("Password again: ")
        .map_err(|e| format!("cannot read the password: {e}"))?;
    if first != second {
        return Err("the two passwords differ".to_owned());
    }
    Ok(first)
}
