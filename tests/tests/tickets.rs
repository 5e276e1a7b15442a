//! The core path of a ticket over HTTP, on both backends (issue 4): file, list, read,
//! accept, contact, comment, resolve, rate; who may do what and see what; `If-Match`,
//! `ETag` and `Idempotency-Key`; bad input answered 4xx with the field named.

use jiban_tests::fixture::{County, create_enterprise, create_person};
use jiban_tests::{Response, TestServer, both_backends};
use serde_json::{Value, json};

/// Sends the utilities category to the county's department, so new power complaints are
/// dispatched there at once.
fn dispatch_utilities(server: &TestServer, county: &County) {
    let r = server.put(
        "/v1/categories/utilities",
        &county.admin,
        json!({"name": "水电气热", "department_id": county.department_id}),
    );
    assert!(r.status == 200 || r.status == 201, "{}", r.body);
}

fn complaint() -> Value {
    json!({
        "kind": "complaint",
        "category": "utilities",
        "title": "厂区停电影响生产",
        "description": "自昨晚22时起厂区停电，三条产线停工，请尽快协调恢复供电。",
    })
}

fn file(server: &TestServer, token: &str, body: Value) -> Value {
    let r = server.post("/v1/tickets", token, body);
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()
}

/// A state change with `If-Match`.
fn act(server: &TestServer, token: &str, ticket: &Value, action: &str, body: Value) -> Response {
    let id = ticket["id"].as_str().unwrap();
    let version = format!("\"{}\"", ticket["version"]);
    let auth = format!("Bearer {token}");
    server.raw(
        "POST",
        &format!("/v1/tickets/{id}/{action}"),
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
            ("if-match", &version),
        ],
        Some(body.to_string().into_bytes()),
    )
}

fn ok(r: Response) -> Value {
    assert_eq!(r.status, 200, "{}", r.body);
    let t = r.json();
    assert_eq!(
        r.header("etag"),
        Some(format!("\"{}\"", t["version"]).as_str()),
        "the ETag is the version"
    );
    t
}

fn path(ticket: &Value, rest: &str) -> String {
    format!("/v1/tickets/{}{rest}", ticket["id"].as_str().unwrap())
}

