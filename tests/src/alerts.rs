//! What the alert tests share: a county whose every address is unique on the shared SMTP
//! test server, `jiban alerts run-once` run against a test database, and the instants at
//! which a deadline's alerts fall due, computed as a reader of DESIGN.md section 5 would.

use std::process::{Command, Output, Stdio};

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use jiban_domain::deadline::Calendar;
use jiban_domain::deadline::calendar::{end_of_day, last_day};
use serde_json::{Value, json};

use crate::fixture::{create_department, create_enterprise, unique};
use crate::smtp::{TestSmtp, unique_address};
use crate::{TestDatabase, TestServer, binary};

/// Links in officials' mail start here.
pub const PUBLIC_URL: &str = "https://jiban.example.gov.cn";
pub const MAIL_FROM: &str = "即办 <jiban@jiban.test>";

/// A user of the county, with the address mail reaches it at.
#[derive(Debug, Clone)]
pub struct Official {
    pub id: String,
    pub token: String,
    pub email: String,
    pub display_name: String,
}

/// A department with three officers, two supervisors (one the enterprise's paired leader),
/// an enterprise and its user, and the `utilities` category dispatched to the department.
#[derive(Debug, Clone)]
pub struct AlertCounty {
    pub admin: String,
    pub department_id: String,
    pub enterprise_id: String,
    pub enterprise_name: String,
    /// The enterprise's contact address, where its notifications go.
    pub enterprise_email: String,
    pub officer: Official,
    pub colleague: Official,
    pub bystander: Official,
    pub supervisor: Official,
    pub leader: Official,
    pub enterprise_user: Official,
}

/// The state a ticket action needs before it is tried.
#[derive(Clone, Copy, Debug)]
pub enum Before {
    Submitted,
    InProgress,
    AwaitingInfo,
    ExtensionPending,
    Resolved,
    Rated,
    Appealed,
}

impl AlertCounty {
    pub fn new(server: &TestServer) -> AlertCounty {
        AlertCounty::with_officer_address(server, &unique_address("officer"))
    }

