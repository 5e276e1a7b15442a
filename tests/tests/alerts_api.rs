//! The alert ledger and the notification admin routes over HTTP, on both backends
//! (DESIGN.md section 5): who may list which alerts, the `mine` and `unacknowledged`
//! filters, acknowledging an escalation (once, by a recipient or a supervisor, an event on
//! the ticket that leaves its version alone), and the admin's view and retry of the
//! outbox.
//!
//! Alerts come from the real deadline scanner run against the test's database at an
//! instant three months on; see [`scan`] for how it is run.

use chrono::{Duration, Utc};
use jiban_persistence::outbox::{self, Failure, NewMessage, OutboxKind};
use jiban_persistence::tickets::Context;
use jiban_persistence::{DbConnection, DbUrl};
use jiban_tests::fixture::{County, Person, create_department, create_person, unique};
use jiban_tests::{TestServer, both_backends};
use serde_json::{Value, json};

fn conn(server: &TestServer) -> DbConnection {
    server
        .database()
        .url()
        .parse::<DbUrl>()
        .expect("the test database's URL")
        .establish()
        .expect("the test database opens")
}

/// Whether the binary has `jiban alerts run-once` (another branch adds it).
fn has_run_once() -> bool {
    std::process::Command::new(jiban_tests::binary())
        .args(["alerts", "run-once", "--help"])
        .env_clear()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// One scanner pass as of `at`. Through `jiban alerts run-once --at` (its contract: one
/// scanner pass and one sender pass against `JIBAN_DATABASE_URL`, JSON on stdout) when the
/// binary has it; until that subcommand lands, the same scanner pass
/// (`jiban_persistence::tickets::scan`) run from here on the server's database.
fn scan(server: &TestServer, at: chrono::DateTime<Utc>) {
    if has_run_once() {
        let mut command = std::process::Command::new(jiban_tests::binary());
        command
            .args(["alerts", "run-once", "--at", &at.to_rfc3339()])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("JIBAN_DATABASE_URL", server.database().url())
            .current_dir(server.database().dir());
        if let Some(smtp) = jiban_tests::smtp::TestSmtp::from_env() {
            command.env("JIBAN_SMTP_URL", smtp.smtp_url());
        }
        let out = command.output().expect("jiban alerts run-once runs");
        assert!(
            out.status.success(),
            "alerts run-once: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let summary: Value = serde_json::from_slice(&out.stdout).expect("a JSON summary");
        assert!(summary.is_object(), "{summary}");
        return;
    }
    let mut conn = conn(server);
    let rules = jiban_persistence::repo::reference::load_rules(&mut conn).unwrap();
    let ctx = Context {
        rules: &rules,
        public_url: "http://jiban.test",
        enterprise_ticket_url: None,
    };
    let report = jiban_persistence::tickets::scan(&mut conn, at, ctx, 100, 100).unwrap();
    assert!(report.alerts > 0, "{report:?}");
}

/// Two departments; a ticket dispatched to each, never accepted, scanned three months on:
/// every deadline of both has warned, passed and escalated.
struct Scene {
    county: County,
    officer_b: Person,
    t1: Value,
    t2: Value,
}

fn dispatch(server: &TestServer, admin: &str, category: &str, department: &str) {
    let r = server.put(
        &format!("/v1/categories/{category}"),
        admin,
        json!({"name": format!("类别{category}"), "department_id": department}),
    );
    assert!(r.status == 200 || r.status == 201, "{}", r.body);
}

fn file(server: &TestServer, county: &County, token: &str, category: &str) -> Value {
    let r = server.post(
        "/v1/tickets",
        token,
        json!({
            "enterprise_id": county.enterprise_id,
            "kind": "complaint",
            "category": category,
            "title": "厂区停电影响生产",
            "description": "自昨晚22时起厂区停电，三条产线停工，请尽快协调恢复供电。",
        }),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()
}

fn scene(server: &TestServer) -> Scene {
    let county = County::new(server);
    let department_b = create_department(server, &county.admin, &format!("deptb{}", unique()));
    let officer_b = create_person(
        server,
        &county.admin,
        "officer",
        json!({"department_id": department_b}),
    );
    dispatch(server, &county.admin, "utilities", &county.department_id);
    dispatch(server, &county.admin, "land", &department_b);
    let t1 = file(server, &county, &county.supervisor.token, "utilities");
    let t2 = file(server, &county, &county.supervisor.token, "land");
    scan(server, Utc::now() + Duration::days(90));
    Scene {
        county,
        officer_b,
        t1,
        t2,
    }
}

fn items(server: &TestServer, token: &str, query: &str) -> Vec<Value> {
    let r = server.get(&format!("/v1/alerts{query}"), token);
    assert_eq!(r.status, 200, "{query}: {}", r.body);
    let page = r.json();
    assert!(page["next_cursor"].is_null(), "one page: {page}");
    page["items"].as_array().unwrap().clone()
}

fn ticket_ids(items: &[Value]) -> std::collections::BTreeSet<String> {
    items
        .iter()
        .map(|a| a["ticket_id"].as_str().unwrap().to_owned())
        .collect()
}

fn count_level(items: &[Value], level: &str) -> usize {
    items.iter().filter(|a| a["level"] == level).count()
}

fn addressed_to(alert: &Value, person: &Person) -> bool {
    alert["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r == person.id.as_str())
}

both_backends!(listing_is_scoped_and_filtered, |server| {
    let s = scene(server);
    let c = &s.county;
    let t1 = s.t1["id"].as_str().unwrap();
    let t2 = s.t2["id"].as_str().unwrap();

    // Alerts are internal.
    server
        .get("/v1/alerts", &c.enterprise_user.token)
        .problem(403, "not_permitted");

    // A supervisor and an admin see every ticket's alerts: three deadlines, three levels.
    let all = items(server, &c.supervisor.token, "");
    assert_eq!(all.len(), 18, "{all:#?}");
    assert_eq!(ticket_ids(&all), [t1, t2].map(str::to_owned).into());
    assert_eq!(items(server, &c.admin, "").len(), 18);
    let a = &all[0];
    for field in [
        "id",
        "ticket_id",
        "ticket_number",
        "deadline",
        "party",
        "level",
        "due_at",
        "created_at",
        "needs_ack",
        "acknowledged_at",
        "acknowledged_by",
        "recipients",
    ] {
        assert!(a.get(field).is_some(), "{field} in {a}");
    }
    for alert in &all {
        assert_eq!(
            alert["needs_ack"],
            alert["level"] == "escalation",
            "{alert}"
        );
        let number = alert["ticket_number"].as_str().unwrap();
        assert!(number.starts_with("JB-"), "{number}");
    }

    // An officer sees the alerts of its department's ticket only, and its ticket_id of
    // another department's ticket is "not found".
    let mine_dept = items(server, &c.officer.token, "");
    assert_eq!(mine_dept.len(), 9);
    assert_eq!(ticket_ids(&mine_dept), [t1.to_owned()].into());
    server
        .get(&format!("/v1/alerts?ticket_id={t2}"), &c.officer.token)
        .problem(404, "not_found");
    assert_eq!(
        ticket_ids(&items(server, &s.officer_b.token, "")),
        [t2.to_owned()].into()
    );
    let one = items(server, &c.supervisor.token, &format!("?ticket_id={t2}"));
    assert_eq!((one.len(), ticket_ids(&one)), (9, [t2.to_owned()].into()));

    // mine: the officer's warnings and overdues, not the escalations on the same ticket
    // (those go to the supervisors).
    assert!(count_level(&mine_dept, "escalation") > 0);
    let mine = items(server, &c.officer.token, "?mine=true");
    assert!(!mine.is_empty());
    assert!(
        mine.iter().all(|a| addressed_to(a, &c.officer)),
        "{mine:#?}"
    );
    assert_eq!(count_level(&mine, "escalation"), 0);
    assert_eq!(mine.len(), 6);
    assert_eq!(items(server, &c.officer.token, "?mine=false").len(), 9);

    // unacknowledged: only the escalations, each unacknowledged.
    let open = items(server, &c.supervisor.token, "?unacknowledged=true");
    assert_eq!(open.len(), 6);
    assert!(
        open.iter()
            .all(|a| a["level"] == "escalation" && a["acknowledged_at"].is_null())
    );
    let my_open = items(
        server,
        &c.supervisor.token,
        "?mine=true&unacknowledged=true",
    );
    assert_eq!(my_open.len(), 6);
    assert!(my_open.iter().all(|a| addressed_to(a, &c.supervisor)));
    assert!(items(server, &c.officer.token, "?mine=true&unacknowledged=true").is_empty());

    // Pages: newest first, every alert once.
    let mut seen = Vec::new();
    let mut query = "?limit=4".to_owned();
    loop {
        let page = server
            .get(&format!("/v1/alerts{query}"), &c.supervisor.token)
            .json();
        let got = page["items"].as_array().unwrap();
        assert!(got.len() <= 4);
        seen.extend(got.iter().map(|a| a["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(next) => query = format!("?limit=4&cursor={next}"),
            None => break,
        }
    }
    let expected: Vec<String> = all
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen, expected);

    // Strict parameters, each named.
    for (query, parameter) in [
        ("?ticket_id=42", "?ticket_id"),
        ("?mine=yes", "?mine"),
        ("?unacknowledged=1", "?unacknowledged"),
        ("?limit=0", "?limit"),
        ("?limit=101", "?limit"),
        ("?cursor=garbage", "?cursor"),
    ] {
        let errors = server
            .get(&format!("/v1/alerts{query}"), &c.supervisor.token)
            .invalid();
        assert!(
            errors.iter().any(|(at, _)| at == parameter),
            "{query}: {errors:?}"
        );
    }
    let errors = server
        .get("/v1/alerts?level=warning", &c.supervisor.token)
        .invalid();
    assert_eq!(
        errors,
        [("?level".to_owned(), "unknown_parameter".to_owned())]
    );
});

fn ack(server: &TestServer, token: &str, alert: &Value) -> jiban_tests::Response {
    let id = alert["id"].as_str().unwrap();
    server.call("POST", &format!("/v1/alerts/{id}/ack"), Some(token), None)
}

both_backends!(acknowledging_an_escalation, |server| {
    let s = scene(server);
    let c = &s.county;
    let t1 = s.t1["id"].as_str().unwrap();
    let on_t1 = items(server, &c.supervisor.token, &format!("?ticket_id={t1}"));
    let escalations: Vec<&Value> = on_t1
        .iter()
        .filter(|a| a["level"] == "escalation")
        .collect();
    let warning = on_t1.iter().find(|a| a["level"] == "warning").unwrap();
    let (first, second) = (escalations[0], escalations[1]);
    let version_before = server
        .get(&format!("/v1/tickets/{t1}"), &c.supervisor.token)
        .json()["version"]
        .clone();

    // Who may not: enterprises and admins by role; an officer of another department does
    // not see the ticket; the ticket's own officer sees it but is not a recipient.
    ack(server, &c.enterprise_user.token, first).problem(403, "not_permitted");
    ack(server, &c.admin, first).problem(403, "not_permitted");
    ack(server, &s.officer_b.token, first).problem(404, "not_found");
    ack(server, &c.officer.token, first).problem(403, "not_permitted");
    ack(server, &c.liaison.token, first).problem(403, "not_permitted");
    let nobody = json!({"id": uuid::Uuid::now_v7().to_string()});
    ack(server, &c.supervisor.token, &nobody).problem(404, "not_found");
    server
        .call(
            "POST",
            "/v1/alerts/not-a-uuid/ack",
            Some(&c.supervisor.token),
            None,
        )
        .problem(404, "not_found");
    // Only escalations are acknowledged.
    ack(server, &c.officer.token, warning).problem(409, "not_an_escalation");

    // A recipient acknowledges (with an empty body).
    assert!(addressed_to(first, &c.supervisor));
    let r = ack(server, &c.supervisor.token, first);
    assert_eq!(r.status, 200, "{}", r.body);
    let acked = r.json();
    assert_eq!(acked["id"], first["id"]);
    assert_eq!(acked["acknowledged_by"], c.supervisor.id.as_str());
    assert!(acked["acknowledged_at"].is_string());
    assert_eq!(acked["recipients"], first["recipients"]);

    // Once: the second answer says who did it.
    let p = ack(server, &c.supervisor.token, first).problem(409, "already_acknowledged");
    assert!(
        p["detail"].as_str().unwrap().contains(&c.supervisor.id),
        "{p}"
    );

    // Any supervisor may, recipient or not (this one joined after the alert), with `{}`.
    let late = create_person(server, &c.admin, "supervisor", json!({}));
    assert!(!addressed_to(second, &late));
    let id = second["id"].as_str().unwrap();
    let r = server.post(&format!("/v1/alerts/{id}/ack"), &late.token, json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["acknowledged_by"], late.id.as_str());
    // A body with fields is refused.
    let third = escalations[2]["id"].as_str().unwrap();
    server
        .post(
            &format!("/v1/alerts/{third}/ack"),
            &late.token,
            json!({"note": "x"}),
        )
        .invalid();

    // The list agrees.
    let open = items(
        server,
        &c.supervisor.token,
        &format!("?ticket_id={t1}&unacknowledged=true"),
    );
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["id"], escalations[2]["id"]);

    // The timeline has both acknowledgements, internal; the version did not move.
    let events = server
        .get(&format!("/v1/tickets/{t1}/events"), &c.supervisor.token)
        .json();
    let acks: Vec<&Value> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "alert_acknowledged")
        .collect();
    assert_eq!(acks.len(), 2, "{events}");
    assert_eq!(acks[0]["data"]["alert_id"], first["id"]);
    assert_eq!(acks[0]["actor_id"], c.supervisor.id.as_str());
    assert_eq!(acks[0]["internal"], true);
    assert_eq!(
        server
            .get(&format!("/v1/tickets/{t1}"), &c.supervisor.token)
            .json()["version"],
        version_before
    );
    // Enterprises see neither alerts nor acknowledgements on their timeline.
    let theirs = server
        .get(
            &format!("/v1/tickets/{t1}/events"),
            &c.enterprise_user.token,
        )
        .json();
    assert!(
        theirs["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| { e["kind"] != "alert_acknowledged" && e["kind"] != "alerted" })
    );
});

/// A row made dead the way the sender makes one: claimed, then rejected permanently as
/// many times as allowed (here once).
fn dead_row(server: &TestServer) -> String {
    let mut conn = conn(server);
    let now = Utc::now();
    let key = format!("test:dead:{}", uuid::Uuid::new_v4());
    outbox::enqueue(
        &mut conn,
        &[NewMessage {
            dedupe_key: key.clone(),
            kind: OutboxKind::Email,
            recipient: "nobody+reject@example.gov.cn".to_owned(),
            subject: "【督办】测试".to_owned(),
            body: "企业联系人 张经理 0512-6666 8888".to_owned(),
            payload: None,
            ticket_id: None,
        }],
        now,
    )
    .unwrap();
    let later = now + Duration::days(365);
    let mut id = None;
    for m in outbox::claim_due(&mut conn, later, 10_000).unwrap() {
        if m.dedupe_key == key {
            outbox::mark_failed(
                &mut conn,
                m.id,
                later,
                "550 5.1.1 no such user",
                Failure::Permanent,
                1,
            )
            .unwrap();
            id = Some(m.id);
        } else {
            outbox::release(&mut conn, m.id, now).unwrap();
        }
    }
    id.expect("the row was claimed").to_string()
}

both_backends!(notifications_are_for_admins, |server| {
    let s = scene(server);
    let c = &s.county;
    for (_, person) in c.people() {
        server
            .get("/v1/notifications", &person.token)
            .problem(403, "not_permitted");
        server
            .call(
                "POST",
                &format!("/v1/notifications/{}/retry", uuid::Uuid::now_v7()),
                Some(&person.token),
                None,
            )
            .problem(403, "not_permitted");
    }
    let errors = server
        .get("/v1/notifications?status=lost", &c.admin)
        .invalid();
    assert_eq!(errors, [("?status".to_owned(), "unknown_value".to_owned())]);

    // The scanner queued the alerts' mail (and the tickets their announcements).
    let page = server.get("/v1/notifications?limit=100", &c.admin).json();
    let rows = page["items"].as_array().unwrap();
    assert!(rows.len() > 10, "{page}");
    for row in rows {
        assert!(row.get("body").is_none(), "no mail bodies: {row}");
        for field in [
            "id",
            "kind",
            "recipient",
            "subject",
            "status",
            "attempts",
            "rejections",
            "next_attempt_at",
            "last_error",
            "ticket_id",
            "created_at",
            "sent_at",
        ] {
            assert!(row.get(field).is_some(), "{field} in {row}");
        }
    }
    // A row that is queued, being sent or sent is not retried.
    let settled = rows
        .iter()
        .find(|r| r["status"] != "dead" && r["last_error"].is_null())
        .expect("a row without error");
    let id = settled["id"].as_str().unwrap();
    server
        .call(
            "POST",
            &format!("/v1/notifications/{id}/retry"),
            Some(&c.admin),
            None,
        )
        .problem(409, "not_retryable");
    server
        .call(
            "POST",
            &format!("/v1/notifications/{}/retry", uuid::Uuid::now_v7()),
            Some(&c.admin),
            None,
        )
        .problem(404, "not_found");

    // A dead row is listed with its error, and a retry queues it again, due now.
    let dead = dead_row(server);
    let listed = server.get("/v1/notifications?status=dead", &c.admin).json();
    let found: Vec<&Value> = listed["items"].as_array().unwrap().iter().collect();
    assert_eq!(found.len(), 1, "{listed}");
    assert_eq!(found[0]["id"], dead.as_str());
    assert_eq!(found[0]["rejections"], 1);
    assert_eq!(found[0]["last_error"], "550 5.1.1 no such user");
    let r = server.call(
        "POST",
        &format!("/v1/notifications/{dead}/retry"),
        Some(&c.admin),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let row = r.json();
    assert_eq!(
        (row["status"].as_str(), row["rejections"].as_i64()),
        (Some("pending"), Some(0))
    );
    let due =
        chrono::DateTime::parse_from_rfc3339(row["next_attempt_at"].as_str().unwrap()).unwrap();
    assert!(due <= Utc::now() + Duration::seconds(1), "due now: {row}");
    let dead_now = server.get("/v1/notifications?status=dead", &c.admin).json();
    assert!(
        dead_now["items"].as_array().unwrap().is_empty(),
        "{dead_now}"
    );
    // Pending after a failure, it is listed as failing, and may be retried again.
    let failing = server
        .get("/v1/notifications?status=failing", &c.admin)
        .json();
    assert!(
        failing["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == dead.as_str()),
        "{failing}"
    );
});