both_backends!(the_core_path_from_filing_to_rating, |server| {
    let county = County::new(server);
    dispatch_utilities(server, &county);
    let ent = &county.enterprise_user.token;
    let officer = &county.officer.token;

    let r = server.post("/v1/tickets", ent, complaint());
    assert_eq!(r.status, 201, "{}", r.body);
    let t = r.json();
    assert_eq!(r.header("etag"), Some("\"1\""));
    assert_eq!(r.header("location"), Some(path(&t, "").as_str()));
    let number = t["number"].as_str().unwrap();
    assert!(
        number.starts_with("JB-20") && number.ends_with("-000001"),
        "{number}"
    );
    assert_eq!(t["status"], "submitted");
    assert_eq!(t["channel"], "online");
    assert_eq!(t["urgency"], "general", "no urgency means general");
    assert_eq!(
        t["department_id"],
        county.department_id.as_str(),
        "dispatched by category"
    );
    assert_eq!(t["enterprise_id"], county.enterprise_id.as_str());
    // A working-day deadline ends at 24:00 of a day in the county's zone, answered there.
    let due = t["accept_due_at"].as_str().unwrap();
    assert!(due.ends_with("T00:00:00+08:00"), "{due}");
    assert_eq!(t["overdue"], json!([]));

    // The officer of the department sees it in the list and reads it.
    let list = server.get("/v1/tickets?status=submitted", officer).json();
    assert_eq!(list["items"][0]["id"], t["id"]);
    let read = server.get(&path(&t, ""), officer);
    assert_eq!(read.header("etag"), Some("\"1\""));

    let t = ok(act(server, officer, &t, "accept", json!({})));
    assert_eq!(
        (t["status"].as_str(), t["version"].as_u64()),
        (Some("in_progress"), Some(2))
    );
    assert_eq!(t["first_responder_id"], county.officer.id.as_str());
    assert_eq!(t["assignee_id"], county.officer.id.as_str());
    assert!(t["accepted_at"].is_string());

    let t = ok(act(
        server,
        officer,
        &t,
        "contact",
        json!({"method": "phone", "summary": "电话联系王经理，了解停电范围"}),
    ));
    assert!(t["contacted_at"].is_string());

    // Comments need no If-Match and change no version; enterprises never see internal ones.
    let r = server.post(
        &path(&t, "/comments"),
        officer,
        json!({"body": "供电所称线路故障", "internal": true}),
    );
    assert_eq!(ok(r)["version"], t["version"]);
    let r = server.post(&path(&t, "/comments"), ent, json!({"body": "请尽快"}));
    ok(r);
    let r = server.post(
        &path(&t, "/comments"),
        ent,
        json!({"body": "内部？", "internal": true}),
    );
    r.problem(403, "not_permitted");

    let t = ok(act(
        server,
        officer,
        &t,
        "resolve",
        json!({"result": "已协调供电公司抢修线路，当日18时恢复供电。"}),
    ));
    assert_eq!(t["status"], "resolved");
    assert!(t["rating_due_at"].is_string());

    let t = ok(act(
        server,
        ent,
        &t,
        "rate",
        json!({"level": "very_satisfied", "comment": "响应很快"}),
    ));
    assert_eq!(
        (t["status"].as_str(), t["close_reason"].as_str()),
        (Some("closed"), Some("rated"))
    );
    assert_eq!(t["rating"]["level"], "very_satisfied");

    let kinds = |token: &str| -> Vec<String> {
        let r = server.get(&path(&t, "/events"), token);
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        kinds(officer),
        [
            "submitted",
            "accepted",
            "contacted",
            "commented",
            "commented",
            "resolved",
            "rated",
            "closed"
        ]
    );
    assert_eq!(
        kinds(ent),
        [
            "submitted",
            "accepted",
            "contacted",
            "commented",
            "resolved",
            "rated",
            "closed"
        ],
        "the internal comment is hidden"
    );
});

both_backends!(
    nobody_sees_or_touches_a_ticket_outside_their_scope,
    |server| {
        let county = County::new(server);
        dispatch_utilities(server, &county);
        let t = file(server, &county.enterprise_user.token, complaint());

        // Another enterprise, another department's officer, a liaison stationed elsewhere.
        let other_enterprise = create_enterprise(server, &county.admin, "无锡电子有限公司");
        let stranger = create_person(
            server,
            &county.admin,
            "enterprise",
            json!({"enterprise_id": other_enterprise}),
        );
        let other_dept = jiban_tests::fixture::create_department(
            server,
            &county.admin,
            &format!("d{}", jiban_tests::fixture::unique()),
        );
        let far_officer = create_person(
            server,
            &county.admin,
            "officer",
            json!({"department_id": other_dept}),
        );
        let far_liaison = create_person(server, &county.admin, "liaison", json!({}));
        for outsider in [&stranger, &far_officer, &far_liaison] {
            server
                .get(&path(&t, ""), &outsider.token)
                .problem(404, "not_found");
            server
                .get(&path(&t, "/events"), &outsider.token)
                .problem(404, "not_found");
            // Even with a stale version, an outsider learns nothing but "not found".
            act(
                server,
                &outsider.token,
                &json!({"id": t["id"], "version": 9}),
                "accept",
                json!({}),
            )
            .problem(404, "not_found");
            let list = server.get("/v1/tickets", &outsider.token).json();
            assert_eq!(list["items"], json!([]), "{}", outsider.username);
        }
        // A made-up id is just as unknown.
        server
            .get(
                "/v1/tickets/0190f1d2-0000-7000-8000-000000000000",
                &county.officer.token,
            )
            .problem(404, "not_found");
        server
            .get("/v1/tickets/nonsense", &county.officer.token)
            .problem(404, "not_found");

        // In scope but not theirs to do: 403.
        act(
            server,
            &county.enterprise_user.token,
            &t,
            "accept",
            json!({}),
        )
        .problem(403, "not_permitted");
        let admin_read = server.get(&path(&t, ""), &county.admin);
        assert_eq!(
            admin_read.status, 200,
            "admins read every ticket for support"
        );
        act(server, &county.admin, &t, "accept", json!({})).problem(403, "not_permitted");
        server
            .post(&path(&t, "/comments"), &county.admin, json!({"body": "x"}))
            .problem(403, "not_permitted");
        server
            .post("/v1/tickets", &county.admin, complaint())
            .problem(403, "not_permitted");

        // The stationed liaison sees it and files on the enterprise's behalf.
        assert_eq!(server.get(&path(&t, ""), &county.liaison.token).status, 200);
        let mut body = complaint();
        body["enterprise_id"] = json!(county.enterprise_id);
        let by_liaison = file(server, &county.liaison.token, body.clone());
        assert_eq!(by_liaison["channel"], "liaison");
        body["enterprise_id"] = json!(other_enterprise);
        server
            .post("/v1/tickets", &county.liaison.token, body)
            .problem(403, "not_permitted");
    }
);