    /// As [`new`](Self::new), with the first officer at `officer_email` (e.g. one the
    /// test server refuses).
    pub fn with_officer_address(server: &TestServer, officer_email: &str) -> AlertCounty {
        let admin = server.admin_token();
        let department_id = create_department(server, &admin, &format!("d{}", unique()));
        let enterprise_name = format!("苏州精密制造有限公司{}", unique());
        let enterprise_id = create_enterprise(server, &admin, &enterprise_name);
        let enterprise_email = unique_address("enterprise");
        let person =
            |role: &str, email: &str, extra: Value| official(server, &admin, role, email, extra);
        let in_department = json!({"department_id": department_id});
        let officer = person("officer", officer_email, in_department.clone());
        let colleague = person(
            "officer",
            &unique_address("colleague"),
            in_department.clone(),
        );
        let bystander = person("officer", &unique_address("bystander"), in_department);
        let supervisor = person("supervisor", &unique_address("supervisor"), json!({}));
        let leader = person("supervisor", &unique_address("leader"), json!({}));
        let enterprise_user = person(
            "enterprise",
            &unique_address("enterprise-user"),
            json!({"enterprise_id": enterprise_id}),
        );
        let r = server.patch(
            &format!("/v1/enterprises/{enterprise_id}"),
            &admin,
            json!({"contact_email": enterprise_email, "paired_leader_id": leader.id}),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let r = server.put(
            "/v1/categories/utilities",
            &admin,
            json!({"name": "水电气热", "department_id": department_id}),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        AlertCounty {
            admin,
            department_id,
            enterprise_id,
            enterprise_name,
            enterprise_email,
            officer,
            colleague,
            bystander,
            supervisor,
            leader,
            enterprise_user,
        }
    }

    /// The enterprise files a ticket; `extra` adds fields (e.g. `urgency`).
    pub fn file(&self, server: &TestServer, category: &str, extra: Value) -> Value {
        let mut body = json!({
            "kind": "complaint",
            "category": category,
            "title": format!("厂区停电影响生产 {}", unique()),
            "description": "自昨晚22时起厂区停电，三条产线停工，请尽快协调恢复供电。",
        });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let r = server.post("/v1/tickets", &self.enterprise_user.token, body);
        assert_eq!(r.status, 201, "{}", r.body);
        r.json()
    }

    /// A ticket of the county's enterprise, dispatched to its department, brought to
    /// `before` by the people whose job it is: the officer accepts, asks for information,
    /// asks for more time, resolves and appeals; the enterprise rates it dissatisfied.
    pub fn ticket_in(&self, server: &TestServer, before: Before) -> Value {
        let c = self;
        let t = c.file(server, "utilities", json!({}));
        if matches!(before, Before::Submitted) {
            return t;
        }
        let mut t = act(server, &c.officer.token, &t, "accept", json!({}));
        match before {
            Before::AwaitingInfo => {
                t = act(
                    server,
                    &c.officer.token,
                    &t,
                    "request-info",
                    json!({"items": ["营业执照"]}),
                );
            }
            Before::ExtensionPending => {
                t = act(
                    server,
                    &c.officer.token,
                    &t,
                    "extension",
                    json!({"reason": "需跨部门协调", "amount": 2}),
                );
            }
            Before::Resolved | Before::Rated | Before::Appealed => {
                t = act(
                    server,
                    &c.officer.token,
                    &t,
                    "resolve",
                    json!({"result": "已协调供电公司恢复厂区供电。"}),
                );
                if !matches!(before, Before::Resolved) {
                    t = act(
                        server,
                        &c.enterprise_user.token,
                        &t,
                        "rate",
                        json!({"level": "dissatisfied"}),
                    );
                }
                if matches!(before, Before::Appealed) {
                    t = act(
                        server,
                        &c.officer.token,
                        &t,
                        "appeal",
                        json!({"reason": "评价针对电价政策"}),
                    );
                }
            }
            _ => {}
        }
        t
    }
}

/// A user made by the admin, with the address mail reaches it at, logged in.
pub fn official(
    server: &TestServer,
    admin: &str,
    role: &str,
    email: &str,
    extra: Value,
) -> Official {
    let username = format!(
        "{role}{}x{}",
        unique(),
        &uuid::Uuid::new_v4().simple().to_string()[..6]
    );
    let password = format!("pw-{username}-long-enough");
    let display_name = format!("{role}测试{}", unique());
    let mut body = json!({
        "username": username,
        "password": password,
        "role": role,
        "display_name": display_name,
        "email": email,
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let r = server.post("/v1/users", admin, body);
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let token = server.login(&username, &password)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    Official {
        id,
        token,
        email: email.to_owned(),
        display_name,
    }
}

/// A ticket action with the ticket's current version in `If-Match`; panics unless 200.
pub fn act(server: &TestServer, token: &str, ticket: &Value, action: &str, body: Value) -> Value {
    let id = ticket["id"].as_str().unwrap();
    let current = server.get(&format!("/v1/tickets/{id}"), token);
    assert_eq!(current.status, 200, "{}", current.body);
    let version = current.json()["version"].as_u64().unwrap();
    let r = server.action(token, id, action, version, &body);
    assert_eq!(r.status, 200, "{action}: {}", r.body);
    r.json()
}

/// An instant of the API, e.g. a ticket's `resolve_due_at`.
pub fn instant(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("an instant: {v}")))
        .unwrap()
        .to_utc()
}

/// DESIGN.md section 5, for a working-day deadline due at `due` (24:00 of its last day):
/// the warning at 00:00 of the last working day.
pub fn day_warning(due: DateTime<Utc>) -> DateTime<Utc> {
    due - Duration::days(1)
}

/// DESIGN.md section 5: escalation at 24:00 of the first working day after the last day.
pub fn day_escalation(due: DateTime<Utc>) -> DateTime<Utc> {
    end_of_day(Calendar::shipped().add_working_days(last_day(due), 1).value)
}

/// `jiban alerts run-once` against `db`, acting as of `at`, sending to `smtp_url` (none:
/// no `JIBAN_SMTP_URL`); `env` adds variables.
pub fn run_once_command(
    db: &TestDatabase,
    at: DateTime<Utc>,
    smtp_url: Option<&str>,
    env: &[(&str, &str)],
) -> Command {
    let mut command = Command::new(binary());
    command
        .args(["alerts", "run-once", "--at"])
        .arg(at.to_rfc3339_opts(SecondsFormat::Micros, true))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("JIBAN_DATABASE_URL", db.url())
        .env("JIBAN_PUBLIC_URL", PUBLIC_URL)
        .env("JIBAN_MAIL_FROM", MAIL_FROM)
        .env("RUST_LOG", "warn")
        .current_dir(db.dir())
        .stdin(Stdio::null());
    if let Some(url) = smtp_url {
        command.env("JIBAN_SMTP_URL", url);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

/// Runs `jiban alerts run-once` to the end and returns its JSON summary; panics unless it
/// exits 0.
pub fn run_once(db: &TestDatabase, at: DateTime<Utc>, smtp: Option<&TestSmtp>) -> Value {
    let url = smtp.map(TestSmtp::smtp_url);
    run_once_with(db, at, url.as_deref(), &[])
}

pub fn run_once_with(
    db: &TestDatabase,
    at: DateTime<Utc>,
    smtp_url: Option<&str>,
    env: &[(&str, &str)],
) -> Value {
    let out: Output = run_once_command(db, at, smtp_url, env)
        .output()
        .expect("jiban runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "run-once at {at} exited {}: {stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// The mails to `addr` whose subject begins with `tag` (【预警】, 【超期】, 【督办】, …).
pub fn tagged(smtp: &TestSmtp, addr: &str, tag: &str) -> Vec<crate::smtp::Mail> {
    smtp.messages_to(addr)
        .into_iter()
        .filter(|m| m.subject.as_deref().is_some_and(|s| s.starts_with(tag)))
        .collect()
}
