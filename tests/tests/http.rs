//! The HTTP conventions every route shares (DESIGN.md section 7; docs/API.md): the
//! problem+json shape of each error status, request ids, and the operations endpoints.

use jiban_tests::fixture::County;
use jiban_tests::{TestServer, both_backends};
use serde_json::json;

fn json_post(server: &TestServer, path: &str, token: &str, body: &[u8]) -> jiban_tests::Response {
    let auth = format!("Bearer {token}");
    server.raw(
        "POST",
        path,
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        Some(body.to_vec()),
    )
}

both_backends!(every_error_status_is_a_problem, |server| {
    let county = County::new(server);
    let admin = &county.admin;

    // 400: not JSON, or cut short.
    for body in [
        &b"{\"name\": "[..],
        b"not json",
        b"{\"name\": \"x\", \"code\": \"y\"} trailing",
    ] {
        json_post(server, "/v1/departments", admin, body).problem(400, "malformed_json");
    }
    // 401
    server
        .raw("GET", "/v1/departments", &[], None)
        .problem(401, "missing_token");
    // 403: a role that may not.
    let r = server.post(
        "/v1/departments",
        &county.officer.token,
        json!({"name": "x", "code": "x"}),
    );
    r.problem(403, "not_permitted");
    // 403 comes before the body is looked at.
    json_post(
        server,
        "/v1/departments",
        &county.officer.token,
        b"not json",
    )
    .problem(403, "not_permitted");
    // 404: unknown route, unknown id, id that is no UUID.
    server
        .get("/v1/nothing-here", admin)
        .problem(404, "not_found");
    server.get("/nothing", admin).problem(404, "not_found");
    server
        .get(&format!("/v1/users/{}", uuid::Uuid::new_v4()), admin)
        .problem(404, "not_found");
    server
        .get("/v1/users/not-a-uuid", admin)
        .problem(404, "not_found");
    // 405, with Allow.
    let r = server.call("DELETE", "/v1/departments", Some(admin), None);
    r.problem(405, "method_not_allowed");
    let allow = r.header("allow").unwrap_or_default().to_owned();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    // 413: over 64 KiB, whether declared or not.
    let big = format!(r#"{{"name": "{}", "code": "big"}}"#, "x".repeat(70 * 1024));
    json_post(server, "/v1/departments", admin, big.as_bytes()).problem(413, "payload_too_large");
    // 415: not JSON.
    let auth = format!("Bearer {admin}");
    server
        .raw(
            "POST",
            "/v1/departments",
            &[("authorization", &auth), ("content-type", "text/plain")],
            Some(b"{\"name\": \"x\", \"code\": \"x\"}".to_vec()),
        )
        .problem(415, "unsupported_media_type");
    server
        .raw(
            "POST",
            "/v1/departments",
            &[("authorization", &auth)],
            Some(b"{\"name\": \"x\", \"code\": \"x\"}".to_vec()),
        )
        .problem(415, "unsupported_media_type");
    // `application/…+json` and a charset are fine.
    let r = server.raw(
        "POST",
        "/v1/departments",
        &[
            ("authorization", &auth),
            ("content-type", "application/json; charset=utf-8"),
        ],
        Some(b"{\"name\": \"\xe5\x8f\x91\xe6\x94\xb9\xe5\xa7\x94\", \"code\": \"fgw\"}".to_vec()),
    );
    assert_eq!(r.status, 201, "{}", r.body);
});

both_backends!(invalid_fields_are_named_by_pointer, |server| {
    let admin = server.admin_token();
    // Wrong type, missing field, unknown field, unknown enum value: each at its pointer.
    let cases = [
        (json!({"name": 5, "code": "a"}), "/name", "wrong_type"),
        (json!({"code": "a"}), "/name", "required"),
        (
            json!({"name": "a", "code": "a", "colour": "red"}),
            "/colour",
            "unknown_field",
        ),
        (json!({"name": "a", "code": "A B"}), "/code", "invalid"),
        (json!({"name": "  ", "code": "a"}), "/name", "blank"),
        (
            json!({"name": "长".repeat(101), "code": "a"}),
            "/name",
            "too_long",
        ),
    ];
    for (body, pointer, code) in cases {
        let errors = server
            .post("/v1/departments", &admin, body.clone())
            .invalid();
        assert_eq!(
            errors,
            vec![(pointer.to_owned(), code.to_owned())],
            "{body}"
        );
    }
    // Several wrong fields are all reported at once.
    let errors = server
        .post(
            "/v1/users",
            &admin,
            json!({
                "username": "x",
                "password": "short",
                "role": "boss",
                "display_name": "",
                "email": "not-an-email",
            }),
        )
        .invalid();
    let pointers: Vec<&str> = errors.iter().map(|(p, _)| p.as_str()).collect();
    for expected in ["/username", "/password", "/role", "/display_name", "/email"] {
        assert!(pointers.contains(&expected), "{expected} in {errors:?}");
    }
    assert!(
        errors.contains(&("/role".into(), "unknown_value".into())),
        "{errors:?}"
    );
    assert!(
        errors.contains(&("/password".into(), "too_short".into())),
        "{errors:?}"
    );
    // Nested: the SLA limit's unit and the calendar's entries.
    let errors = server
        .put(
            "/v1/sla-policies/general",
            &admin,
            json!({
                "accept": {"amount": 1, "unit": "hours"},
                "contact": {"amount": "one", "unit": "minutes"},
                "resolve": {"amount": 5, "unit": "working_days"},
                "basis": "x",
            }),
        )
        .invalid();
    assert_eq!(
        errors,
        vec![("/contact/amount".to_owned(), "wrong_type".to_owned())]
    );
    // A query parameter is named as a parameter.
    let errors = server.get("/v1/users?role=boss", &admin).invalid();
    assert_eq!(
        errors,
        vec![("?role".to_owned(), "unknown_value".to_owned())]
    );
});

both_backends!(request_ids_are_echoed_or_made, |server| {
    let given = server.raw(
        "GET",
        "/healthz",
        &[("x-request-id", "abc-123.X_y:z")],
        None,
    );
    assert_eq!(given.header("x-request-id"), Some("abc-123.X_y:z"));
    for bad in ["has spaces", &"a".repeat(65)] {
        let r = server.raw("GET", "/healthz", &[("x-request-id", bad)], None);
        let id = r.header("x-request-id").unwrap();
        assert!(
            uuid::Uuid::parse_str(id).is_ok(),
            "{bad:?} replaced by a UUID, got {id}"
        );
    }
    let made = server.raw("GET", "/healthz", &[], None);
    let a = made.header("x-request-id").unwrap().to_owned();
    let b = server
        .raw("GET", "/healthz", &[], None)
        .header("x-request-id")
        .unwrap()
        .to_owned();
    assert!(uuid::Uuid::parse_str(&a).is_ok());
    assert_ne!(a, b);
    // Errors too, with the id in the body.
    let r = server.raw("GET", "/v1/me", &[("x-request-id", "trace-me-1")], None);
    let p = r.problem(401, "missing_token");
    assert_eq!(p["request_id"], "trace-me-1");
    // And it is in the log.
    assert!(
        server.log().contains("trace-me-1"),
        "the request id is logged"
    );
});

both_backends!(health_readiness_metrics_and_contract, |server| {
    let r = server.raw("GET", "/healthz", &[], None);
    assert_eq!((r.status, r.json()), (200, json!({"status": "ok"})));
    let r = server.raw("GET", "/readyz", &[], None);
    assert_eq!((r.status, &r.json()["status"]), (200, &json!("ready")));
    // The workers' state is information: without SMTP the node is still ready.
    assert_eq!(r.json()["workers"]["mode"], "no_smtp");

    server.raw("GET", "/v1/users/not-a-uuid", &[], None);
    // A made-up method is counted as `other`, not by its name (bounded series).
    {
        // ureq sends only standard methods: write this request by hand.
        use std::io::{Read, Write};
        let addr = server.base_url().trim_start_matches("http://");
        let mut tcp = std::net::TcpStream::connect(addr).unwrap();
        write!(
            tcp,
            "BREW /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        let _ = tcp.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
    }
    // The housekeeping pass runs at start, on every node.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !server
        .raw("GET", "/metrics", &[], None)
        .body
        .contains("jiban_housekeeping_passes_total 1")
    {
        assert!(std::time::Instant::now() < deadline, "no housekeeping pass");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let r = server.raw("GET", "/metrics", &[], None);
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let text = &r.body;
    for expected in [
        "# TYPE jiban_http_requests_total counter",
        "jiban_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}",
        "jiban_http_requests_total{method=\"GET\",route=\"/v1/users/{id}\",status=\"401\"}",
        "# TYPE jiban_http_request_duration_seconds histogram",
        "jiban_http_request_duration_seconds_bucket{route=\"/readyz\",le=\"+Inf\"} 1",
        "jiban_http_request_duration_seconds_count{route=\"/healthz\"}",
        "jiban_db_pool_connections ",
        "jiban_db_pool_idle ",
        "method=\"other\",route=",
        "jiban_housekeeping_deleted_total{table=\"refresh_tokens\"} 0",
    ] {
        assert!(text.contains(expected), "{expected} in\n{text}");
    }
    assert!(!text.contains("BREW"), "methods are bounded");
    assert!(
        !text.contains("not-a-uuid"),
        "routes are patterns, not paths"
    );

    let r = server.raw("GET", "/openapi.yaml", &[], None);
    assert_eq!(r.status, 200);
    assert!(
        r.body.starts_with("openapi: 3.1"),
        "{}",
        &r.body[..40.min(r.body.len())]
    );
    for path in [
        "/v1/auth/token:",
        "/v1/enterprises/{id}/liaisons:",
        "/v1/calendar/{year}:",
    ] {
        assert!(r.body.contains(path), "{path} documented");
    }
});