both_backends!(state_changes_need_the_current_version, |server| {
    let county = County::new(server);
    dispatch_utilities(server, &county);
    let t = file(server, &county.enterprise_user.token, complaint());
    let officer = &county.officer.token;
    let accept = path(&t, "/accept");
    let auth = format!("Bearer {officer}");
    let without = server.raw(
        "POST",
        &accept,
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        Some(b"{}".to_vec()),
    );
    let p = without.problem(428, "if_match_required");
    // Issue 8: the answer names the ticket's own version, not a fixed example.
    let expected = format!("If-Match: \"{}\"", t["version"]);
    assert!(p["detail"].as_str().unwrap().contains(&expected), "{p}");
    // Only an entity tag, `"N"` or `W/"N"` of at most 18 digits, or `*` (openapi.yaml's
    // IfMatch pattern, which Schemathesis holds the server to): a bare number, a sign or a
    // number too long for a version is malformed, not a stale version.
    let version = t["version"].to_string();
    for garbage in [
        "\"two\"".to_owned(),
        version.clone(),
        format!("\"+{version}\""),
        format!("\" {version}\""),
        format!("\"{version}"),
        "\"1234567890123456789\"".to_owned(),
        "\"\"".to_owned(),
        "**".to_owned(),
    ] {
        let answer = server.raw(
            "POST",
            &accept,
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
                ("if-match", &garbage),
            ],
            Some(b"{}".to_vec()),
        );
        assert_eq!(answer.status, 400, "If-Match {garbage}: {}", answer.body);
        answer.problem(400, "invalid_if_match");
    }
    // Nothing changed: every refusal above came before the ticket was touched.
    assert_eq!(
        server.get(&path(&t, ""), officer).json()["version"],
        t["version"]
    );
    let t2 = ok(act(server, officer, &t, "accept", json!({})));
    // The first version again: someone else changed it since.
    let stale = act(
        server,
        officer,
        &t,
        "contact",
        json!({"method": "phone", "summary": "回访"}),
    );
    stale.problem(412, "version_mismatch");
    ok(act(
        server,
        officer,
        &t2,
        "contact",
        json!({"method": "phone", "summary": "回访"}),
    ));
    // A rule that refuses in this state: 409 with its code.
    let t3 = server.get(&path(&t, ""), officer).json();
    act(server, officer, &t3, "accept", json!({})).problem(409, "wrong_status");
});

both_backends!(an_idempotency_key_files_once, |server| {
    let county = County::new(server);
    dispatch_utilities(server, &county);
    let auth = format!("Bearer {}", county.enterprise_user.token);
    let send = |key: &str, body: &Value| {
        server.raw(
            "POST",
            "/v1/tickets",
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
                ("idempotency-key", key),
            ],
            Some(body.to_string().into_bytes()),
        )
    };
    let first = send("order-2026-0001", &complaint());
    assert_eq!(first.status, 201, "{}", first.body);
    let again = send("order-2026-0001", &complaint());
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json()["id"], first.json()["id"]);
    assert_eq!(again.json()["number"], first.json()["number"]);
    let mut other = complaint();
    other["title"] = json!("另一件事");
    let r = send("order-2026-0001", &other);
    r.problem(422, "invalid_input");
    assert!(r.body.contains("idempotency_key_reused"), "{}", r.body);
    send("", &complaint()).problem(422, "invalid_input");
    let list = server
        .get("/v1/tickets", &county.enterprise_user.token)
        .json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
});

