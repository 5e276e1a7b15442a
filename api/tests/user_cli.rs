//! `jiban user add`, run as a real process against a temporary SQLite database: how an
//! operator recovers a lost admin. No server is started: the result is read back through
//! the persistence crate, and the password checked the way a login checks it.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use jiban_api::auth::password;
use jiban_domain::values::Role;
use jiban_persistence::DbUrl;
use jiban_persistence::repo::users;

struct Db {
    dir: tempfile::TempDir,
}

impl Db {
    fn new() -> Db {
        Db {
            dir: tempfile::tempdir().expect("a temporary folder"),
        }
    }

    fn url(&self) -> String {
        format!("sqlite://{}", self.dir.path().join("jiban.db").display())
    }

    /// `jiban user add ARGS` with `stdin` piped in (not a terminal).
    fn add(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_jiban"))
            .args(["user", "add"])
            .args(args)
            .env_clear()
            .env("JIBAN_DATABASE_URL", self.url())
            .current_dir(self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the jiban binary runs");
        let mut input = child.stdin.take().expect("piped stdin");
        // A process that refuses its arguments may exit before reading.
        let _ = input.write_all(stdin.as_bytes());
        drop(input);
        child.wait_with_output().expect("jiban exits")
    }

    fn conn(&self) -> jiban_persistence::DbConnection {
        self.url()
            .parse::<DbUrl>()
            .expect("a SQLite URL")
            .establish()
            .expect("the database opens")
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn admin_args(username: &str) -> Vec<String> {
    [
        "--username",
        username,
        "--role",
        "admin",
        "--display-name",
        "值班管理员",
        "--email",
        "ops@example.gov.cn",
    ]
    .map(str::to_owned)
    .to_vec()
}

fn add(db: &Db, args: &[String], stdin: &str) -> Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    db.add(&args, stdin)
}

#[test]
fn creates_an_admin_who_can_log_in() {
    let db = Db::new();
    let out = add(&db, &admin_args("rescue"), "a long enough password\n");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("\"rescue\""),
        "it says whom it created"
    );
    let mut conn = db.conn();
    let creds = users::credentials(&mut conn, "rescue")
        .unwrap()
        .expect("the user exists");
    assert!(creds.active);
    assert!(password::verify(
        "a long enough password",
        &creds.password_hash
    ));
    assert!(!password::verify("another password", &creds.password_hash));
    let user = users::find(&mut conn, creds.id).unwrap().unwrap();
    assert_eq!(user.role, Role::Admin);
    assert_eq!(user.display_name, "值班管理员");
    assert_eq!(user.email, "ops@example.gov.cn");
}

#[test]
fn refuses_a_taken_username_with_status_1() {
    let db = Db::new();
    let first = add(&db, &admin_args("rescue"), "a long enough password\n");
    assert!(first.status.success(), "{}", stderr(&first));
    // Usernames are case-insensitive.
    let again = add(&db, &admin_args("Rescue"), "another long password\n");
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    assert!(stderr(&again).contains("username"), "{}", stderr(&again));
    let creds = users::credentials(&mut db.conn(), "rescue")
        .unwrap()
        .unwrap();
    assert!(
        password::verify("a long enough password", &creds.password_hash),
        "the first user is untouched"
    );
}

#[test]
fn refuses_a_short_password_with_status_2() {
    let db = Db::new();
    let out = add(&db, &admin_args("rescue"), "short\n");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("too_short"), "{}", stderr(&out));
    let out = add(&db, &admin_args("rescue"), "");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // Nothing was created (the database may not even exist yet).
    let out = add(&db, &admin_args("rescue"), "a long enough password\n");
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn refuses_an_unknown_role_and_a_missing_department_with_status_2() {
    let db = Db::new();
    let mut args = admin_args("rescue");
    args[3] = "root".to_owned();
    let out = add(&db, &args, "a long enough password\n");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("root"), "clap names the value");

    args[3] = "officer".to_owned();
    let out = add(&db, &args, "a long enough password\n");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--department-id"), "{}", stderr(&out));

    args.extend(["--department-id".to_owned(), uuid::Uuid::nil().to_string()]);
    let out = add(&db, &args, "a long enough password\n");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("unknown_department"),
        "{}",
        stderr(&out)
    );
}
