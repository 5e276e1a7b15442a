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