both_backends!(bad_input_is_a_4xx_naming_the_field, |server| {
    let county = County::new(server);
    let ent = &county.enterprise_user.token;
    let mut body = complaint();
    body["title"] = json!("长".repeat(201));
    body["kind"] = json!("praise");
    body["category"] = json!("Utilities!");
    let r = server.post("/v1/tickets", ent, body);
    r.problem(422, "invalid_input");
    let errors = r.invalid();
    for (pointer, code) in [
        ("/title", "too_long"),
        ("/kind", "unknown_value"),
        ("/category", "invalid"),
    ] {
        assert!(
            errors.contains(&(pointer.to_owned(), code.to_owned())),
            "{pointer} {code}: {errors:?}"
        );
    }
    let mut body = complaint();
    body["category"] = json!("nonexistent");
    let r = server.post("/v1/tickets", ent, body);
    r.problem(422, "invalid_input");
    assert!(
        r.invalid()
            .contains(&("/category".to_owned(), "unknown_category".to_owned()))
    );
    let mut body = complaint();
    body["colour"] = json!("red");
    server
        .post("/v1/tickets", ent, body)
        .problem(422, "invalid_input");
    let mut body = complaint();
    body.as_object_mut().unwrap().remove("title");
    server
        .post("/v1/tickets", ent, body)
        .problem(422, "invalid_input");
    let r = server.raw(
        "POST",
        "/v1/tickets",
        &[
            ("authorization", &format!("Bearer {ent}")),
            ("content-type", "application/json"),
        ],
        Some(b"{\"kind\":".to_vec()),
    );
    r.problem(400, "malformed_json");
    // Officers name the enterprise they file for, and it must exist.
    let r = server.post("/v1/tickets", &county.officer.token, complaint());
    assert!(
        r.invalid()
            .contains(&("/enterprise_id".to_owned(), "required".to_owned())),
        "{}",
        r.body
    );
    let mut body = complaint();
    body["enterprise_id"] = json!("0190f1d2-0000-7000-8000-000000000000");
    let r = server.post("/v1/tickets", &county.officer.token, body);
    assert!(
        r.invalid()
            .contains(&("/enterprise_id".to_owned(), "unknown_enterprise".to_owned())),
        "{}",
        r.body
    );
    // A resolve without the 10 characters of result the enterprise must read.
    dispatch_utilities(server, &county);
    let t = file(server, ent, complaint());
    let t = ok(act(server, &county.officer.token, &t, "accept", json!({})));
    let r = act(
        server,
        &county.officer.token,
        &t,
        "resolve",
        json!({"result": "好了"}),
    );
    assert!(
        r.invalid()
            .contains(&("/result".to_owned(), "too_short".to_owned())),
        "{}",
        r.body
    );
    // Query parameters are checked too.
    let r = server.get(
        "/v1/tickets?status=lost&limit=1000&overdue=maybe&cursor=xyz",
        ent,
    );
    r.problem(422, "invalid_input");
    assert_eq!(r.invalid().len(), 4, "{}", r.body);
    let r = server.get("/v1/tickets?colour=red", ent);
    let p = r.problem(422, "invalid_input");
    // Issue 8: the parameter is named, as for every other bad input.
    assert_eq!(p["errors"][0]["parameter"], "colour", "{p}");
    assert_eq!(p["errors"][0]["code"], "unknown_parameter", "{p}");
    let errors = server
        .get("/v1/tickets?urgency=general&urgency=complex", ent)
        .invalid();
    assert_eq!(
        errors,
        [("?urgency".to_owned(), "duplicate_parameter".to_owned())]
    );
});

