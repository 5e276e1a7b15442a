//! Every ticket action over HTTP, on both backends (issue 8, point 3): dispose, assign,
//! transfer, request-info, supply-info, explain, appeal and its decision, withdraw, each with
//! its answer, its main refusals and its place in the timeline; then the whole life of a
//! ticket for each role as DESIGN.md section 3 draws it, with what each role sees at each
//! step.

use jiban_tests::alerts::{instant, run_once};
use jiban_tests::fixture::{County, Person, create_department, create_person, unique};
use jiban_tests::{Response, TestServer, both_backends};
use serde_json::{Value, json};

/// The county of the fixture (department A, its officer, a supervisor, a liaison stationed
/// at the enterprise, the enterprise's user), with `utilities` dispatched to department A,
/// a second officer of A, and two more departments with an officer each.
struct World {
    c: County,
    /// Another officer of department A.
    colleague: Person,
    dept_b: String,
    officer_b: Person,
    dept_c: String,
    officer_c: Person,
}

impl World {
    fn new(server: &TestServer) -> World {
        let c = County::new(server);
        let r = server.put(
            "/v1/categories/utilities",
            &c.admin,
            json!({"name": "水电气热", "department_id": c.department_id}),
        );
        assert!(r.status == 200 || r.status == 201, "{}", r.body);
        let officer_in =
            |dept: &str| create_person(server, &c.admin, "officer", json!({"department_id": dept}));
        let colleague = officer_in(&c.department_id);
        let dept_b = create_department(server, &c.admin, &format!("b{}", unique()));
        let officer_b = officer_in(&dept_b);
        let dept_c = create_department(server, &c.admin, &format!("c{}", unique()));
        let officer_c = officer_in(&dept_c);
        World {
            c,
            colleague,
            dept_b,
            officer_b,
            dept_c,
            officer_c,
        }
    }

    fn ent(&self) -> &str {
        &self.c.enterprise_user.token
    }

    fn officer(&self) -> &str {
        &self.c.officer.token
    }

    fn supervisor(&self) -> &str {
        &self.c.supervisor.token
    }

    fn liaison(&self) -> &str {
        &self.c.liaison.token
    }

    /// The enterprise files a power complaint, dispatched to department A.
    fn file(&self, server: &TestServer) -> Value {
        file(server, self.ent(), complaint())
    }

    /// A ticket of department A, accepted by its officer (the assignee).
    fn accepted(&self, server: &TestServer) -> Value {
        let t = self.file(server);
        ok(&t, send(server, self.officer(), &t, "accept", json!({})))
    }

    /// A ticket of department A, resolved by its officer.
    fn resolved(&self, server: &TestServer) -> Value {
        let t = self.accepted(server);
        ok(&t, send(server, self.officer(), &t, "resolve", result()))
    }
}

fn complaint() -> Value {
    json!({
        "kind": "complaint",
        "category": "utilities",
        "title": "厂区停电影响生产",
        "description": "自昨晚22时起厂区停电，三条产线停工，请尽快协调恢复供电。",
    })
}

/// A complaint of a category no department takes: it waits in the intake queue.
fn intake_complaint(enterprise_id: Option<&str>) -> Value {
    let mut body = json!({
        "kind": "request",
        "category": "land",
        "title": "新建厂房用地指标",
        "description": "二期厂房需新增用地约二十亩，请协调用地指标。",
    });
    if let Some(id) = enterprise_id {
        body["enterprise_id"] = json!(id);
    }
    body
}

fn result() -> Value {
    json!({"result": "已协调供电公司抢修线路，当日18时恢复供电。"})
}

/// `n` characters of Chinese text (lengths count characters, DESIGN.md rule 12).
fn text(n: usize) -> String {
    "依据省级用地指标年度计划本年度暂无新增指标需待下一年度统筹安排"
        .chars()
        .cycle()
        .take(n)
        .collect()
}

fn explanation() -> Value {
    json!({
        "explanation": text(50),
        "policy_basis": "《江苏省土地管理条例》第二十条",
        "plan": "明年一季度优先安排该企业用地指标",
    })
}

fn file(server: &TestServer, token: &str, body: Value) -> Value {
    let r = server.post("/v1/tickets", token, body);
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()
}

fn path(ticket: &Value, rest: &str) -> String {
    format!("/v1/tickets/{}{rest}", ticket["id"].as_str().unwrap())
}

/// A state change with `If-Match` naming the version of `ticket`.
fn send(server: &TestServer, token: &str, ticket: &Value, action: &str, body: Value) -> Response {
    let version = format!("\"{}\"", ticket["version"]);
    let auth = format!("Bearer {token}");
    server.raw(
        "POST",
        &path(ticket, &format!("/{action}")),
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
            ("if-match", &version),
        ],
        Some(body.to_string().into_bytes()),
    )
}

/// The success answer of a state change on `before`: 200, the version one more, the ETag
/// naming it.
#[track_caller]
fn ok(before: &Value, r: Response) -> Value {
    assert_eq!(r.status, 200, "{}", r.body);
    let t = r.json();
    assert_eq!(
        t["version"].as_u64(),
        Some(before["version"].as_u64().unwrap() + 1),
        "a state change is one version: {t}"
    );
    assert_eq!(
        r.header("etag"),
        Some(format!("\"{}\"", t["version"]).as_str()),
        "the ETag is the version"
    );
    assert_eq!(t["id"], before["id"]);
    t
}

/// The 422 of a state change, which names `pointer` with `code`.
#[track_caller]
fn invalid_at(r: &Response, pointer: &str, code: &str) {
    let errors = r.invalid();
    assert!(
        errors.contains(&(pointer.to_owned(), code.to_owned())),
        "{pointer} {code}: {errors:?}"
    );
}

