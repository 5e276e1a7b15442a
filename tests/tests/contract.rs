//! A contract that cannot drift (issue 8, point 6): the routes the server registers and the
//! operations `openapi.yaml` documents are compared both ways, every documented operation
//! is asked for on a real server, which must know it, and the check every answer of the
//! suite goes through is shown to refuse what the document does not say.

use jiban_tests::fixture::County;
use jiban_tests::openapi::{Checked, METHODS, Operations, check, operations as documented, repo};
use jiban_tests::{Response, TestServer, both_backends};
use serde_json::{Value, json};

/// The Rust sources under `dir`, its folders' included.
fn sources(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a folder of api/src/routes") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(std::fs::read_to_string(&path).expect("a source"));
        }
    }
    out
}

/// What the server registers: every `web::resource("…")` of `api/src/routes/` with the
/// methods routed on it. Read from the source, as the one place routes are declared.
fn registered() -> Operations {
    let mut out = Operations::new();
    for source in sources(&repo().join("api/src/routes")) {
        for chunk in source.split("web::resource(\"").skip(1) {
            let path = chunk.split('"').next().expect("a path");
            for method in METHODS {
                if chunk.contains(&format!("web::{method}()")) {
                    out.insert((method.to_uppercase(), path.to_owned()));
                }
            }
        }
    }
    out
}

#[test]
fn every_route_is_documented_and_every_operation_is_routed() {
    let documented = documented();
    let registered = registered();
    assert!(registered.len() > 40, "the route scan found {registered:?}");
    let undocumented: Vec<_> = registered.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&registered).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "routed but not in openapi.yaml: {undocumented:?}\nin openapi.yaml but not routed: {unrouted:?}"
    );
}

/// Routes anyone may call: the rest answer 401 without a token.
const PUBLIC: [&str; 12] = [
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.yaml",
    "/v1/auth/token",
    "/v1/auth/refresh",
    "/v1/auth/logout",
    // The dashboard's page and files hold no data: its script logs in (issue 12).
    "/dashboard",
    "/dashboard/",
    "/dashboard/{view}",
    "/dashboard/tickets/{id}",
    "/dashboard/assets/{file}",
];

