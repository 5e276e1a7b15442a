//! Starting and stopping `jiban` (DESIGN.md sections 2 and 8; issue 4, point 1): the first
//! admin, race-free across nodes; the generated JWT secret; `jiban migrate`; bad
//! configuration; JSON logs; SIGTERM.

use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use jiban_tests::{ADMIN_PASSWORD, Backend, Options, TestServer, both_backends};
use serde_json::Value;

fn generated_password(server: &TestServer) -> Option<String> {
    server.stdout().iter().find_map(|line| {
        line.strip_prefix("jiban: created user \"admin\" with the generated password: ")
            .map(str::to_owned)
    })
}

both_backends!(
    two_nodes_starting_at_once_make_one_admin,
    database | db | {
        let options = Options::new().unset("JIBAN_ADMIN_PASSWORD");
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| TestServer::start(db, options.clone()));
            let b = s.spawn(|| TestServer::start(db, options.clone()));
            (a.join().unwrap(), b.join().unwrap())
        });
        let printed: Vec<String> = [&a, &b]
            .iter()
            .filter_map(|s| generated_password(s))
            .collect();
        assert_eq!(
            printed.len(),
            1,
            "exactly one node created the admin and printed its password: {printed:?}"
        );
        let password = &printed[0];
        for server in [&a, &b] {
            let token = server.login("admin", password)["access_token"]
                .as_str()
                .unwrap()
                .to_owned();
            let admins = server.get("/v1/users?role=admin", &token);
            assert_eq!(
                admins.json()["items"].as_array().unwrap().len(),
                1,
                "{}",
                admins.body
            );
            // Both seeded nothing twice.
            let sla = server.get("/v1/sla-policies", &token).json();
            assert_eq!(sla["items"].as_array().unwrap().len(), 4);
        }
    }
);

both_backends!(
    the_admin_password_is_printed_once,
    database | db | {
        let options = Options::new().unset("JIBAN_ADMIN_PASSWORD");
        let first = TestServer::start(db, options.clone());
        let password = generated_password(&first).expect("a generated password on stdout");
        assert!(password.len() >= 20, "{password}");
        assert!(
            !first.log().contains(&password),
            "the password is never logged"
        );
        first.login("admin", &password);
        drop(first);
        let second = TestServer::start(db, options);
        assert_eq!(generated_password(&second), None, "not again");
        second.login("admin", &password);
    }
);

both_backends!(
    a_generated_jwt_secret_is_kept_and_reused,
    database | db | {
        let options = Options::new().unset("JIBAN_JWT_SECRET");
        let first = TestServer::start(db, options.clone());
        let file = match db.backend() {
            Backend::Sqlite => db.dir().join("jwt_secret"),
            // ./data of the server's working folder.
            Backend::Postgres => db.dir().join("data").join("jwt_secret"),
        };
        let mode = std::fs::metadata(&file)
            .expect("the secret file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "readable by the owner only");
        let secret = std::fs::read_to_string(&file).unwrap();
        assert!(secret.trim().len() >= 32);
        assert!(
            first.log().contains("several nodes"),
            "the operator is warned"
        );
        assert!(
            !first.log().contains(secret.trim()),
            "the secret is never logged"
        );
        let token = first.admin_token();
        drop(first);
        // A restart signs with the same secret: tokens issued before still work.
        let second = TestServer::start(db, options);
        assert_eq!(second.get("/v1/me", &token).status, 200);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), secret);
    }
);

both_backends!(
    migrate_applies_then_serve_finds_nothing_to_do,
    database | db | {
        let out = Command::new(env!("CARGO_BIN_EXE_jiban-under-test"))
            .arg("migrate")
            .env_clear()
            .env("JIBAN_DATABASE_URL", db.url())
            .current_dir(db.dir())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.starts_with("jiban: applied "), "{stdout}");
        assert!(!stdout.starts_with("jiban: applied 0 "), "{stdout}");
        let server = TestServer::start(db, Options::new());
        assert!(server.log().contains("applied=0"), "{}", server.log());
        assert_eq!(server.raw("GET", "/readyz", &[], None).status, 200);
    }
);

#[test]
fn bad_configuration_exits_2_naming_the_variable() {
    let db = jiban_tests::TestDatabase::sqlite();
    for (name, value) in [
        ("JIBAN_POOL_SIZE", "0"),
        ("JIBAN_LOG_FORMAT", "xml"),
        ("JIBAN_JWT_SECRET", "too-short"),
        ("JIBAN_AUTH_CACHE_SECONDS", "3600"),
        ("JIBAN_DATABASE_URL", "mysql://root:hunter2@localhost/jiban"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_jiban-under-test"))
            .env_clear()
            .env("JIBAN_DATABASE_URL", db.url())
            .env("JIBAN_BIND", "127.0.0.1:0")
            .env(name, value)
            .current_dir(db.dir())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name}={value} must not start");
        assert!(stderr.contains(name), "{name}={value}: {stderr}");
        assert!(
            !stderr.contains("hunter2"),
            "no secret in the message: {stderr}"
        );
        if name != "JIBAN_DATABASE_URL" {
            assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        }
    }
}

#[test]
fn logs_are_json_lines_on_request() {
    let server = TestServer::on(
        Backend::Sqlite,
        Options::new().set("JIBAN_LOG_FORMAT", "json"),
    )
    .expect("SQLite");
    server.raw(
        "GET",
        "/healthz",
        &[("x-request-id", "json-log-probe")],
        None,
    );
    // The line is written after the response: give it a moment.
    std::thread::sleep(Duration::from_millis(300));
    let log = server.log();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let answered = lines
        .iter()
        .find(|l| l["span"]["request_id"] == "json-log-probe")
        .unwrap_or_else(|| panic!("no line for the request in\n{log}"));
    assert_eq!(answered["fields"]["status"], 200);
    assert_eq!(answered["span"]["route"], "/healthz");
    assert_eq!(answered["span"]["method"], "GET");
    assert!(answered["fields"]["latency_ms"].is_number());
    assert!(!log.contains(ADMIN_PASSWORD) && !log.contains(jiban_tests::JWT_SECRET));
}

#[test]
fn sigterm_stops_the_server_gracefully() {
    let server = TestServer::sqlite();
    let token = server.admin_token();
    assert_eq!(server.get("/v1/me", &token).status, 200);
    let status = server
        .terminate(Duration::from_secs(40))
        .expect("the server exits after SIGTERM");
    assert!(status.success(), "{status}");
}