/// The ticket as `token` reads it now.
fn read(server: &TestServer, token: &str, ticket: &Value) -> Value {
    let r = server.get(&path(ticket, ""), token);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

/// Neither the ticket nor its timeline exists for `token` (DESIGN.md section 1).
#[track_caller]
fn hidden(server: &TestServer, token: &str, ticket: &Value) {
    server
        .get(&path(ticket, ""), token)
        .problem(404, "not_found");
    server
        .get(&path(ticket, "/events"), token)
        .problem(404, "not_found");
}

/// The timeline as `token` reads it: `(kind, internal)`, oldest first.
fn timeline(server: &TestServer, token: &str, ticket: &Value) -> Vec<(String, bool)> {
    let r = server.get(&path(ticket, "/events"), token);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["internal"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn kinds(server: &TestServer, token: &str, ticket: &Value) -> Vec<String> {
    timeline(server, token, ticket)
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

/// The last event of the timeline, as `token` reads it.
fn last_event(server: &TestServer, token: &str, ticket: &Value) -> Value {
    let r = server.get(&path(ticket, "/events"), token);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["items"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone()
}

/// The enterprise's timeline holds no internal entry, and it is the officials' timeline
/// without the internal ones.
#[track_caller]
fn enterprise_sees_the_public_part(server: &TestServer, w: &World, ticket: &Value) {
    let all = timeline(server, w.supervisor(), ticket);
    let public: Vec<(String, bool)> = all.iter().filter(|(_, i)| !i).cloned().collect();
    assert_eq!(timeline(server, w.ent(), ticket), public, "all: {all:?}");
}

// ---------------------------------------------------------------------------------------
// Each action
// ---------------------------------------------------------------------------------------

both_backends!(dispose_closes_with_an_explanation, |server| {
    let w = World::new(server);
    let original = w.file(server);
    let mut hotline = complaint();
    hotline["enterprise_id"] = json!(w.c.enterprise_id);
    let again = file(server, w.officer(), hotline.clone());
    assert_eq!(again["channel"], "hotline");
    let duplicate = json!({
        "disposition": "duplicate",
        "explanation": "与已受理工单反映同一停电问题，合并到原工单办理。",
        "duplicate_of": original["id"],
    });

    // Only officers dispose; outside its scope the ticket does not exist.
    for token in [w.ent(), w.supervisor(), w.liaison(), w.c.admin.as_str()] {
        send(server, token, &again, "dispose", duplicate.clone()).problem(403, "not_permitted");
    }
    send(
        server,
        &w.officer_b.token,
        &again,
        "dispose",
        duplicate.clone(),
    )
    .problem(404, "not_found");

    // The explanation needs 20 characters after trimming; a duplicate names its original,
    // and only a duplicate does.
    let mut short = duplicate.clone();
    short["explanation"] = json!(format!("  {}  ", text(19)));
    invalid_at(
        &send(server, w.officer(), &again, "dispose", short),
        "/explanation",
        "too_short",
    );
    // Characters, not bytes nor UTF-16 units; ideographic spaces trim like any other.
    for padded in ["😀".repeat(19), format!("\u{3000}{}\u{3000}", text(19))] {
        let mut short = duplicate.clone();
        short["explanation"] = json!(padded);
        invalid_at(
            &send(server, w.officer(), &again, "dispose", short),
            "/explanation",
            "too_short",
        );
    }
    let mut unlinked = duplicate.clone();
    unlinked["duplicate_of"] = Value::Null;
    invalid_at(
        &send(server, w.officer(), &again, "dispose", unlinked),
        "/duplicate_of",
        "required",
    );
    let mut itself = duplicate.clone();
    itself["duplicate_of"] = again["id"].clone();
    invalid_at(
        &send(server, w.officer(), &again, "dispose", itself),
        "/duplicate_of",
        "duplicate_of_self",
    );
    let mut unknown = duplicate.clone();
    unknown["duplicate_of"] = json!("0190f1d2-0000-7000-8000-000000000000");
    invalid_at(
        &send(server, w.officer(), &again, "dispose", unknown),
        "/duplicate_of",
        "unknown_ticket",
    );
    let mut redirect_linked = duplicate.clone();
    redirect_linked["disposition"] = json!("redirect");
    invalid_at(
        &send(server, w.officer(), &again, "dispose", redirect_linked),
        "/duplicate_of",
        "only_for_duplicates",
    );
    assert_eq!(
        read(server, w.officer(), &again)["version"],
        1,
        "nothing written"
    );

    let t = ok(
        &again,
        send(server, w.officer(), &again, "dispose", duplicate.clone()),
    );
    assert_eq!(
        (t["status"].as_str(), t["close_reason"].as_str()),
        (Some("closed"), Some("duplicate"))
    );
    assert_eq!(t["duplicate_of"], original["id"]);
    assert!(t["closed_at"].is_string());
    assert_eq!(
        t["first_responder_id"],
        Value::Null,
        "disposing is not accepting"
    );
    send(server, w.officer(), &t, "dispose", duplicate.clone()).problem(409, "wrong_status");
    assert_eq!(
        timeline(server, w.officer(), &t),
        [
            ("submitted".to_owned(), false),
            ("disposed".to_owned(), false)
        ]
    );
    enterprise_sees_the_public_part(server, &w, &t);
    let event = last_event(server, w.ent(), &t);
    assert_eq!(event["data"]["disposition"], "duplicate");
    assert_eq!(event["data"]["duplicate_of"], original["id"]);

    // Redirect, with exactly 20 characters; out of scope.
    for (disposition, explanation) in [
        ("redirect", format!(" {} ", text(20))),
        ("redirect", "😀".repeat(20)),
        (
            "out_of_scope",
            "该事项属司法程序范围，请通过法院途径依法解决。".to_owned(),
        ),
    ] {
        let t = w.file(server);
        let done = ok(
            &t,
            send(
                server,
                w.officer(),
                &t,
                "dispose",
                json!({"disposition": disposition, "explanation": explanation}),
            ),
        );
        assert_eq!(
            (done["status"].as_str(), done["close_reason"].as_str()),
            (Some("closed"), Some(disposition))
        );
        assert_eq!(done["duplicate_of"], Value::Null);
        let event = last_event(server, w.ent(), &done);
        assert_eq!(
            event["data"]["explanation"],
            explanation.trim(),
            "the stored text is the trimmed one"
        );
    }

    // An accepted ticket is not disposed of.
    let accepted = w.accepted(server);
    send(
        server,
        w.officer(),
        &accepted,
        "dispose",
        json!({"disposition": "out_of_scope", "explanation": text(30)}),
    )
    .problem(409, "wrong_status");
});

both_backends!(
    assign_to_an_officer_of_the_department_or_a_liaison,
    |server| {
        let w = World::new(server);
        let t = w.accepted(server);
        assert_eq!(t["assignee_id"], w.c.officer.id.as_str());

        // Wrong role 403; out of scope 404.
        let to_colleague = json!({"assignee_id": w.colleague.id});
        for token in [w.ent(), w.liaison(), w.c.admin.as_str()] {
            send(server, token, &t, "assign", to_colleague.clone()).problem(403, "not_permitted");
        }
        send(
            server,
            &w.officer_b.token,
            &t,
            "assign",
            to_colleague.clone(),
        )
        .problem(404, "not_found");
        // Only an officer of the department or a liaison stationed at the enterprise.
        for ineligible in [&w.officer_b.id, &w.c.supervisor.id, &w.c.enterprise_user.id] {
            invalid_at(
                &send(
                    server,
                    w.officer(),
                    &t,
                    "assign",
                    json!({"assignee_id": ineligible}),
                ),
                "/assignee_id",
                "assignee_not_eligible",
            );
        }
        invalid_at(
            &send(
                server,
                w.officer(),
                &t,
                "assign",
                json!({"assignee_id": "0190f1d2-0000-7000-8000-000000000000"}),
            ),
            "/assignee_id",
            "unknown_user",
        );

        // The officer hands it to a colleague; the supervisor to the liaison.
        let t = ok(&t, send(server, w.officer(), &t, "assign", to_colleague));
        assert_eq!(t["assignee_id"], w.colleague.id.as_str());
        assert_eq!(t["status"], "in_progress");
        assert_eq!(
            t["first_responder_id"],
            w.c.officer.id.as_str(),
            "首问 stays"
        );
        let t = ok(
            &t,
            send(
                server,
                w.supervisor(),
                &t,
                "assign",
                json!({"assignee_id": w.c.liaison.id}),
            ),
        );
        assert_eq!(t["assignee_id"], w.c.liaison.id.as_str());
        // The liaison now works it: it may resolve what is assigned to it.
        let kinds_seen = kinds(server, w.officer(), &t);
        assert_eq!(
            kinds_seen,
            ["submitted", "accepted", "assigned", "assigned"]
        );
        assert!(
            timeline(server, w.officer(), &t)
                .iter()
                .filter(|(k, _)| k == "assigned")
                .all(|(_, internal)| *internal),
            "assignments are internal"
        );
        enterprise_sees_the_public_part(server, &w, &t);
        assert_eq!(kinds(server, w.ent(), &t), ["submitted", "accepted"]);

        let t = ok(&t, send(server, w.liaison(), &t, "resolve", result()));
        send(
            server,
            w.officer(),
            &t,
            "assign",
            json!({"assignee_id": w.c.officer.id}),
        )
        .problem(409, "wrong_status");
    }
);

both_backends!(
    transfer_keeps_the_deadlines_and_a_third_needs_a_supervisor,
    |server| {
        let w = World::new(server);
        let t = w.accepted(server);
        let deadlines = |t: &Value| {
            (
                t["accept_due_at"].clone(),
                t["contact_due_at"].clone(),
                t["resolve_due_at"].clone(),
            )
        };
        let to = |dept: &str| json!({"department_id": dept, "reason": "该线路属另一部门管辖范围"});

        for token in [w.ent(), w.liaison(), w.c.admin.as_str()] {
            send(server, token, &t, "transfer", to(&w.dept_b)).problem(403, "not_permitted");
        }
        send(server, &w.officer_b.token, &t, "transfer", to(&w.dept_c)).problem(404, "not_found");
        invalid_at(
            &send(
                server,
                w.officer(),
                &t,
                "transfer",
                json!({"department_id": w.dept_b, "reason": "  "}),
            ),
            "/reason",
            "blank",
        );
        let r = send(
            server,
            w.officer(),
            &t,
            "transfer",
            json!({"department_id": w.dept_b}),
        );
        invalid_at(&r, "/reason", "required");
        invalid_at(
            &send(
                server,
                w.officer(),
                &t,
                "transfer",
                to("0190f1d2-0000-7000-8000-000000000000"),
            ),
            "/department_id",
            "unknown_department",
        );
        send(server, w.officer(), &t, "transfer", to(&w.c.department_id))
            .problem(409, "same_department");

        // First transfer, by the accepting officer: A → B.
        let t1 = ok(&t, send(server, w.officer(), &t, "transfer", to(&w.dept_b)));
        assert_eq!(t1["department_id"], w.dept_b.as_str());
        assert_eq!(t1["transfer_count"], 1);
        assert_eq!(
            t1["assignee_id"],
            Value::Null,
            "the new department picks it up"
        );
        assert_eq!(t1["status"], "in_progress");
        assert_eq!(deadlines(&t1), deadlines(&t), "deadlines do not restart");
        assert_eq!(t1["first_responder_id"], w.c.officer.id.as_str());
        // The first responder still sees it; its colleague no longer does; B's officer does.
        read(server, w.officer(), &t1);
        hidden(server, &w.colleague.token, &t1);
        read(server, &w.officer_b.token, &t1);
        hidden(server, &w.officer_c.token, &t1);

        // Second, by B's officer: B → C.
        let t2 = ok(
            &t1,
            send(server, &w.officer_b.token, &t1, "transfer", to(&w.dept_c)),
        );
        assert_eq!(
            (t2["department_id"].as_str(), t2["transfer_count"].as_u64()),
            (Some(w.dept_c.as_str()), Some(2))
        );
        assert_eq!(deadlines(&t2), deadlines(&t));
        hidden(server, &w.officer_b.token, &t2);

        // A third by an officer: 403; the supervisor designates the department.
        let p = send(
            server,
            &w.officer_c.token,
            &t2,
            "transfer",
            to(&w.c.department_id),
        )
        .problem(403, "transfer_needs_supervisor");
        assert!(p["detail"].is_string());
        let t3 = ok(
            &t2,
            send(
                server,
                w.supervisor(),
                &t2,
                "transfer",
                to(&w.c.department_id),
            ),
        );
        assert_eq!(
            (t3["department_id"].as_str(), t3["transfer_count"].as_u64()),
            (Some(w.c.department_id.as_str()), Some(3))
        );
        assert_eq!(deadlines(&t3), deadlines(&t));
        read(server, &w.colleague.token, &t3);

        let events = server.get(&path(&t3, "/events"), w.supervisor()).json();
        let transfers: Vec<&Value> = events["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "transferred")
            .collect();
        assert_eq!(transfers.len(), 3);
        assert!(transfers.iter().all(|e| e["internal"] == true));
        assert_eq!(
            transfers[0]["data"]["from_department_id"],
            w.c.department_id.as_str()
        );
        assert_eq!(
            transfers[2]["data"]["to_department_id"],
            w.c.department_id.as_str()
        );
        assert_eq!(transfers[2]["actor_id"], w.c.supervisor.id.as_str());
        assert_eq!(transfers[1]["data"]["reason"], "该线路属另一部门管辖范围");
        enterprise_sees_the_public_part(server, &w, &t3);
        assert_eq!(kinds(server, w.ent(), &t3), ["submitted", "accepted"]);

        // Nothing moves once it is answered.
        let done = ok(
            &t3,
            send(server, &w.colleague.token, &t3, "resolve", result()),
        );
        send(server, w.supervisor(), &done, "transfer", to(&w.dept_b)).problem(409, "wrong_status");
    }
);

both_backends!(request_info_once_and_supply_it, |server| {
    let w = World::new(server);
    let ask = json!({"items": ["停电区域平面图", "近三个月电费单"], "note": "请一次性补齐"});
    let submitted = w.file(server);
    send(server, w.officer(), &submitted, "request-info", ask.clone()).problem(409, "wrong_status");

    let t = w.accepted(server);
    for token in [w.ent(), w.c.admin.as_str()] {
        send(server, token, &t, "request-info", ask.clone()).problem(403, "not_permitted");
    }
    send(server, &w.officer_b.token, &t, "request-info", ask.clone()).problem(404, "not_found");
    let r = send(
        server,
        w.officer(),
        &t,
        "request-info",
        json!({"items": []}),
    );
    assert!(
        r.invalid().iter().any(|(pointer, _)| pointer == "/items"),
        "{}",
        r.body
    );

    let asked = ok(
        &t,
        send(server, w.officer(), &t, "request-info", ask.clone()),
    );
    assert_eq!(asked["status"], "awaiting_info");
    assert_eq!(asked["paused"], true);
    assert_eq!(asked["info_requested"], 1);
    send(server, w.supervisor(), &asked, "request-info", ask.clone()).problem(409, "wrong_status");
    let event = last_event(server, w.ent(), &asked);
    assert_eq!(
        (event["kind"].as_str(), event["internal"].as_bool()),
        (Some("info_requested"), Some(false))
    );
    assert_eq!(event["data"]["items"], ask["items"]);

    // The enterprise or its liaison supplies it; nobody else.
    let supply = json!({"body": "已上传平面图及电费单，请查收。"});
    for token in [w.officer(), w.supervisor(), w.c.admin.as_str()] {
        send(server, token, &asked, "supply-info", supply.clone()).problem(403, "not_permitted");
    }
    let far_liaison = create_person(server, &w.c.admin, "liaison", json!({}));
    for outsider in [&w.officer_b, &far_liaison] {
        send(
            server,
            &outsider.token,
            &asked,
            "supply-info",
            supply.clone(),
        )
        .problem(404, "not_found");
    }
    let supplied = ok(
        &asked,
        send(server, w.ent(), &asked, "supply-info", supply.clone()),
    );
    assert_eq!(supplied["status"], "in_progress");
    assert_eq!(supplied["paused"], false);
    assert!(
        instant(&supplied["resolve_due_at"]) >= instant(&asked["resolve_due_at"]),
        "the pause never brings a deadline forward"
    );
    send(server, w.ent(), &supplied, "supply-info", supply.clone()).problem(409, "wrong_status");

    // An officer or liaison asks once; a supervisor a second time, and nobody a third.
    for token in [w.officer(), w.liaison(), w.colleague.token.as_str()] {
        send(server, token, &supplied, "request-info", ask.clone())
            .problem(409, "info_already_requested");
    }
    let second = ok(
        &supplied,
        send(
            server,
            w.supervisor(),
            &supplied,
            "request-info",
            ask.clone(),
        ),
    );
    assert_eq!(
        (second["status"].as_str(), second["info_requested"].as_u64()),
        (Some("awaiting_info"), Some(2))
    );
    let resumed = ok(
        &second,
        send(server, w.liaison(), &second, "supply-info", supply),
    );
    assert_eq!(resumed["status"], "in_progress");
    send(server, w.supervisor(), &resumed, "request-info", ask)
        .problem(409, "info_already_requested");

    assert_eq!(
        kinds(server, w.ent(), &resumed),
        [
            "submitted",
            "accepted",
            "info_requested",
            "info_supplied",
            "info_requested",
            "info_supplied"
        ]
    );
    enterprise_sees_the_public_part(server, &w, &resumed);
});

both_backends!(
    explain_needs_fifty_characters_and_opens_the_rating_window,
    |server| {
        let w = World::new(server);
        let submitted = w.file(server);
        send(server, w.officer(), &submitted, "explain", explanation())
            .problem(409, "wrong_status");
        let t = w.accepted(server);
        for token in [w.ent(), w.liaison(), w.supervisor(), w.c.admin.as_str()] {
            send(server, token, &t, "explain", explanation()).problem(403, "not_permitted");
        }
        send(server, &w.officer_b.token, &t, "explain", explanation()).problem(404, "not_found");
        let mut short = explanation();
        short["explanation"] = json!(format!("  {}  ", text(49)));
        invalid_at(
            &send(server, w.officer(), &t, "explain", short),
            "/explanation",
            "too_short",
        );
        let mut emoji = explanation();
        emoji["explanation"] = json!("😀".repeat(49));
        invalid_at(
            &send(server, w.officer(), &t, "explain", emoji),
            "/explanation",
            "too_short",
        );
        let mut unfounded = explanation();
        unfounded.as_object_mut().unwrap().remove("policy_basis");
        invalid_at(
            &send(server, w.officer(), &t, "explain", unfounded),
            "/policy_basis",
            "required",
        );

        let e = ok(&t, send(server, w.officer(), &t, "explain", explanation()));
        assert_eq!(e["status"], "explained");
        assert_eq!(e["explanation"], text(50).as_str());
        assert_eq!(e["policy_basis"], "《江苏省土地管理条例》第二十条");
        assert_eq!(e["plan"], "明年一季度优先安排该企业用地指标");
        assert_eq!(e["resolution"], Value::Null);
        assert!(instant(&e["rating_due_at"]) > instant(&e["updated_at"]));
        send(server, w.officer(), &e, "explain", explanation()).problem(409, "wrong_status");
        send(server, w.officer(), &e, "resolve", result()).problem(409, "wrong_status");
        let event = last_event(server, w.ent(), &e);
        assert_eq!(
            (event["kind"].as_str(), event["internal"].as_bool()),
            (Some("explained"), Some(false))
        );
        assert_eq!(event["data"]["policy_basis"], e["policy_basis"]);

        // Without a plan it is fine too.
        let t = w.accepted(server);
        let mut no_plan = explanation();
        no_plan.as_object_mut().unwrap().remove("plan");
        let e2 = ok(&t, send(server, w.officer(), &t, "explain", no_plan));
        assert_eq!(e2["plan"], Value::Null);

        // The window is open: the enterprise rates.
        let rated = ok(
            &e,
            send(server, w.ent(), &e, "rate", json!({"level": "satisfied"})),
        );
        assert_eq!(
            (rated["status"].as_str(), rated["close_reason"].as_str()),
            (Some("closed"), Some("rated"))
        );
    }
);

both_backends!(
    an_officer_appeals_a_rating_and_a_supervisor_decides,
    |server| {
        let w = World::new(server);
        let appeal = json!({"reason": "企业不满意系因电价政策，非办理质量问题"});

        // No rating yet: nothing to appeal or decide.
        let t = w.resolved(server);
        send(server, w.officer(), &t, "appeal", appeal.clone()).problem(409, "no_rating");
        send(
            server,
            w.supervisor(),
            &t,
            "appeal/decision",
            json!({"uphold": true}),
        )
        .problem(409, "no_pending_appeal");

        // A bad rating reopens the ticket; the officer appeals it; upheld, the redo stays.
        let bad = ok(
            &t,
            send(
                server,
                w.ent(),
                &t,
                "rate",
                json!({"level": "very_dissatisfied", "comment": "电价太高"}),
            ),
        );
        assert_eq!(bad["status"], "in_progress");
        for token in [w.ent(), w.supervisor(), w.liaison(), w.c.admin.as_str()] {
            send(server, token, &bad, "appeal", appeal.clone()).problem(403, "not_permitted");
        }
        send(server, &w.officer_b.token, &bad, "appeal", appeal.clone()).problem(404, "not_found");
        invalid_at(
            &send(server, w.officer(), &bad, "appeal", json!({"reason": ""})),
            "/reason",
            "blank",
        );
        let appealed = ok(
            &bad,
            send(server, w.officer(), &bad, "appeal", appeal.clone()),
        );
        send(
            server,
            &w.colleague.token,
            &appealed,
            "appeal",
            appeal.clone(),
        )
        .problem(409, "appeal_already_filed");
        for token in [w.officer(), w.ent(), w.c.admin.as_str()] {
            send(
                server,
                token,
                &appealed,
                "appeal/decision",
                json!({"uphold": true}),
            )
            .problem(403, "not_permitted");
        }
        send(
            server,
            &w.officer_b.token,
            &appealed,
            "appeal/decision",
            json!({"uphold": true}),
        )
        .problem(404, "not_found");
        let upheld = ok(
            &appealed,
            send(
                server,
                w.supervisor(),
                &appealed,
                "appeal/decision",
                json!({"uphold": true, "note": "经核实属政策原因"}),
            ),
        );
        assert_eq!(
            (
                upheld["status"].as_str(),
                upheld["redo_count"].as_u64(),
                upheld["supervised"].as_bool()
            ),
            (Some("in_progress"), Some(1), Some(true)),
            "an upheld appeal keeps the redo"
        );
        send(
            server,
            w.supervisor(),
            &upheld,
            "appeal/decision",
            json!({"uphold": false}),
        )
        .problem(409, "no_pending_appeal");
        let officials = timeline(server, w.supervisor(), &upheld);
        let tail: Vec<_> = officials[officials.len() - 5..].to_vec();
        assert_eq!(
            tail,
            [
                ("rated".to_owned(), false),
                ("reopened".to_owned(), false),
                ("escalated".to_owned(), true),
                ("appealed".to_owned(), true),
                ("appeal_decided".to_owned(), true),
            ]
        );
        enterprise_sees_the_public_part(server, &w, &upheld);

        // A good rating closes the ticket; an appeal of it, rejected, shows on the rating for
        // officials and not for the enterprise.
        let t = w.resolved(server);
        let closed = ok(
            &t,
            send(
                server,
                w.ent(),
                &t,
                "rate",
                json!({"level": "basically_satisfied"}),
            ),
        );
        let appealed = ok(
            &closed,
            send(server, w.officer(), &closed, "appeal", appeal.clone()),
        );
        assert_eq!(appealed["rating"]["appeal"]["decision"], "pending");
        assert_eq!(appealed["status"], "closed");
        let rejected = ok(
            &appealed,
            send(
                server,
                w.supervisor(),
                &appealed,
                "appeal/decision",
                json!({"uphold": false, "note": "评价属实"}),
            ),
        );
        assert_eq!(rejected["rating"]["appeal"]["decision"], "rejected");
        assert_eq!(rejected["rating"]["appeal"]["note"], "评价属实");
        assert_eq!(rejected["rating"]["level"], "basically_satisfied");
        let seen = read(server, w.ent(), &rejected);
        assert_eq!(seen["rating"]["level"], "basically_satisfied");
        assert_eq!(
            seen["rating"]["appeal"],
            Value::Null,
            "an appeal is internal"
        );
        let listed = server.get("/v1/tickets?status=closed", w.ent()).json();
        let mine = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == rejected["id"])
            .unwrap()
            .clone();
        assert_eq!(mine["rating"]["level"], "basically_satisfied", "{mine}");
        assert_eq!(
            mine["rating"]["appeal"],
            Value::Null,
            "nor in the list: {mine}"
        );
        assert_eq!(
            kinds(server, w.ent(), &rejected),
            ["submitted", "accepted", "resolved", "rated", "closed"]
        );
    }
);

both_backends!(the_enterprise_withdraws_until_answered, |server| {
    let w = World::new(server);
    let why = json!({"reason": "问题已自行解决，撤回诉求"});

    // From submitted.
    let t = w.file(server);
    for token in [w.officer(), w.supervisor(), w.liaison(), w.c.admin.as_str()] {
        send(server, token, &t, "withdraw", why.clone()).problem(403, "not_permitted");
    }
    let stranger_enterprise =
        jiban_tests::fixture::create_enterprise(server, &w.c.admin, "无锡电子有限公司");
    let stranger = create_person(
        server,
        &w.c.admin,
        "enterprise",
        json!({"enterprise_id": stranger_enterprise}),
    );
    send(server, &stranger.token, &t, "withdraw", why.clone()).problem(404, "not_found");
    invalid_at(
        &send(server, w.ent(), &t, "withdraw", json!({})),
        "/reason",
        "required",
    );
    let gone = ok(&t, send(server, w.ent(), &t, "withdraw", why.clone()));
    assert_eq!(
        (gone["status"].as_str(), gone["close_reason"].as_str()),
        (Some("withdrawn"), Some("withdrawn"))
    );
    assert!(gone["closed_at"].is_string());
    send(server, w.ent(), &gone, "withdraw", why.clone()).problem(409, "wrong_status");
    send(server, w.officer(), &gone, "accept", json!({})).problem(409, "wrong_status");
    assert_eq!(
        timeline(server, w.ent(), &gone),
        [
            ("submitted".to_owned(), false),
            ("withdrawn".to_owned(), false)
        ]
    );
    assert_eq!(
        last_event(server, w.officer(), &gone)["data"]["reason"],
        why["reason"]
    );

    // While awaiting information: the pause ends with it.
    let t = w.accepted(server);
    let t = ok(
        &t,
        send(
            server,
            w.officer(),
            &t,
            "request-info",
            json!({"items": ["营业执照"]}),
        ),
    );
    let gone = ok(&t, send(server, w.ent(), &t, "withdraw", why.clone()));
    assert_eq!(
        (gone["status"].as_str(), gone["paused"].as_bool()),
        (Some("withdrawn"), Some(false))
    );

    // Once resolved or explained: too late.
    let resolved = w.resolved(server);
    send(server, w.ent(), &resolved, "withdraw", why.clone()).problem(409, "wrong_status");
    let t = w.accepted(server);
    let explained = ok(&t, send(server, w.officer(), &t, "explain", explanation()));
    send(server, w.ent(), &explained, "withdraw", why).problem(409, "wrong_status");
});

// ---------------------------------------------------------------------------------------
// The whole life of a ticket, for each role that files (DESIGN.md section 3)
// ---------------------------------------------------------------------------------------

both_backends!(filed_online_and_rated_very_satisfied, |server| {
    let w = World::new(server);
    let (ent, officer, sup) = (w.ent(), w.officer(), w.supervisor());
    let t = w.file(server);
    assert_eq!(
        (t["channel"].as_str(), t["status"].as_str()),
        (Some("online"), Some("submitted"))
    );
    // Dispatched to A: its officers, the supervisor, the liaison see it; B's officer not.
    for token in [officer, sup, w.liaison(), w.colleague.token.as_str()] {
        read(server, token, &t);
    }
    hidden(server, &w.officer_b.token, &t);

    let t = ok(&t, send(server, officer, &t, "accept", json!({})));
    let t = ok(
        &t,
        send(
            server,
            officer,
            &t,
            "contact",
            json!({"method": "phone", "summary": "电话联系张经理，了解停电范围"}),
        ),
    );
    let t = ok(
        &t,
        send(
            server,
            officer,
            &t,
            "request-info",
            json!({"items": ["停电区域平面图"]}),
        ),
    );
    assert_eq!(read(server, ent, &t)["status"], "awaiting_info");
    let t = ok(
        &t,
        send(
            server,
            ent,
            &t,
            "supply-info",
            json!({"body": "平面图已上传"}),
        ),
    );
    let t = ok(
        &t,
        send(
            server,
            officer,
            &t,
            "extension",
            json!({"reason": "需协调上级供电公司", "amount": 2}),
        ),
    );
    assert_eq!(
        read(server, ent, &t)["extension"],
        Value::Null,
        "pending is internal"
    );
    let t = ok(
        &t,
        send(
            server,
            sup,
            &t,
            "extension/decision",
            json!({"approve": true, "note": "同意"}),
        ),
    );
    assert_eq!(t["extension"]["decision"], "approved");
    assert_eq!(read(server, ent, &t)["extension"]["amount"], 2);
    hidden(server, &w.officer_b.token, &t);
    let t = ok(&t, send(server, officer, &t, "resolve", result()));
    assert_eq!(t["status"], "resolved");
    let t = ok(
        &t,
        send(
            server,
            ent,
            &t,
            "rate",
            json!({"level": "very_satisfied", "comment": "响应很快"}),
        ),
    );
    assert_eq!(
        (
            t["status"].as_str(),
            t["close_reason"].as_str(),
            t["rating"]["level"].as_str()
        ),
        (Some("closed"), Some("rated"), Some("very_satisfied"))
    );

    assert_eq!(
        kinds(server, officer, &t),
        [
            "submitted",
            "accepted",
            "contacted",
            "info_requested",
            "info_supplied",
            "extension_requested",
            "extension_decided",
            "resolved",
            "rated",
            "closed"
        ]
    );
    assert_eq!(
        kinds(server, ent, &t),
        [
            "submitted",
            "accepted",
            "contacted",
            "info_requested",
            "info_supplied",
            "extension_decided",
            "resolved",
            "rated",
            "closed"
        ],
        "the extension request is internal; its approval is told"
    );
    // Told of the extension granted, not of who decided nor the supervisor's note (Art. 15).
    let events = server.get(&path(&t, "/events"), ent).json();
    let granted = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "extension_decided")
        .unwrap()
        .clone();
    assert_eq!(granted["data"]["approve"], true, "{granted}");
    assert_eq!(granted["data"]["note"], Value::Null, "{granted}");
    assert_eq!(granted["actor_id"], Value::Null, "{granted}");
    enterprise_sees_the_public_part(server, &w, &t);
    hidden(server, &w.officer_b.token, &t);
    // Each event carries the ticket's version after its command; seq counts them.
    let events = server.get(&path(&t, "/events"), sup).json();
    let items = events["items"].as_array().unwrap();
    let versions: Vec<u64> = items
        .iter()
        .map(|e| e["version"].as_u64().unwrap())
        .collect();
    let seqs: Vec<u64> = items.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=items.len() as u64).collect::<Vec<_>>());
    assert_eq!(
        versions,
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 9],
        "rated and closed are one command"
    );
    assert_eq!(versions.last().copied(), t["version"].as_u64());
});

both_backends!(
    filed_by_a_liaison_reopened_explained_and_closed_unrated,
    |server| {
        let w = World::new(server);
        let (ent, officer, sup, liaison) = (w.ent(), w.officer(), w.supervisor(), w.liaison());
        let t = file(server, liaison, intake_complaint(Some(&w.c.enterprise_id)));
        assert_eq!(t["channel"], "liaison");
        assert_eq!(t["department_id"], Value::Null, "in the intake queue");
        // Every officer sees the intake queue.
        read(server, &w.officer_b.token, &t);
        read(server, ent, &t);

        // A liaison names the department it takes the ticket to.
        invalid_at(
            &send(server, liaison, &t, "accept", json!({})),
            "/department_id",
            "required",
        );
        let t = ok(
            &t,
            send(
                server,
                liaison,
                &t,
                "accept",
                json!({"department_id": w.c.department_id}),
            ),
        );
        assert_eq!(
            (
                t["department_id"].as_str(),
                t["assignee_id"].as_str(),
                t["first_responder_id"].as_str()
            ),
            (
                Some(w.c.department_id.as_str()),
                Some(w.c.liaison.id.as_str()),
                Some(w.c.liaison.id.as_str())
            )
        );
        hidden(server, &w.officer_b.token, &t);
        read(server, officer, &t);

        let t = ok(&t, send(server, liaison, &t, "resolve", result()));
        let t = ok(
            &t,
            send(
                server,
                ent,
                &t,
                "rate",
                json!({"level": "dissatisfied", "comment": "指标仍未落实"}),
            ),
        );
        assert_eq!(
            (
                t["status"].as_str(),
                t["redo_count"].as_u64(),
                t["supervised"].as_bool()
            ),
            (Some("in_progress"), Some(1), Some(true))
        );
        let listed = server.get("/v1/tickets?supervised=true", sup).json();
        assert_eq!(listed["items"][0]["id"], t["id"]);

        // An officer of the department explains what policy blocks.
        let t = ok(&t, send(server, officer, &t, "explain", explanation()));
        assert_eq!(t["status"], "explained");
        let window = instant(&t["rating_due_at"]);

        // The window ends unrated: the scanner closes it.
        let summary = run_once(server.database(), window, None);
        assert_eq!(summary["closed"], 1, "{summary}");
        let closed = read(server, sup, &t);
        assert_eq!(
            (closed["status"].as_str(), closed["close_reason"].as_str()),
            (Some("closed"), Some("rating_window_ended"))
        );
        assert_eq!(closed["rating"], Value::Null);
        let last = last_event(server, ent, &closed);
        assert_eq!(
            (last["kind"].as_str(), last["actor_id"].as_str()),
            (Some("closed"), None),
            "the scanner closed it: {last}"
        );
        assert_eq!(last["data"]["reason"], "rating_window_ended", "{last}");
        // Closed: too late to rate.
        send(server, ent, &closed, "rate", json!({"level": "satisfied"}))
            .problem(409, "wrong_status");

        let officials = timeline(server, sup, &closed);
        assert_eq!(
            officials,
            [
                ("submitted".to_owned(), false),
                ("accepted".to_owned(), false),
                ("resolved".to_owned(), false),
                ("rated".to_owned(), false),
                ("reopened".to_owned(), false),
                ("escalated".to_owned(), true),
                ("explained".to_owned(), false),
                ("closed".to_owned(), false),
            ]
        );
        enterprise_sees_the_public_part(server, &w, &closed);
        hidden(server, &w.officer_b.token, &closed);
        read(server, liaison, &closed);
    }
);

both_backends!(filed_on_the_hotline_and_disposed_as_a_duplicate, |server| {
    let w = World::new(server);
    let original = w.file(server);
    let mut body = complaint();
    body["enterprise_id"] = json!(w.c.enterprise_id);
    let t = file(server, w.officer(), body);
    assert_eq!(
        (t["channel"].as_str(), t["created_by"].as_str()),
        (Some("hotline"), Some(w.c.officer.id.as_str()))
    );
    // The enterprise sees what was filed for it; B's officer does not.
    read(server, w.ent(), &t);
    read(server, w.liaison(), &t);
    hidden(server, &w.officer_b.token, &t);

    let t = ok(
        &t,
        send(
            server,
            &w.colleague.token,
            &t,
            "dispose",
            json!({
                "disposition": "duplicate",
                "explanation": "热线来电与企业网上反映为同一停电问题，并入原工单。",
                "duplicate_of": original["id"],
            }),
        ),
    );
    let seen = read(server, w.ent(), &t);
    assert_eq!(
        (seen["status"].as_str(), seen["close_reason"].as_str()),
        (Some("closed"), Some("duplicate"))
    );
    assert_eq!(seen["duplicate_of"], original["id"]);
    assert_eq!(kinds(server, w.ent(), &t), ["submitted", "disposed"]);
    enterprise_sees_the_public_part(server, &w, &t);
    // The original goes on.
    assert_eq!(read(server, w.officer(), &original)["status"], "submitted");
    hidden(server, &w.officer_b.token, &t);
});

both_backends!(filed_by_a_supervisor_transferred_and_withdrawn, |server| {
    let w = World::new(server);
    let sup = w.supervisor();
    let t = file(server, sup, intake_complaint(Some(&w.c.enterprise_id)));
    assert_eq!(
        (t["channel"].as_str(), t["department_id"].as_str()),
        (Some("supervision"), None)
    );
    read(server, &w.officer_b.token, &t);

    // A supervisor dispatches from the intake queue with a transfer.
    let t = ok(
        &t,
        send(
            server,
            sup,
            &t,
            "transfer",
            json!({"department_id": w.c.department_id, "reason": "用地事项由本部门办理"}),
        ),
    );
    assert_eq!(
        (t["status"].as_str(), t["department_id"].as_str()),
        (Some("submitted"), Some(w.c.department_id.as_str()))
    );
    hidden(server, &w.officer_b.token, &t);
    read(server, w.officer(), &t);
    let event = last_event(server, sup, &t);
    assert_eq!(event["data"]["from_department_id"], Value::Null);

    let t = ok(&t, send(server, w.officer(), &t, "accept", json!({})));
    let t = ok(
        &t,
        send(
            server,
            w.ent(),
            &t,
            "withdraw",
            json!({"reason": "已通过其他渠道解决"}),
        ),
    );
    assert_eq!(
        (t["status"].as_str(), t["close_reason"].as_str()),
        (Some("withdrawn"), Some("withdrawn"))
    );
    send(server, w.officer(), &t, "resolve", result()).problem(409, "wrong_status");

    assert_eq!(
        kinds(server, sup, &t),
        ["submitted", "transferred", "accepted", "withdrawn"]
    );
    assert_eq!(
        kinds(server, w.ent(), &t),
        ["submitted", "accepted", "withdrawn"],
        "the dispatch is internal"
    );
    enterprise_sees_the_public_part(server, &w, &t);
    hidden(server, &w.officer_b.token, &t);
});

both_backends!(
    ask_once_and_the_extension_are_per_ticket_not_per_redo,
    |server| {
        let w = World::new(server);
        let (ent, officer) = (w.ent(), w.officer());
        let t = w.accepted(server);
        let t = ok(
            &t,
            send(
                server,
                officer,
                &t,
                "request-info",
                json!({"items": ["营业执照副本"]}),
            ),
        );
        let t = ok(
            &t,
            send(server, ent, &t, "supply-info", json!({"body": "已上传"})),
        );
        let t = ok(
            &t,
            send(
                server,
                officer,
                &t,
                "extension",
                json!({"reason": "需协调上级供电公司", "amount": 1}),
            ),
        );
        let t = ok(
            &t,
            send(
                server,
                w.supervisor(),
                &t,
                "extension/decision",
                json!({"approve": false}),
            ),
        );
        let t = ok(&t, send(server, officer, &t, "resolve", result()));
        let redo = ok(
            &t,
            send(server, ent, &t, "rate", json!({"level": "dissatisfied"})),
        );
        assert_eq!(
            (redo["status"].as_str(), redo["redo_count"].as_u64()),
            (Some("in_progress"), Some(1))
        );
        // DESIGN.md rule 7: the allowances are the ticket's, not the redo's.
        send(
            server,
            officer,
            &redo,
            "request-info",
            json!({"items": ["再补一份"]}),
        )
        .problem(409, "info_already_requested");
        send(
            server,
            officer,
            &redo,
            "extension",
            json!({"reason": "再延一次", "amount": 1}),
        )
        .problem(409, "extension_already_used");
        // The supervisor's second request is still there.
        let asked = ok(
            &redo,
            send(
                server,
                w.supervisor(),
                &redo,
                "request-info",
                json!({"items": ["最新用电数据"]}),
            ),
        );
        assert_eq!(asked["info_requested"], 2);
        // A refused extension is internal: neither the request nor its refusal reaches the
        // enterprise.
        let seen = kinds(server, ent, &asked);
        assert!(!seen.iter().any(|k| k.starts_with("extension")), "{seen:?}");
        assert_eq!(read(server, ent, &asked)["extension"], Value::Null);
        enterprise_sees_the_public_part(server, &w, &asked);
    }
);