both_backends!(lists_filter_and_page, |server| {
    let county = County::new(server);
    dispatch_utilities(server, &county);
    let ent = &county.enterprise_user.token;
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut body = complaint();
        body["urgency"] = json!(if i % 2 == 0 { "utilities" } else { "general" });
        ids.push(file(server, ent, body)["id"].as_str().unwrap().to_owned());
    }
    ids.reverse(); // newest first
    let mut seen = Vec::new();
    let mut next = Some(String::new());
    while let Some(cursor) = next {
        let q = if cursor.is_empty() {
            "/v1/tickets?limit=2".to_owned()
        } else {
            format!("/v1/tickets?limit=2&cursor={cursor}")
        };
        let page = server.get(&q, ent).json();
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_str().unwrap().to_owned()),
        );
        next = page["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, ids);

    // Each filter keeps some tickets and drops others, so an ignored filter fails: one more
    // ticket waits in the intake queue (no department), one of the five is accepted.
    let mut land = complaint();
    land["category"] = json!("land");
    land["kind"] = json!("request");
    let intake = file(server, ent, land);
    let intake_id = intake["id"].as_str().unwrap().to_owned();
    let first = server.get(&format!("/v1/tickets/{}", ids[4]), ent).json();
    let accepted = ok(act(
        server,
        &county.officer.token,
        &first,
        "accept",
        json!({}),
    ));
    let sup = &county.supervisor.token;
    let listed = |q: &str| -> Vec<String> {
        let page = server.get(&format!("/v1/tickets?{q}"), sup);
        assert_eq!(page.status, 200, "{q}: {}", page.body);
        page.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let all: Vec<String> = std::iter::once(intake_id.clone())
        .chain(ids.iter().cloned())
        .collect();
    assert_eq!(listed(""), all);
    // Urgency: the even ones are utilities (ids is newest first: 4, 3, 2, 1, 0).
    assert_eq!(
        listed("urgency=utilities"),
        vec![ids[0].clone(), ids[2].clone(), ids[4].clone()]
    );
    assert_eq!(
        listed("urgency=general"),
        vec![intake_id.clone(), ids[1].clone(), ids[3].clone()]
    );
    assert_eq!(listed("kind=request"), vec![intake_id.clone()]);
    assert_eq!(listed("kind=complaint"), ids);
    assert_eq!(
        listed(&format!("department_id={}", county.department_id)),
        ids
    );
    assert_eq!(listed("status=in_progress"), vec![ids[4].clone()]);
    assert_eq!(
        listed(&format!(
            "department_id={}&status=submitted",
            county.department_id
        )),
        ids[..4].to_vec()
    );
    assert_eq!(
        listed(&format!(
            "assignee_id={}",
            accepted["assignee_id"].as_str().unwrap()
        )),
        vec![ids[4].clone()]
    );
    // Created range: from the third ticket's instant on (inclusive), and before it.
    let third = server.get(&format!("/v1/tickets/{}", ids[2]), ent).json();
    let from = third["created_at"].as_str().unwrap().replace('+', "%2B");
    assert_eq!(listed(&format!("created_from={from}")), all[..4].to_vec());
    assert_eq!(listed(&format!("created_to={from}")), all[4..].to_vec());
    assert_eq!(listed("created_to=2020-01-01"), Vec::<String>::new());
    // Nothing is overdue yet or supervised (both are filtered for real in
    // a_bad_rating_reopens_and_supervises and the store's list_filters test).
    assert_eq!(listed("overdue=false&supervised=false"), all);
    assert_eq!(listed("overdue=true"), Vec::<String>::new());
    // The enterprise's own filter view agrees.
    let mine = server.get("/v1/tickets?urgency=utilities", ent).json();
    assert_eq!(mine["items"].as_array().unwrap().len(), 3);
});