both_backends!(the_server_knows_every_documented_operation, |server| {
    let mut wrong = Vec::new();
    for (method, path) in documented() {
        let concrete = path
            .replace("{year}", "2026")
            .replace("{class}", "general")
            .replace("{code}", "other")
            .replace("{view}", "ranking")
            .replace("{file}", "app.js")
            .replace("{department_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{id}", &uuid::Uuid::now_v7().to_string());
        let body = (method != "GET").then(|| serde_json::json!({}));
        let status = server.call(&method, &concrete, None, body.as_ref()).status;
        let expected_ok = if PUBLIC.contains(&path.as_str()) {
            // Known to the server: anything but "no such route" or "no such method".
            status != 404 && status != 405
        } else {
            status == 401
        };
        if !expected_ok {
            wrong.push(format!("{method} {path}: {status}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
});

// Second half of point 6: `TestServer::raw` holds every answer of the suite to
// openapi.yaml (`jiban_tests::openapi::check`). These show that the check is not empty: a
// real answer passes it, and the same answer broken in each way the document forbids fails
// it, naming where.
both_backends!(
    the_response_check_refuses_what_the_document_does_not_say,
    |server| {
        let county = County::new(server);
        let path = format!("/v1/tickets/{}", file(server, &county));
        let r = server.get(&path, &county.officer.token);
        assert_eq!(r.status, 200, "{}", r.body);
        let ticket = r.json();
        let json = Some("application/json");
        assert_eq!(
            check("GET", &path, &answer(&r, 200, json, &r.body)),
            Ok(Checked::Validated)
        );

        // The body broken: each change is refused, naming the place.
        let broken = |change: &dyn Fn(&mut Value), expected: &str| {
            let mut body = ticket.clone();
            change(&mut body);
            let e = check("GET", &path, &answer(&r, 200, json, &body.to_string()))
                .expect_err(&format!("refused: {body}"));
            assert!(e.contains(expected), "{expected:?} in {e}");
            assert!(
                e.contains(&format!("GET /v1/tickets/{{id}} ({path}) answered 200")),
                "{e}"
            );
        };
        broken(&|t| t["status"] = json!("lost"), r#"at "/status""#);
        broken(&|t| t["version"] = json!("3"), r#"at "/version""#);
        broken(&|t| t["id"] = json!("JB-1"), r#"at "/id""#);
        broken(
            &|t| t["created_at"] = json!("2026-12-03T16:00:00Z"),
            r#"at "/created_at""#,
        );
        broken(&|t| t["accepted_at"] = json!(""), r#"at "/accepted_at""#);
        broken(
            &|t| {
                t.as_object_mut().unwrap().remove("number");
            },
            r#""number" is a required property"#,
        );
        broken(&|t| t["leak"] = json!(1), "leak");
        broken(
            &|t| t["rating"] = json!({"level": "great"}),
            r#"at "/rating/level""#,
        );
        broken(
            &|t| t["extension"] = json!({"amount": 1}),
            r#"at "/extension""#,
        );
        // A timeline entry's data, as its kind says.
        let events = format!("{path}/events");
        let page = server.get(&events, &county.officer.token);
        assert_eq!(page.status, 200, "{}", page.body);
        let timeline = page.json();
        assert_eq!(timeline["items"][0]["kind"], "submitted", "{timeline}");
        let broken_entry = |change: &dyn Fn(&mut Value), expected: &str| {
            let mut body = timeline.clone();
            change(&mut body["items"][0]);
            let e = check("GET", &events, &answer(&page, 200, json, &body.to_string()))
                .expect_err(&format!("refused: {body}"));
            assert!(e.contains(expected), "{expected:?} in {e}");
        };
        broken_entry(
            &|e| e["data"]["deadlines"]["accept"]["due_at"] = json!("2026-12-03T16:00:00Z"),
            r#"at "/items/0/data/deadlines/accept/due_at""#,
        );
        broken_entry(
            &|e| e["data"]["deadlines"]["resolve"]["adjustments"] = json!([{"kind": "pause"}]),
            r#"at "/items/0/data/deadlines/resolve/adjustments/0""#,
        );
        broken_entry(&|e| e["data"]["note"] = json!("内部"), "note");
        broken_entry(
            &|e| e["kind"] = json!("visit"),
            r#""visit_id" is a required property"#,
        );
        broken_entry(&|e| e["kind"] = json!("archived"), r#"at "/items/0/kind""#);

        let e = check("GET", &path, &answer(&r, 200, json, "not json")).unwrap_err();
        assert!(e.contains("not JSON"), "{e}");

        // The status, the media type, the body's presence.
        let e = check("GET", &path, &answer(&r, 418, json, &r.body)).unwrap_err();
        assert!(e.contains("a status openapi.yaml does not document"), "{e}");
        let e = check("GET", &path, &answer(&r, 200, Some("text/html"), &r.body)).unwrap_err();
        assert!(e.contains("Content-Type text/html"), "{e}");
        let e = check("GET", &path, &answer(&r, 200, None, &r.body)).unwrap_err();
        assert!(e.contains("without a Content-Type"), "{e}");
        let logout = check("POST", "/v1/auth/logout", &answer(&r, 204, json, "{}")).unwrap_err();
        assert!(logout.contains("documents none"), "{logout}");

        // The headers a response requires, as their schemas say.
        let mut without = answer(&r, 200, json, &r.body);
        without.headers.retain(|(name, _)| name != "etag");
        let e = check("GET", &path, &without).unwrap_err();
        assert!(e.contains("without the header ETag"), "{e}");
        let mut weak = answer(&r, 200, json, &r.body);
        weak.headers.push(("etag".into(), "W/\"1\"".into()));
        weak.headers
            .retain(|(name, value)| name != "etag" || value.starts_with('W'));
        let e = check("GET", &path, &weak).unwrap_err();
        assert!(e.contains("header ETag"), "{e}");

        // A problem: its schema, and its status is the answer's.
        let r = server.get(
            &format!("/v1/tickets/{}", uuid::Uuid::now_v7()),
            &county.officer.token,
        );
        let problem = r.problem(404, "not_found");
        let media = r.header("content-type");
        assert_eq!(
            check("GET", &path, &answer(&r, 404, media, &r.body)),
            Ok(Checked::Validated)
        );
        let mut wrong = problem.clone();
        wrong["status"] = json!(400);
        let e = check("GET", &path, &answer(&r, 404, media, &wrong.to_string())).unwrap_err();
        assert!(e.contains("status"), "{e}");
        let mut wrong = problem.clone();
        wrong.as_object_mut().unwrap().remove("code");
        let e = check("GET", &path, &answer(&r, 404, media, &wrong.to_string())).unwrap_err();
        assert!(e.contains(r#""code" is a required property"#), "{e}");
        let e = check("GET", &path, &answer(&r, 404, json, &r.body)).unwrap_err();
        assert!(e.contains("Content-Type application/json"), "{e}");
        let mut anonymous = answer(&r, 404, media, &r.body);
        anonymous.headers.retain(|(name, _)| name != "x-request-id");
        let e = check("GET", &path, &anonymous).unwrap_err();
        assert!(e.contains("X-Request-Id \"\""), "{e}");

        // Outside the document: only a problem, never a success.
        let outside = server.get("/v1/nowhere", &county.officer.token);
        assert_eq!(outside.status, 404);
        let media = outside.header("content-type");
        assert_eq!(
            check(
                "GET",
                "/v1/nowhere",
                &answer(&outside, 404, media, &outside.body)
            ),
            Ok(Checked::Undocumented)
        );
        let e = check(
            "GET",
            "/v1/nowhere",
            &answer(&outside, 404, json, &outside.body),
        )
        .unwrap_err();
        assert!(e.contains("not in openapi.yaml"), "{e}");
        let e = check("GET", "/v1/nowhere", &answer(&outside, 200, json, "{}")).unwrap_err();
        assert!(e.contains("an undocumented operation succeeded"), "{e}");
        let e = check(
            "DELETE",
            &path,
            &answer(&outside, 200, json, &ticket.to_string()),
        )
        .unwrap_err();
        assert!(e.contains("not in openapi.yaml"), "{e}");
    }
);

/// `base` with another status, `Content-Type` (none: without one) and body.
fn answer(base: &Response, status: u16, content_type: Option<&str>, body: &str) -> Response {
    let mut headers: Vec<(String, String)> = base
        .headers
        .iter()
        .filter(|(name, _)| !name.eq_ignore_ascii_case("content-type"))
        .cloned()
        .collect();
    if let Some(media) = content_type {
        headers.push(("content-type".to_owned(), media.to_owned()));
    }
    Response {
        status,
        headers,
        body: body.to_owned(),
        bytes: body.as_bytes().to_vec(),
    }
}

// Every answer `raw` receives goes through the check: a server counts the answers it
// validated against a schema, one for each answer with a documented body.
both_backends!(every_answer_is_counted_as_validated, |server| {
    let admin = server.admin_token();
    let start = server.validated();
    let documented_bodies = [
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
        ("GET", "/openapi.yaml"),
        ("GET", "/v1/me"),
        ("GET", "/v1/departments"),
        ("GET", "/v1/users?role=admin"),
        ("GET", "/v1/enterprises"),
        ("GET", "/v1/categories"),
        ("GET", "/v1/calendar/2026"),
        ("GET", "/v1/sla-policies"),
        ("GET", "/v1/tickets"),
        ("GET", "/v1/alerts"),
        ("GET", "/v1/notifications"),
        ("GET", "/v1/visits"),
        ("GET", "/v1/users?role=emperor"),
        ("GET", "/v1/tickets/not-a-ticket"),
        ("GET", "/v1/departments?page=2"),
    ];
    for (method, path) in documented_bodies {
        let r = server.call(method, path, Some(&admin), None);
        assert!(r.status == 200 || r.status >= 400, "{path}: {}", r.status);
    }
    assert_eq!(server.validated() - start, documented_bodies.len());
    // A 204 has no body to validate; a path outside the document is only a problem.
    let r = server.post("/v1/auth/logout", &admin, json!({"refresh_token": "none"}));
    assert_eq!(r.status, 204);
    assert_eq!(server.get("/v1/nowhere", &admin).status, 404);
    assert_eq!(server.validated() - start, documented_bodies.len());
});

/// Files a ticket as the county's enterprise; its id.
fn file(server: &TestServer, county: &County) -> String {
    let r = server.post(
        "/v1/tickets",
        &county.enterprise_user.token,
        json!({"kind": "complaint", "category": "other", "title": "厂区停电",
               "description": "自昨晚22时起厂区停电，三条产线停工。"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_str().unwrap().to_owned()
}

// A rule's refusal answers one of the codes openapi.yaml lists for it (`RuleRefused`):
// the two refusals the rest of the suite never provokes, checked by `raw` like every other.
both_backends!(rule_refusals_answer_documented_codes, |server| {
    let county = County::new(server);
    let id = file(server, &county);
    let act = |token: &str, action: &str, version: u64, body: Value| {
        server.action(token, &id, action, version, &body)
    };
    // A contact before anyone accepted the ticket.
    act(
        &county.officer.token,
        "contact",
        1,
        json!({"method": "phone", "summary": "电话联系企业"}),
    )
    .problem(409, "wrong_status");
    // A decision on an extension nobody asked for, once the ticket is in hand.
    let r = act(&county.officer.token, "accept", 1, json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    act(
        &county.supervisor.token,
        "extension/decision",
        2,
        json!({"approve": true}),
    )
    .problem(409, "no_pending_extension");
});
