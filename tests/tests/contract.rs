//! A contract that cannot drift (issue 8, point 6, first half): the routes the server
//! registers and the operations `openapi.yaml` documents are compared both ways, and every
//! documented operation is asked for on a real server, which must know it.

use jiban_tests::both_backends;
use jiban_tests::openapi::{METHODS, Operations, operations as documented, repo};

/// What the server registers: every `web::resource("…")` of `api/src/routes/` with the
/// methods routed on it. Read from the source, as the one place routes are declared.
fn registered() -> Operations {
    let dir = repo().join("api/src/routes");
    let mut out = Operations::new();
    for entry in std::fs::read_dir(&dir).expect("api/src/routes") {
        let source = std::fs::read_to_string(entry.expect("a file").path()).expect("a source");
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
const PUBLIC: [&str; 7] = [
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.yaml",
    "/v1/auth/token",
    "/v1/auth/refresh",
    "/v1/auth/logout",
];

both_backends!(the_server_knows_every_documented_operation, |server| {
    let mut wrong = Vec::new();
    for (method, path) in documented() {
        let concrete = path
            .replace("{year}", "2026")
            .replace("{class}", "general")
            .replace("{code}", "other")
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