both_backends!(a_bad_rating_reopens_and_supervises, |server| {
    let county = County::new(server);
    dispatch_utilities(server, &county);
    let ent = &county.enterprise_user.token;
    let officer = &county.officer.token;
    let t = file(server, ent, complaint());
    let t = ok(act(
        server,
        officer,
        &t,
        "accept",
        json!({"urgency": "utilities"}),
    ));
    assert_eq!(
        t["urgency"], "utilities",
        "the accepting officer corrects the class"
    );
    let t = ok(act(
        server,
        officer,
        &t,
        "resolve",
        json!({"result": "已协调供电公司恢复供电，请企业确认。"}),
    ));
    let t = ok(act(
        server,
        ent,
        &t,
        "rate",
        json!({"level": "dissatisfied", "comment": "仍然经常停电"}),
    ));
    assert_eq!(t["status"], "in_progress");
    assert_eq!(
        (t["redo_count"].as_u64(), t["supervised"].as_bool()),
        (Some(1), Some(true))
    );
    // Another ticket, not supervised: the filter keeps one and drops the other.
    let calm = file(server, ent, complaint());
    let ids = |q: &str| -> Vec<Value> {
        server.get(q, &county.supervisor.token).json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].clone())
            .collect()
    };
    assert_eq!(ids("/v1/tickets?supervised=true"), vec![t["id"].clone()]);
    assert_eq!(
        ids("/v1/tickets?supervised=false"),
        vec![calm["id"].clone()]
    );
});

both_backends!(
    loading_a_years_calendar_settles_provisional_deadlines,
    |server| {
        let county = County::new(server);
        dispatch_utilities(server, &county);
        // A 60-working-day class reaches into a year with no calendar yet.
        let r = server.put(
            "/v1/sla-policies/complex",
            &county.admin,
            json!({
                "accept": {"amount": 1, "unit": "working_days"},
                "contact": {"amount": 1, "unit": "working_days"},
                "resolve": {"amount": 60, "unit": "working_days"},
                "basis": "测试：较长时限",
            }),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let mut body = complaint();
        body["urgency"] = json!("complex");
        let t = file(server, &county.enterprise_user.token, body);
        assert_eq!(t["deadlines_provisional"], true, "{t}");
        let due = t["resolve_due_at"].as_str().unwrap().to_owned();
        let year: i32 = due[..4].parse().unwrap();
        let r = server.put(
            &format!("/v1/calendar/{year}"),
            &county.admin,
            json!({"days": [{"date": format!("{year}-01-01"), "kind": "holiday", "name": "元旦"}]}),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let after = server.get(&path(&t, ""), &county.supervisor.token).json();
        assert_eq!(after["deadlines_provisional"], false, "{after}");
        let events = server
            .get(&path(&t, "/events"), &county.supervisor.token)
            .json();
        let kinds: Vec<_> = events["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].clone())
            .collect();
        assert!(kinds.contains(&json!("deadlines_recomputed")), "{kinds:?}");
    }
);

both_backends!(
    enterprises_read_their_ticket_without_internal_administration,
    |server| {
        let county = County::new(server);
        dispatch_utilities(server, &county);
        let ent = &county.enterprise_user.token;
        let officer = &county.officer.token;
        let t = file(server, ent, complaint());
        let t = ok(act(server, officer, &t, "accept", json!({})));
        let t = ok(act(
            server,
            officer,
            &t,
            "extension",
            json!({"reason": "需协调上级供电公司", "amount": 2}),
        ));
        assert_eq!(t["extension"]["decision"], "pending");
        let seen = server.get(&path(&t, ""), ent).json();
        assert_eq!(
            seen["extension"],
            Value::Null,
            "a pending extension is internal"
        );
        let listed = server.get("/v1/tickets", ent).json();
        assert_eq!(listed["items"][0]["extension"], Value::Null);
        let t = ok(act(
            server,
            &county.supervisor.token,
            &t,
            "extension/decision",
            json!({"approve": true, "note": "同意"}),
        ));
        let seen = server.get(&path(&t, ""), ent).json();
        assert_eq!(
            (
                seen["extension"]["amount"].as_u64(),
                seen["extension"]["note"].is_null()
            ),
            (Some(2), true)
        );
        assert_eq!(seen["resolve_due_at"], t["resolve_due_at"]);
    }
);
