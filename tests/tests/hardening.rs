//! Defects found by trying the API from outside (issue 8), each with the test that would
//! have caught it, on both backends.

use jiban_tests::alerts::{AlertCounty, act};
use jiban_tests::{TestServer, both_backends};
use serde_json::json;

fn ticket_count(server: &TestServer, token: &str) -> usize {
    let r = server.get("/v1/tickets?limit=100", token);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["items"].as_array().unwrap().len()
}

// Issue 8: NUL (or another control character) in any text is a 422 naming the field, on
// PostgreSQL too (whose `text` refuses NUL), and writes nothing; line breaks and tabs stay
// allowed in long texts, and a title is one line.
both_backends!(control_characters_are_refused_by_field, |server| {
    let c = AlertCounty::new(server);
    let before = ticket_count(server, &c.supervisor.token);
    for (field, value, pointer) in [
        ("title", "停电\u{0}", "/title"),
        ("description", "厂区停电\u{7}，三条产线停工", "/description"),
        ("title", "停电\u{85}", "/title"),
        ("title", "停电\n影响生产", "/title"),
    ] {
        let mut body = json!({
            "kind": "complaint",
            "category": "utilities",
            "title": "厂区停电影响生产",
            "description": "自昨晚22时起厂区停电，三条产线停工。",
        });
        body[field] = json!(value);
        let r = server.post("/v1/tickets", &c.enterprise_user.token, body);
        let p = r.problem(422, "invalid_input");
        let errors = r.invalid();
        assert_eq!(
            errors,
            [(pointer.to_owned(), "control_character".to_owned())],
            "{p}"
        );
    }
    // A control character in a key is refused too.
    let r = server.post(
        "/v1/tickets",
        &c.enterprise_user.token,
        json!({"kind": "complaint", "category": "utilities", "title": "停电", "description": "停电", "x\u{0}": 1}),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(
        ticket_count(server, &c.supervisor.token),
        before,
        "nothing written"
    );
    // Long texts keep their lines.
    let r = server.post(
        "/v1/tickets",
        &c.enterprise_user.token,
        json!({"kind": "complaint", "category": "utilities", "title": "停电",
               "description": "第一行\r\n第二行\t缩进"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["description"], "第一行\r\n第二行\t缩进");
});

// Issue 8: an approved extension's `extension_decided` event is public, but the
// supervisor's note on it and who decided are internal: the enterprise reads neither in
// /events, while officials read both.
both_backends!(
    the_enterprise_reads_no_internal_note_in_the_timeline,
    |server| {
        let c = AlertCounty::new(server);
        let t = c.file(server, "utilities", json!({}));
        act(server, &c.officer.token, &t, "accept", json!({}));
        let ask = json!({"reason": "需协调上级供电公司", "amount": 2});
        act(server, &c.officer.token, &t, "extension", ask);
        let note = "内部意见：供电公司整改不力，已约谈";
        let decide = json!({"approve": true, "note": note});
        act(
            server,
            &c.supervisor.token,
            &t,
            "extension/decision",
            decide,
        );
        let id = t["id"].as_str().unwrap();
        let decided = |token: &str| {
            let r = server.get(&format!("/v1/tickets/{id}/events"), token);
            assert_eq!(r.status, 200, "{}", r.body);
            r.json()["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["kind"] == "extension_decided")
                .cloned()
                .unwrap()
        };
        let seen = decided(&c.enterprise_user.token);
        assert!(!seen.to_string().contains(note), "{seen}");
        assert_eq!(seen["data"]["note"], serde_json::Value::Null, "{seen}");
        assert_eq!(seen["actor_id"], serde_json::Value::Null, "{seen}");
        assert_eq!(seen["data"]["approve"], true);
        let staff = decided(&c.officer.token);
        assert_eq!(staff["data"]["note"], note);
        assert_eq!(staff["actor_id"], c.supervisor.id.as_str());
    }
);

fn post_action(
    server: &TestServer,
    token: &str,
    ticket: &serde_json::Value,
    action: &str,
    body: serde_json::Value,
) -> jiban_tests::Response {
    let id = ticket["id"].as_str().unwrap();
    let version = server.get(&format!("/v1/tickets/{id}"), token);
    let version = if version.status == 200 {
        version.json()["version"].as_u64().unwrap()
    } else {
        1
    };
    server.action(token, id, action, version, &body)
}

// Issue 8: accepting keeps a dispatched ticket's department (moving it is a transfer);
// from the intake queue an officer accepts into its own; a department that does not exist
// is 422 unknown_department.
both_backends!(
    accepting_does_not_move_a_ticket_between_departments,
    |server| {
        let c = AlertCounty::new(server);
        let other = jiban_tests::fixture::create_department(server, &c.admin, "elsewhere");
        let t = c.file(server, "utilities", json!({}));
        let r = post_action(
            server,
            &c.officer.token,
            &t,
            "accept",
            json!({"department_id": other}),
        );
        r.problem(409, "use_transfer");
        let nowhere = uuid::Uuid::now_v7().to_string();
        let r = post_action(
            server,
            &c.officer.token,
            &t,
            "accept",
            json!({"department_id": nowhere}),
        );
        assert_eq!(
            r.invalid(),
            [("/department_id".to_owned(), "unknown_department".to_owned())]
        );
        let accepted = act(server, &c.officer.token, &t, "accept", json!({}));
        assert_eq!(accepted["department_id"], c.department_id.as_str());
        let r = post_action(
            server,
            &c.officer.token,
            &t,
            "transfer",
            json!({"department_id": nowhere, "reason": "职能调整"}),
        );
        assert_eq!(
            r.invalid(),
            [("/department_id".to_owned(), "unknown_department".to_owned())]
        );

        let intake = c.file(server, "land", json!({}));
        let r = post_action(
            server,
            &c.officer.token,
            &intake,
            "accept",
            json!({"department_id": other}),
        );
        assert_eq!(
            r.invalid(),
            [("/department_id".to_owned(), "not_own_department".to_owned())]
        );
        let accepted = act(server, &c.officer.token, &intake, "accept", json!({}));
        assert_eq!(accepted["department_id"], c.department_id.as_str());
    }
);

// Issue 8: scope first. An officer who cannot see a ticket learns nothing from what its
// body names (an assignee that does or does not exist): 404 either way. A `duplicate_of`
// must be a ticket the caller may see.
both_backends!(scope_comes_before_what_the_body_names, |server| {
    let c = AlertCounty::new(server);
    let other = jiban_tests::fixture::create_department(server, &c.admin, "elsewhere");
    let outsider = jiban_tests::fixture::create_person(
        server,
        &c.admin,
        "officer",
        json!({"department_id": other}),
    );
    let t = c.file(server, "utilities", json!({}));
    for assignee in [c.colleague.id.clone(), uuid::Uuid::now_v7().to_string()] {
        let r = post_action(
            server,
            &outsider.token,
            &t,
            "accept",
            json!({"assignee_id": assignee}),
        );
        r.problem(404, "not_found");
    }
    // The enterprise's other ticket, which the outsider cannot see either.
    let hidden = c.file(server, "utilities", json!({}));
    let intake = c.file(server, "land", json!({}));
    let explanation = "与已受理的诉求重复，合并办理，请企业关注原工单的办理进展。";
    for duplicate_of in [
        uuid::Uuid::now_v7().to_string(),
        hidden["id"].as_str().unwrap().to_owned(),
    ] {
        let r = post_action(
            server,
            &outsider.token,
            &intake,
            "dispose",
            json!({"disposition": "duplicate", "explanation": explanation, "duplicate_of": duplicate_of}),
        );
        assert_eq!(
            r.invalid(),
            [("/duplicate_of".to_owned(), "unknown_ticket".to_owned())]
        );
    }
    let done = act(
        server,
        &c.officer.token,
        &intake,
        "dispose",
        json!({"disposition": "duplicate", "explanation": explanation, "duplicate_of": hidden["id"]}),
    );
    assert_eq!(done["close_reason"], "duplicate");
});

// Issue 8, point 11: find a ticket by its number, exactly, within the caller's scope; a
// malformed number is 422 naming the parameter.
both_backends!(a_ticket_is_found_by_its_number, |server| {
    let c = AlertCounty::new(server);
    let first = c.file(server, "utilities", json!({}));
    c.file(server, "utilities", json!({}));
    let number = first["number"].as_str().unwrap();
    let found = server
        .get(&format!("/v1/tickets?number={number}"), &c.officer.token)
        .json();
    let items = found["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{found}");
    assert_eq!(items[0]["id"], first["id"]);
    let stranger_enterprise =
        jiban_tests::fixture::create_enterprise(server, &c.admin, "另一家企业");
    let stranger = jiban_tests::fixture::create_person(
        server,
        &c.admin,
        "enterprise",
        json!({"enterprise_id": stranger_enterprise}),
    );
    let none = server
        .get(&format!("/v1/tickets?number={number}"), &stranger.token)
        .json();
    assert_eq!(none["items"], json!([]));
    let r = server.get("/v1/tickets?number=JB-26-1", &c.officer.token);
    assert_eq!(r.invalid()[0].0, "?number");
});

// Schemathesis (scripts/schemathesis): `null` for a field openapi.yaml does not make
// nullable was taken as "leave it alone" and answered 200. Leaving a field out leaves it
// alone; `null` is the wrong type, a 422 naming the field, and nothing changes.
both_backends!(
    null_is_refused_where_the_document_allows_no_null,
    |server| {
        let county = jiban_tests::fixture::County::new(server);
        let admin = &county.admin;
        let enterprise = format!("/v1/enterprises/{}", county.enterprise_id);
        let before = server.get(&enterprise, admin).json();
        for field in [
            "name",
            "uscc",
            "contact_name",
            "contact_phone",
            "contact_email",
        ] {
            let errors = server
                .patch(&enterprise, admin, json!({ field: null }))
                .invalid();
            assert_eq!(errors, vec![(format!("/{field}"), "wrong_type".to_owned())]);
        }
        assert_eq!(
            server.get(&enterprise, admin).json(),
            before,
            "nothing changed"
        );

        let user = format!("/v1/users/{}", county.officer.id);
        let before = server.get(&user, admin).json();
        for field in ["display_name", "email", "active", "password"] {
            let errors = server.patch(&user, admin, json!({ field: null })).invalid();
            assert_eq!(errors, vec![(format!("/{field}"), "wrong_type".to_owned())]);
        }
        assert_eq!(server.get(&user, admin).json(), before, "nothing changed");

        let token = &county.enterprise_user.token;
        let errors = server
            .post(
                "/v1/tickets",
                token,
                json!({"kind": "complaint", "urgency": null, "category": "utilities",
                   "title": "厂区停电", "description": "厂区停电，三条产线停工。"}),
            )
            .invalid();
        assert_eq!(
            errors,
            vec![("/urgency".to_owned(), "wrong_type".to_owned())]
        );
        let officer = &county.officer.token;
        assert_eq!(
            server.get("/v1/tickets", officer).json()["items"],
            json!([]),
            "nothing filed"
        );
    }
);

// Schemathesis: an extension of 0 with a stale If-Match answered 412, as if the request
// were well formed. A malformed body is 422 before the ticket's version is looked at.
both_backends!(
    an_extension_of_nothing_is_malformed_whatever_the_version,
    |server| {
        let c = AlertCounty::new(server);
        let officer = &c.officer.token;
        let t = c.file(server, "utilities", json!({}));
        let accepted = act(server, officer, &t, "accept", json!({}));
        // `t` is the filed version, now stale.
        for ticket in [&t, &accepted] {
            let answer = server.raw(
                "POST",
                &format!("/v1/tickets/{}/extension", ticket["id"].as_str().unwrap()),
                &[
                    ("authorization", &format!("Bearer {officer}")),
                    ("content-type", "application/json"),
                    ("if-match", &format!("\"{}\"", ticket["version"])),
                ],
                Some(br#"{"reason": "need more time", "amount": 0}"#.to_vec()),
            );
            assert_eq!(
                answer.invalid(),
                vec![("/amount".to_owned(), "out_of_range".to_owned())]
            );
        }
        let now = server.get(
            &format!("/v1/tickets/{}", t["id"].as_str().unwrap()),
            officer,
        );
        assert_eq!(now.json()["extension"], json!(null), "nothing written");
    }
);
