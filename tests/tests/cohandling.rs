//! 主办/协办, end to end (issue 13, "Done when"): the real binary on SQLite and PostgreSQL,
//! a ticket led by one department with two co-handling departments from filing to rating;
//! one replies on time, the other late, after its reply limit's alerts reached a real SMTP
//! server exactly once; the statistics show both. And the routes' refusals.

use std::time::Duration as StdDuration;

use chrono::{Duration, SecondsFormat, Utc};
use jiban_tests::alerts::{AlertCounty, Official, act, instant, official, run_once, tagged};
use jiban_tests::fixture::{create_department, unique};
use jiban_tests::smtp::{TestSmtp, unique_address};
use jiban_tests::{Options, TestServer, both_backends};
use serde_json::{Value, json};

const WARNING: &str = "【预警】";
const OVERDUE: &str = "【超期】";
const ESCALATION: &str = "【督办】";
const ASKED: &str = "【协办】";

/// A server that runs no workers of its own: the test drives the passes with run-once.
fn quiet() -> Options {
    Options::new().set("JIBAN_ALERTS", "off")
}

/// A department of its own with one officer reachable by mail.
fn department(server: &TestServer, c: &AlertCounty, name: &str) -> (String, Official) {
    let id = create_department(server, &c.admin, &format!("{name}{}", unique()));
    let officer = official(
        server,
        &c.admin,
        "officer",
        &unique_address(name),
        json!({"department_id": id}),
    );
    (id, officer)
}

fn path(t: &Value) -> String {
    format!("/v1/tickets/{}", t["id"].as_str().unwrap())
}

/// `POST …/co-handlers` with the ticket's current version.
fn add(server: &TestServer, token: &str, t: &Value, body: Value) -> serde_json::Value {
    act(server, token, t, "co-handlers", body)
}

/// `POST …/co-handlers/{department}/reply`, without `If-Match`.
fn reply(server: &TestServer, token: &str, t: &Value, department: &str, opinion: &str) -> u16 {
    server
        .call(
            "POST",
            &format!("{}/co-handlers/{department}/reply", path(t)),
            Some(token),
            Some(&json!({"opinion": opinion})),
        )
        .status
}

/// The request of `department` in the ticket as `token` reads it.
fn request_of(server: &TestServer, token: &str, t: &Value, department: &str) -> Value {
    let t = server.get(&path(t), token).json();
    t["co_handlers"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|c| c["department_id"] == department)
        .cloned()
        .unwrap_or_else(|| panic!("no request of {department}: {t}"))
}

// "Done when": a three-department ticket from filing to rating. The lead (the county's
// department) asks the power office with the default limit and the emergency office with
// one minute; the power office replies on time; the emergency office's ladder sends one
// 预警 to its officer, one 超期 to it and the lead's assignee, one 督办 to the supervisors,
// and nothing to anyone else or twice; it replies late; the lead resolves, the enterprise
// rates; both departments keep reading the ticket; the statistics show one on time and one
// late, beside the 三率 and outside the ranking.
both_backends!(
    a_three_department_ticket_from_filing_to_rating,
    database | db | {
        let Some(smtp) = TestSmtp::from_env() else {
            return;
        };
        let server = TestServer::start(db, quiet());
        let c = AlertCounty::new(&server);
        let (power, power_officer) = department(&server, &c, "power");
        let (emergency, emergency_officer) = department(&server, &c, "emergency");

        let t = c.file(&server, "utilities", json!({"urgency": "utilities"}));
        let t = act(&server, &c.officer.token, &t, "accept", json!({}));
        let t = act(
            &server,
            &c.officer.token,
            &t,
            "contact",
            json!({"method": "phone", "summary": "电话联系企业负责人，了解停电情况"}),
        );
        let request = "请核实该厂区停电原因，并提出恢复供电的方案和时间";
        // Without If-Match: 428, and nothing written.
        let r = server.call(
            "POST",
            &format!("{}/co-handlers", path(&t)),
            Some(&c.officer.token),
            Some(&json!({"department_ids": [power], "request": request})),
        );
        r.problem(428, "if_match_required");
        let t = add(
            &server,
            &c.officer.token,
            &t,
            json!({"department_ids": [power], "request": request}),
        );
        // The default: half of the 24 hours left (utilities), in minutes.
        let asked = &t["co_handlers"][0];
        assert_eq!(asked["status"], "open");
        let limit = instant(&asked["due_at"]) - instant(&asked["requested_at"]);
        assert!(
            (Duration::minutes(710)..=Duration::minutes(720)).contains(&limit),
            "{asked}"
        );
        let short = Utc::now() + Duration::seconds(30);
        let t = add(
            &server,
            &c.officer.token,
            &t,
            json!({"department_ids": [emergency], "request": request,
                   "due_at": short.to_rfc3339_opts(SecondsFormat::Secs, true)}),
        );
        assert_eq!(t["co_handlers"].as_array().unwrap().len(), 2);
        let emergency_due = instant(&t["co_handlers"][1]["due_at"]);

        // The co-handling officers see it, in their "asked of my department" list too.
        for (officer, department) in [(&power_officer, &power), (&emergency_officer, &emergency)] {
            assert_eq!(server.get(&path(&t), &officer.token).status, 200);
            let mine = server
                .get("/v1/tickets?co_handling=true", &officer.token)
                .json();
            let ids: Vec<&Value> = mine["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| &x["id"])
                .collect();
            assert_eq!(ids, vec![&t["id"]], "{department}");
        }
        let lead_view = server
            .get("/v1/tickets?co_handling=true", &c.officer.token)
            .json();
        assert!(lead_view["items"].as_array().unwrap().is_empty());

        // The power office replies on time, without If-Match.
        let opinion = "经核实为线路故障，已安排抢修，预计今晚恢复供电。";
        assert_eq!(
            reply(&server, &power_officer.token, &t, &power, opinion),
            200
        );
        let power_request = request_of(&server, &c.officer.token, &t, &power);
        assert_eq!(power_request["status"], "replied");
        assert_eq!(power_request["replied_on_time"], true);
        assert_eq!(power_request["reply"], opinion);

        // The emergency office's ladder, all due at once; then again: nothing new.
        let after = emergency_due + Duration::hours(2) + Duration::minutes(1);
        let summary = run_once(db, after, Some(&smtp));
        assert_eq!(summary["alerts"], 3, "{summary}");
        let again = run_once(db, after + Duration::minutes(5), Some(&smtp));
        assert_eq!(again["alerts"], 0, "{again}");
        let reply_mails = |who: &Official, tag| {
            tagged(&smtp, &who.email, tag)
                .into_iter()
                .filter(|m| m.subject.as_deref().is_some_and(|s| s.contains("协办答复")))
                .count()
        };
        let expected = [
            (&emergency_officer, [1, 1, 0]),
            (&c.officer, [0, 1, 0]),
            (&c.supervisor, [0, 0, 1]),
            (&c.leader, [0, 0, 1]),
            (&power_officer, [0, 0, 0]),
            (&c.colleague, [0, 0, 0]),
            (&c.bystander, [0, 0, 0]),
        ];
        for (who, counts) in expected {
            for (tag, count) in [WARNING, OVERDUE, ESCALATION].into_iter().zip(counts) {
                assert_eq!(reply_mails(who, tag), count, "{tag} to {}", who.email);
            }
        }
        // Each department asked was told what is asked, by mail.
        for who in [&power_officer, &emergency_officer] {
            let mails = tagged(&smtp, &who.email, ASKED);
            assert_eq!(mails.len(), 1, "{}", who.email);
        }
        // The co-handler's escalation does not make the lead's ticket supervised.
        let now = server.get(&path(&t), &c.officer.token).json();
        assert_eq!(now["supervised"], false, "{now}");

        // The emergency office replies once its limit has passed: late.
        while Utc::now() <= emergency_due {
            std::thread::sleep(StdDuration::from_millis(500));
        }
        let opinion = "已协调应急电源车到场保障，后续由供电部门负责恢复。";
        assert_eq!(
            reply(&server, &emergency_officer.token, &t, &emergency, opinion),
            200
        );
        let late = request_of(&server, &c.officer.token, &t, &emergency);
        assert_eq!(late["status"], "replied");
        assert_eq!(late["replied_on_time"], false, "{late}");
        // A replied request raises no more alerts.
        let quiet_after = run_once(db, after + Duration::hours(30), Some(&smtp));
        let reply_alerts: usize = [WARNING, OVERDUE, ESCALATION]
            .into_iter()
            .map(|tag| reply_mails(&emergency_officer, tag))
            .sum();
        assert_eq!(reply_alerts, 2, "{quiet_after}");

        // Only the lead resolves; then the enterprise rates.
        let resolve = json!({"result": "已协调供电公司抢修线路，厂区于当晚恢复供电。"});
        let version = server.get(&path(&t), &c.officer.token).json()["version"]
            .as_u64()
            .unwrap();
        let id = t["id"].as_str().unwrap();
        let r = server.action(&power_officer.token, id, "resolve", version, &resolve);
        r.problem(403, "not_permitted");
        let t = act(&server, &c.officer.token, &t, "resolve", resolve);
        assert!(
            t["co_handlers"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["status"] == "replied" && !c["ended_at"].is_null()),
            "{t}"
        );
        let t = act(
            &server,
            &c.enterprise_user.token,
            &t,
            "rate",
            json!({"level": "satisfied"}),
        );
        assert_eq!(t["status"], "closed");
        assert!(t["co_handlers"].as_array().unwrap().is_empty(), "{t}");
        // Read access stays with what a department co-handled.
        for officer in [&power_officer, &emergency_officer] {
            assert_eq!(server.get(&path(&t), &officer.token).status, 200);
        }
        // The timeline: officials read the co-handling; the enterprise does not.
        let events = |token: &str| -> Vec<String> {
            server.get(&format!("{}/events", path(&t)), token).json()["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["kind"].as_str().unwrap().to_owned())
                .collect()
        };
        let official_kinds = events(&c.officer.token);
        for kind in [
            "co_handlers_added",
            "co_handler_replied",
            "co_handling_ended",
        ] {
            // Both replied before the resolve, which ended both requests in one entry.
            let expected = match kind {
                "co_handling_ended" => 1,
                _ => 2,
            };
            let n = official_kinds.iter().filter(|k| *k == kind).count();
            assert_eq!(n, expected, "{kind}: {official_kinds:?}");
        }
        let theirs = events(&c.enterprise_user.token);
        assert!(
            theirs.iter().all(|k| !k.starts_with("co_handl")),
            "{theirs:?}"
        );

        // The statistics: beside the 三率, outside the score.
        let today = (Utc::now() + Duration::hours(8)).date_naive();
        let query = format!(
            "/v1/stats/departments?from={today}&to={}",
            today + chrono::Days::new(1)
        );
        let table = server.get(&query, &c.supervisor.token);
        assert_eq!(table.status, 200, "{}", table.body);
        let items = table.json()["items"].as_array().unwrap().clone();
        let row = |d: &str| {
            items
                .iter()
                .find(|x| x["department_id"] == d)
                .cloned()
                .unwrap_or_else(|| panic!("no row of {d}: {items:?}"))
        };
        let counts = |r: &Value| {
            [
                "co_handling_received",
                "co_handling_replied_on_time",
                "co_handling_replied_late",
                "co_handling_not_replied",
            ]
            .map(|f| r[f].as_u64().unwrap())
        };
        assert_eq!(counts(&row(&power)), [1, 1, 0, 0]);
        assert_eq!(counts(&row(&emergency)), [1, 0, 1, 0]);
        assert_eq!(counts(&row(&c.department_id)), [0, 0, 0, 0]);
        for d in [&power, &emergency] {
            assert!(row(d)["rank"].is_null(), "no ticket of its own, no rank");
            assert_eq!(row(d)["received"], 0);
        }
        assert_eq!(row(&c.department_id)["received"], 1);
        // An officer of the power office reads its own row.
        let own = server.get(&query, &power_officer.token).json();
        assert_eq!(own["items"].as_array().unwrap().len(), 1, "{own}");
        assert_eq!(counts(&own["items"][0]), [1, 1, 0, 0]);
    }
);

// The routes' refusals, each naming what is wrong and writing nothing.
both_backends!(co_handling_refusals, |server| {
    let c = AlertCounty::new(server);
    let (power, power_officer) = department(server, &c, "power");
    let t = c.file(server, "utilities", json!({}));
    let t = act(server, &c.officer.token, &t, "accept", json!({}));
    let id = t["id"].as_str().unwrap();
    let version = t["version"].as_u64().unwrap();
    let request = "请核实该厂区停电原因，并提出恢复供电的方案和时间";
    let try_add =
        |token: &str, body: Value| server.action(token, id, "co-handlers", version, &body);

    let r = try_add(
        &c.officer.token,
        json!({"department_ids": [c.department_id], "request": request}),
    );
    let e = r.problem(422, "invalid_input");
    assert_eq!(e["errors"][0]["pointer"], "/department_ids", "{e}");
    assert_eq!(e["errors"][0]["code"], "lead_department", "{e}");
    let r = try_add(
        &c.officer.token,
        json!({"department_ids": [power], "request": "请协助"}),
    );
    let e = r.problem(422, "invalid_input");
    assert_eq!(e["errors"][0]["pointer"], "/request", "{e}");
    let nobody = uuid::Uuid::now_v7().to_string();
    let r = try_add(
        &c.officer.token,
        json!({"department_ids": [power, nobody], "request": request}),
    );
    let e = r.problem(422, "invalid_input");
    assert_eq!(e["errors"][0]["pointer"], "/department_ids/1", "{e}");
    assert_eq!(e["errors"][0]["code"], "unknown_department", "{e}");
    let r = try_add(
        &c.officer.token,
        json!({"department_ids": [power], "request": request, "due_at": "2020-01-01T00:00:00+08:00"}),
    );
    let e = r.problem(422, "invalid_input");
    assert_eq!(e["errors"][0]["pointer"], "/due_at", "{e}");
    let r = try_add(
        &c.officer.token,
        json!({"department_ids": [power], "request": request, "due_at": "tomorrow"}),
    );
    r.problem(422, "invalid_input");
    // Not the lead's: another department's officer cannot see it; the enterprise may not.
    let r = try_add(
        &power_officer.token,
        json!({"department_ids": [power], "request": request}),
    );
    r.problem(404, "not_found");
    let r = try_add(
        &c.enterprise_user.token,
        json!({"department_ids": [power], "request": request}),
    );
    r.problem(403, "not_permitted");
    // Nothing was written.
    let now = server.get(&path(&t), &c.officer.token).json();
    assert_eq!(now["version"], t["version"]);
    assert!(now["co_handlers"].as_array().unwrap().is_empty());

    let t = add(
        server,
        &c.officer.token,
        &t,
        json!({"department_ids": [power], "request": request}),
    );
    let r = server.action(
        &c.officer.token,
        id,
        "co-handlers",
        t["version"].as_u64().unwrap(),
        &json!({"department_ids": [power], "request": request}),
    );
    r.problem(409, "already_co_handling");
    // Replies: a short opinion, another department's path, a department never asked.
    assert_eq!(reply(server, &power_officer.token, &t, &power, "好的"), 422);
    // A department never asked names nothing on the ticket.
    assert_eq!(
        reply(
            server,
            &power_officer.token,
            &t,
            &c.department_id,
            "代主办部门答复意见。"
        ),
        404
    );
    assert_eq!(
        reply(server, &c.officer.token, &t, &power, "主办代为答复的意见。"),
        403
    );
    let r = server.call(
        "POST",
        &format!("{}/co-handlers/not-a-uuid/reply", path(&t)),
        Some(&power_officer.token),
        Some(&json!({"opinion": "线路故障，今晚恢复供电。"})),
    );
    r.problem(404, "not_found");
    // A stale If-Match on a reply is 412.
    let r = server.raw(
        "POST",
        &format!("{}/co-handlers/{power}/reply", path(&t)),
        &[
            ("authorization", &format!("Bearer {}", power_officer.token)),
            ("content-type", "application/json"),
            ("if-match", "\"1\""),
        ],
        Some(
            json!({"opinion": "线路故障，今晚恢复供电。"})
                .to_string()
                .into_bytes(),
        ),
    );
    r.problem(412, "version_mismatch");
    // The enterprise reads no co-handling in its ticket.
    let theirs = server.get(&path(&t), &c.enterprise_user.token).json();
    assert!(theirs["co_handlers"].as_array().unwrap().is_empty());
    // After the lead resolves, a reply is 409.
    let t = act(
        server,
        &c.officer.token,
        &t,
        "resolve",
        json!({"result": "已协调供电公司抢修线路，厂区于当晚恢复供电。"}),
    );
    assert_eq!(t["co_handlers"][0]["status"], "not_replied");
    assert_eq!(
        reply(
            server,
            &power_officer.token,
            &t,
            &power,
            "迟到的答复：线路已修复。"
        ),
        409
    );
    // The list filter takes only a flag, and not from an enterprise, for which co-handling
    // is internal.
    let r = server.get("/v1/tickets?co_handling=maybe", &power_officer.token);
    r.problem(422, "invalid_input");
    let r = server.get("/v1/tickets?co_handling=true", &c.enterprise_user.token);
    let e = r.problem(422, "invalid_input");
    assert_eq!(e["errors"][0]["parameter"], "co_handling", "{e}");
    assert_eq!(e["errors"][0]["code"], "not_allowed", "{e}");
});
