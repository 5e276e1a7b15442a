//! Bad input on every write route (issue 8, point 5; DESIGN.md section 7), generated.
//!
//! The table below holds, for each write operation of `openapi.yaml`, a request that
//! succeeds: who sends it, where, with which body. The bad requests are generated from it
//! and from the operation's request schema in the document: each required field left
//! out; each field of the wrong type (number, boolean, array, object, `null` where the
//! document does not allow it); each string empty, blank, too short, past its `maxLength`,
//! and holding a control character (U+0000, U+001B, U+0085); each enumeration with an
//! unknown value; each id malformed or naming nothing; an unknown field (at every level);
//! malformed JSON; an array or a scalar instead of the object; no or another
//! `Content-Type`; a body over 64 KiB; bad ids in the path; an `Idempotency-Key` reused
//! with another body or malformed; and, on ticket actions, `If-Match` missing, stale and
//! malformed. Each must get the 4xx the document says, listed among the operation's
//! responses, as `application/problem+json` with its stable `code`, and a 422 must name
//! the field. The database is compared before and after each group of routes: nothing
//! may be written.
//! Then the valid request is sent and must succeed, so that every bad case differed from a
//! good one only by what it broke.
//!
//! Concurrency: 16 creates with one `Idempotency-Key` file one ticket; 16 actions with one
//! version let one win and answer 412 to the rest.

use jiban_tests::alerts::{AlertCounty, Before, act};
use jiban_tests::fixture::{Person, create_department, create_person, unique, uscc};
use jiban_tests::openapi::{Operations, document, operations};
use jiban_tests::{Response, TestServer, both_backends};
use serde_json::{Value, json};

/// What a bad request must get.
#[derive(Clone, Debug)]
enum Expect {
    /// 422 `invalid_input` whose `errors` name this JSON pointer (`/days/0/date`) or query,
    /// path or header parameter (`?code`), with this field code when one is given.
    Named(String, Option<&'static str>),
    /// This status and problem `code`.
    Problem(u16, &'static str),
}

fn named(at: &str) -> Expect {
    Expect::Named(at.to_owned(), None)
}

fn named_code(at: &str, code: &'static str) -> Expect {
    Expect::Named(at.to_owned(), Some(code))
}

/// One bad request.
struct Case {
    label: String,
    path: String,
    /// Headers replacing the route's defaults (`None` removes one).
    headers: Vec<(&'static str, Option<String>)>,
    body: Option<Vec<u8>>,
    expect: Expect,
}

/// One write operation: a request that succeeds, and what the generator needs to know
/// beyond the document.
struct Route {
    method: &'static str,
    /// The path as `openapi.yaml` writes it.
    template: &'static str,
    path: String,
    token: Option<String>,
    /// A ticket action: `If-Match` carries this ticket's version.
    ticket: Option<String>,
    /// The valid body (`None`: the operation takes none).
    valid: Option<Value>,
    /// The status the valid request gets; `None` when the table cannot make one succeed
    /// (acknowledging needs an escalation, retrying a dead notification).
    success: Option<u16>,
    /// Fields where a blank string is a value like any other (passwords, tokens: they are
    /// not trimmed) and is checked against data, not refused as input.
    blank_ok: &'static [&'static str],
    /// What an id that names nothing gets, where it is not 422 naming the field.
    unknown_ids: Vec<(&'static str, Expect)>,
    /// Hand-written cases the schema cannot tell (a USCC's check character, …).
    extra: Vec<(String, Value, Expect)>,
    /// Bad paths (ids that are not ids or name nothing) and what each gets.
    bad_paths: Vec<(String, Expect)>,
    /// Bad headers (an `Idempotency-Key`), sent with a body, and what each gets.
    bad_headers: Vec<(String, &'static str, String, Value, Expect)>,
}

impl Route {
    fn new(method: &'static str, template: &'static str, path: String, token: &str) -> Route {
        Route {
            method,
            template,
            path,
            token: Some(token.to_owned()),
            ticket: None,
            valid: None,
            success: None,
            blank_ok: &[],
            unknown_ids: Vec::new(),
            extra: Vec::new(),
            bad_paths: Vec::new(),
            bad_headers: Vec::new(),
        }
    }

    fn body(mut self, valid: Value, success: u16) -> Route {
        self.valid = Some(valid);
        self.success = Some(success);
        self
    }

    fn ticket(mut self, id: &str) -> Route {
        self.ticket = Some(id.to_owned());
        self
    }

    fn anonymous(mut self) -> Route {
        self.token = None;
        self
    }

    fn blank_ok(mut self, fields: &'static [&'static str]) -> Route {
        self.blank_ok = fields;
        self
    }

    fn unknown_id(mut self, pointer: &'static str, expect: Expect) -> Route {
        self.unknown_ids.push((pointer, expect));
        self
    }

    fn extra(mut self, label: &str, body: Value, expect: Expect) -> Route {
        self.extra.push((label.to_owned(), body, expect));
        self
    }

    fn bad_path(mut self, path: String, expect: Expect) -> Route {
        self.bad_paths.push((path, expect));
        self
    }

    fn bad_header(
        mut self,
        label: &str,
        name: &'static str,
        value: &str,
        body: Value,
        expect: Expect,
    ) -> Route {
        self.bad_headers
            .push((label.to_owned(), name, value.to_owned(), body, expect));
        self
    }

    /// The id paths every `{id}` route gets: not a UUID, and a UUID naming nothing.
    fn bad_ids(self, prefix: &str, suffix: &str) -> Route {
        let not_found = Expect::Problem(404, "not_found");
        self.bad_path(format!("{prefix}not-a-uuid{suffix}"), not_found.clone())
            .bad_path(
                format!("{prefix}{}{suffix}", uuid::Uuid::now_v7()),
                not_found,
            )
    }
}

// ---------------------------------------------------------------------------------------
// The schema, read from openapi.yaml
// ---------------------------------------------------------------------------------------

fn resolve(schema: &Value) -> &Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(
            document()
                .pointer(r.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("openapi.yaml has no {r}")),
        ),
        None => schema,
    }
}

/// The operation's JSON request schema, if it takes a body.
fn request_schema(method: &str, template: &str) -> Option<&'static Value> {
    let op = &document()["paths"][template][method.to_lowercase()];
    assert!(op.is_object(), "openapi.yaml has no {method} {template}");
    op.pointer("/requestBody/content/application~1json/schema")
        .map(resolve)
}

fn types(schema: &Value) -> Vec<&str> {
    match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// A length bound: `minLength`/`maxLength`, or for the texts the server trims first (whose
/// exact rule is a pattern) the same bound as `x-trimmed-length` (`min`, `max`).
fn number(schema: &Value, key: &str) -> Option<u64> {
    let trimmed = match key {
        "minLength" => "min",
        "maxLength" => "max",
        _ => "",
    };
    schema
        .get(key)
        .or_else(|| schema.get("x-trimmed-length")?.get(trimmed))
        .and_then(Value::as_u64)
}

/// Sets the value at a JSON pointer whose parent exists.
fn set(body: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
    match body.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.insert(key.to_owned(), value);
        }
        Some(Value::Array(items)) => {
            let i: usize = key.parse().expect("an index");
            items[i] = value;
        }
        other => panic!("no object at {parent}: {other:?}"),
    }
}

fn without(body: &Value, pointer: &str) -> Value {
    let mut body = body.clone();
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
    if let Some(Value::Object(map)) = body.pointer_mut(parent) {
        map.remove(key);
    }
    body
}

fn with(body: &Value, pointer: &str, value: Value) -> Value {
    let mut body = body.clone();
    set(&mut body, pointer, value);
    body
}

/// The cases for the object at `at` (its schema, the valid body).
fn object_cases(route: &Route, valid: &Value, at: &str, schema: &Value, out: &mut Vec<Case>) {
    let schema = resolve(schema);
    let case = |label: String, body: Value, expect: Expect| Case {
        label,
        path: route.path.clone(),
        headers: Vec::new(),
        body: Some(body.to_string().into_bytes()),
        expect,
    };
    // An unknown field, at every level (the document says additionalProperties: false).
    let unknown = format!("{at}/zz_unknown");
    out.push(case(
        format!("unknown field {unknown}"),
        with(valid, &unknown, json!(1)),
        named_code(&unknown, "unknown_field"),
    ));
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema["properties"].as_object() else {
        return;
    };
    for (name, property) in properties {
        let pointer = format!("{at}/{name}");
        if required.contains(&name.as_str()) {
            out.push(case(
                format!("{pointer} missing"),
                without(valid, &pointer),
                named_code(&pointer, "required"),
            ));
        }
        let present = valid.pointer(&pointer).cloned();
        field_cases(route, valid, &pointer, property, present, out);
    }
}

/// The cases for one field at `pointer`, whatever its kind.
fn field_cases(
    route: &Route,
    valid: &Value,
    pointer: &str,
    schema: &Value,
    present: Option<Value>,
    out: &mut Vec<Case>,
) {
    // `anyOf: [X, {type: "null"}]` is X or null.
    let (schema, nullable) = match schema.get("anyOf").and_then(Value::as_array) {
        Some(options) => {
            let nullable = options.iter().any(|o| types(o) == ["null"]);
            let other = options
                .iter()
                .find(|o| types(o) != ["null"])
                .unwrap_or_else(|| panic!("{pointer}: only null in {schema}"));
            (resolve(other), nullable)
        }
        None => (resolve(schema), false),
    };
    let types = types(schema);
    let nullable = nullable || types.contains(&"null");
    let kind = types
        .iter()
        .copied()
        .find(|t| *t != "null")
        .unwrap_or_else(|| panic!("{pointer}: no type in {schema}"));
    let mut push = |label: &str, value: Value, expect: Expect| {
        out.push(Case {
            label: format!("{pointer} {label}"),
            path: route.path.clone(),
            headers: Vec::new(),
            body: Some(with(valid, pointer, value).to_string().into_bytes()),
            expect,
        });
    };
    let wrong = named_code(pointer, "wrong_type");
    if !nullable {
        push("null", Value::Null, wrong.clone());
    }
    match kind {
        "string" => {
            for (label, value) in [
                ("a number", json!(1)),
                ("a boolean", json!(true)),
                ("an array", json!([])),
                ("an object", json!({})),
            ] {
                push(label, value, wrong.clone());
            }
            let format = schema["format"].as_str();
            let text = schema.get("enum").is_none() && format.is_none();
            if schema.get("enum").is_some() {
                push(
                    "an unknown value",
                    json!("emperor"),
                    named_code(pointer, "unknown_value"),
                );
                push("empty", json!(""), named(pointer));
            }
            match format {
                Some("uuid") => {
                    push("not a UUID", json!("not-a-uuid"), named(pointer));
                    let expect = route
                        .unknown_ids
                        .iter()
                        .find(|(p, _)| *p == pointer)
                        .map(|(_, e)| e.clone())
                        .unwrap_or_else(|| named(pointer));
                    push("naming nothing", json!(uuid::Uuid::now_v7()), expect);
                }
                Some("email") => {
                    push("not an address", json!("not-an-address"), named(pointer));
                    push("empty", json!(""), named(pointer));
                }
                Some("date-time") => {
                    push("not an instant", json!("yesterday"), named(pointer));
                    push(
                        "without offset",
                        json!("2026-12-03T09:30:00"),
                        named(pointer),
                    );
                }
                Some("date") => {
                    push("not a date", json!("2031-02-30"), named(pointer));
                }
                _ => {}
            }
            let min = number(schema, "minLength").unwrap_or(0);
            let blank_ok = route
                .blank_ok
                .iter()
                .any(|f| pointer.ends_with(&format!("/{f}")));
            if text {
                if !blank_ok || min > 0 {
                    push("empty", json!(""), named(pointer));
                }
                if !blank_ok {
                    push("blank", json!(" \t "), named(pointer));
                }
                if min > 1 {
                    push(
                        "too short",
                        json!("a".repeat(min as usize - 1)),
                        named(pointer),
                    );
                }
            }
            if let Some(max) = number(schema, "maxLength") {
                // Counted in characters: 长 is one character and three bytes.
                let long = if format == Some("uuid") || schema.get("enum").is_some() {
                    "a".repeat(max as usize + 1)
                } else {
                    "长".repeat(max as usize + 1)
                };
                push("past its maxLength", json!(long), named(pointer));
            }
            let base = present
                .as_ref()
                .and_then(Value::as_str)
                .unwrap_or("正常文字")
                .to_owned();
            for c in ['\u{0}', '\u{1b}', '\u{85}'] {
                let label = format!("with U+{:04X}", c as u32);
                let expect = if text {
                    named_code(pointer, "control_character")
                } else {
                    named(pointer)
                };
                push(&label, json!(format!("{base}{c}")), expect);
            }
        }
        "integer" => {
            for (label, value) in [
                ("a string", json!("1")),
                ("a boolean", json!(true)),
                ("an array", json!([1])),
                ("an object", json!({})),
            ] {
                push(label, value, wrong.clone());
            }
            push("a fraction", json!(1.5), named(pointer));
            push("too large", json!(4_294_967_296_u64), named(pointer));
            if let Some(min) = schema["minimum"].as_i64() {
                push("under its minimum", json!(min - 1), named(pointer));
            }
            push("negative", json!(-1), named(pointer));
        }
        "boolean" => {
            for (label, value) in [
                ("a string", json!("true")),
                ("a number", json!(1)),
                ("an array", json!([])),
                ("an object", json!({})),
            ] {
                push(label, value, wrong.clone());
            }
        }
        "array" => {
            for (label, value) in [
                ("a string", json!("x")),
                ("a number", json!(1)),
                ("an object", json!({})),
            ] {
                push(label, value, wrong.clone());
            }
            let item = present
                .as_ref()
                .and_then(|v| v.as_array())
                .and_then(|items| items.first())
                .cloned();
            if number(schema, "minItems").unwrap_or(0) > 0 {
                push("empty", json!([]), named(pointer));
            }
            if let (Some(max), Some(item)) = (number(schema, "maxItems"), &item) {
                let many = vec![item.clone(); max as usize + 1];
                push("past its maxItems", json!(many), named(pointer));
            }
            // The first item, broken every way its own schema allows.
            if let Some(item) = item {
                let mut one = valid.clone();
                set(&mut one, pointer, json!([item.clone()]));
                field_cases(
                    route,
                    &one,
                    &format!("{pointer}/0"),
                    &schema["items"],
                    Some(item),
                    out,
                );
            }
        }
        "object" => {
            for (label, value) in [
                ("a string", json!("x")),
                ("a number", json!(1)),
                ("an array", json!([])),
            ] {
                push(label, value, wrong.clone());
            }
            if present.is_some() {
                object_cases(route, valid, pointer, schema, out);
            }
        }
        other => panic!("{pointer}: no cases for type {other}"),
    }
}

/// Every bad request for a route.
fn cases(route: &Route) -> Vec<Case> {
    let mut out = Vec::new();
    let schema = request_schema(route.method, route.template);
    if let (Some(valid), Some(schema)) = (&route.valid, schema) {
        object_cases(route, valid, "", schema, &mut out);
        let raw = |label: &str, bytes: Vec<u8>, expect: Expect| Case {
            label: label.to_owned(),
            path: route.path.clone(),
            headers: Vec::new(),
            body: Some(bytes),
            expect,
        };
        let malformed = Expect::Problem(400, "malformed_json");
        out.push(raw("cut short", b"{\"a\": ".to_vec(), malformed.clone()));
        out.push(raw(
            "not JSON",
            b"kind=complaint".to_vec(),
            malformed.clone(),
        ));
        let mut trailing = valid.to_string().into_bytes();
        trailing.extend_from_slice(b" {}");
        out.push(raw("trailing data", trailing, malformed.clone()));
        out.push(raw(
            "not UTF-8",
            b"{\"x\": \"\xff\"}".to_vec(),
            malformed.clone(),
        ));
        if schema_requires_body(route) {
            out.push(raw("an empty body", Vec::new(), malformed));
        }
        // An array or a scalar instead of the object. The array holds the valid values in
        // the order of `required`, as a struct read from a sequence would take them.
        let in_order: Vec<Value> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| valid.get(n.as_str()?).cloned())
            .collect();
        for (label, body) in [
            ("an array of the values", json!(in_order)),
            ("an empty array", json!([])),
            ("a string", json!("x")),
            ("a number", json!(42)),
            ("null", Value::Null),
            ("true", json!(true)),
        ] {
            out.push(raw(
                &format!("the body is {label}"),
                body.to_string().into_bytes(),
                named_code("", "wrong_type"),
            ));
        }
        for (label, content_type) in [
            ("Content-Type text/plain", Some("text/plain")),
            (
                "Content-Type form",
                Some("application/x-www-form-urlencoded"),
            ),
            ("no Content-Type", None),
        ] {
            out.push(Case {
                label: label.to_owned(),
                path: route.path.clone(),
                headers: vec![("content-type", content_type.map(str::to_owned))],
                body: Some(valid.to_string().into_bytes()),
                expect: Expect::Problem(415, "unsupported_media_type"),
            });
        }
        // One byte over 64 KiB, as JSON that would otherwise be read.
        let mut big = format!("{{\"zz_padding\": \"{}", " ".repeat(64 * 1024));
        big.truncate(64 * 1024 - 1);
        big.push_str("\"}");
        out.push(raw(
            "a body over 64 KiB",
            big.into_bytes(),
            Expect::Problem(413, "payload_too_large"),
        ));
        for (label, body, expect) in &route.extra {
            out.push(raw(label, body.to_string().into_bytes(), expect.clone()));
        }
    }
    for (path, expect) in &route.bad_paths {
        out.push(Case {
            label: format!("path {path}"),
            path: path.clone(),
            headers: Vec::new(),
            body: route.valid.as_ref().map(|v| v.to_string().into_bytes()),
            expect: expect.clone(),
        });
    }
    for (label, name, value, body, expect) in &route.bad_headers {
        out.push(Case {
            label: label.clone(),
            path: route.path.clone(),
            headers: vec![(*name, Some(value.clone()))],
            body: Some(body.to_string().into_bytes()),
            expect: expect.clone(),
        });
    }
    if route.ticket.is_some() {
        let valid = route.valid.as_ref().map(|v| v.to_string().into_bytes());
        let mut if_match = |label: &str, value: Option<&str>, expect: Expect| {
            out.push(Case {
                label: format!("If-Match {label}"),
                path: route.path.clone(),
                headers: vec![("if-match", value.map(str::to_owned))],
                body: valid.clone(),
                expect,
            });
        };
        if_match("missing", None, Expect::Problem(428, "if_match_required"));
        // "stale" is filled in with the ticket's version when the cases run.
        if_match(
            "stale",
            Some("stale"),
            Expect::Problem(412, "version_mismatch"),
        );
        for bad in ["abc", "\"x\"", "\"1", "W/", "\"-1\"", "\"\""] {
            if_match(bad, Some(bad), Expect::Problem(400, "invalid_if_match"));
        }
    }
    out
}

/// The statuses `openapi.yaml` lists for the operation.
fn documented(route: &Route) -> Vec<String> {
    document()["paths"][route.template][route.method.to_lowercase()]["responses"]
        .as_object()
        .map(|r| r.keys().cloned().collect())
        .unwrap_or_default()
}

fn schema_requires_body(route: &Route) -> bool {
    document()["paths"][route.template][route.method.to_lowercase()]["requestBody"]["required"]
        == json!(true)
}

// ---------------------------------------------------------------------------------------
// Running the cases
// ---------------------------------------------------------------------------------------

/// Sends a case with the route's token, JSON and, on ticket actions, the ticket's current
/// version in `If-Match` (which `reader` reads), then the case's own headers.
fn send(server: &TestServer, reader: &str, route: &Route, case: &Case) -> Response {
    let mut headers: Vec<(&str, Option<String>)> = vec![
        ("accept", Some("application/json".to_owned())),
        ("content-type", Some("application/json".to_owned())),
        (
            "authorization",
            route.token.as_ref().map(|t| format!("Bearer {t}")),
        ),
    ];
    if let Some(id) = &route.ticket {
        headers.push((
            "if-match",
            Some(format!("\"{}\"", version(server, reader, id))),
        ));
    }
    for (name, value) in &case.headers {
        let value = match (value.as_deref(), &route.ticket) {
            (Some("stale"), Some(id)) => {
                let v = version(server, reader, id);
                Some(format!("\"{}\"", if v > 1 { v - 1 } else { v + 1 }))
            }
            _ => value.clone(),
        };
        headers.retain(|(n, _)| n != name);
        headers.push((name, value));
    }
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .filter_map(|(n, v)| v.as_deref().map(|v| (*n, v)))
        .collect();
    server.raw(route.method, &case.path, &headers, case.body.clone())
}

/// A ticket's version, as a supervisor (`reader`) reads it.
fn version(server: &TestServer, reader: &str, id: &str) -> u64 {
    let r = server.get(&format!("/v1/tickets/{id}"), reader);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["version"].as_u64().unwrap()
}

/// The start of a long text.
fn short(text: &str) -> String {
    match text.char_indices().nth(300) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// What is wrong with an answer, if anything.
fn judge(r: &Response, expect: &Expect) -> Option<String> {
    let (status, code) = match expect {
        Expect::Named(..) => (422, "invalid_input"),
        Expect::Problem(status, code) => (*status, *code),
    };
    if r.status != status {
        return Some(format!(
            "{} (expected {status}): {}",
            r.status,
            short(&r.body)
        ));
    }
    if r.header("content-type") != Some("application/problem+json") {
        return Some(format!("content type {:?}", r.header("content-type")));
    }
    let p: Value = serde_json::from_str(&r.body).unwrap_or_default();
    if p["code"] != code || p["status"] != status {
        return Some(format!("code {} (expected {code}): {p}", p["code"]));
    }
    if p["type"] != format!("https://jiban.dev/problems/{code}")
        || !p["title"].is_string()
        || !p["detail"].is_string()
    {
        return Some(format!("not a full problem: {p}"));
    }
    if let Expect::Named(at, field_code) = expect {
        let errors = p["errors"].as_array().cloned().unwrap_or_default();
        let hit = errors.iter().find(|e| {
            let pointer = e["pointer"].as_str().map(str::to_owned);
            let parameter = e["parameter"].as_str().map(|p| format!("?{p}"));
            pointer.as_deref() == Some(at) || parameter.as_deref() == Some(at)
        });
        match hit {
            None => return Some(format!("no error names {at:?}: {p}")),
            Some(e) => {
                if e["detail"].as_str().is_none_or(str::is_empty) {
                    return Some(format!("an error without detail: {e}"));
                }
                if let Some(field_code) = field_code
                    && e["code"] != *field_code
                {
                    return Some(format!(
                        "field code {} (expected {field_code}): {p}",
                        e["code"]
                    ));
                }
            }
        }
    }
    None
}

/// Everything a bad request could have written, as the API shows it: every list, every
/// ticket's timeline.
fn snapshot(server: &TestServer, w: &World) -> Value {
    let admin = &w.c.admin;
    let supervisor = &w.c.supervisor.token;
    let mut all = serde_json::Map::new();
    // Every page of a list, its items in one: the outbox outgrew one page of 100.
    let mut read = |path: &str, token: &str| {
        let r = server.get(path, token);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        let mut v = r.json();
        while let Some(cursor) = v
            .get("next_cursor")
            .and_then(Value::as_str)
            .map(str::to_owned)
        {
            let next = server.get(&format!("{path}&cursor={cursor}"), token);
            assert_eq!(next.status, 200, "{path}: {}", next.body);
            let next = next.json();
            let more = next["items"].as_array().cloned().unwrap_or_default();
            v["items"].as_array_mut().unwrap().extend(more);
            v["next_cursor"] = next["next_cursor"].clone();
        }
        all.insert(path.to_owned(), v.clone());
        v
    };
    let tickets = read("/v1/tickets?limit=100", supervisor);
    for path in [
        "/v1/users?limit=100",
        "/v1/enterprises?limit=100",
        "/v1/departments",
        "/v1/categories",
        "/v1/sla-policies",
        "/v1/calendar/2031",
        "/v1/visits?limit=100",
        "/v1/notifications?limit=100",
        "/v1/alerts?limit=100",
        "/v1/webhooks",
    ] {
        read(path, admin);
    }
    for t in tickets["items"].as_array().unwrap() {
        let id = t["id"].as_str().unwrap();
        read(&format!("/v1/tickets/{id}/events"), supervisor);
    }
    Value::Object(all)
}

/// The keys whose values differ, to say what a bad request wrote.
fn differences(before: &Value, after: &Value) -> Vec<String> {
    let (Some(b), Some(a)) = (before.as_object(), after.as_object()) else {
        return vec!["(not objects)".to_owned()];
    };
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| b.get(*k) != a.get(*k))
        .map(|k| {
            format!(
                "{k}: {} → {}",
                short(&b.get(k).unwrap_or(&Value::Null).to_string()),
                short(&a.get(k).unwrap_or(&Value::Null).to_string())
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// The county, its tickets, and the table
// ---------------------------------------------------------------------------------------

struct World {
    c: AlertCounty,
    /// Stationed at the county's enterprise.
    liaison: Person,
    /// Another department, to transfer to.
    elsewhere: String,
    /// Changes its password.
    changer: Person,
    /// Refreshes and logs out.
    session: Person,
}

impl World {
    fn new(server: &TestServer) -> World {
        let c = AlertCounty::new(server);
        let liaison = create_person(server, &c.admin, "liaison", json!({}));
        let r = server.put(
            &format!("/v1/enterprises/{}/liaisons", c.enterprise_id),
            &c.admin,
            json!({"liaison_ids": [liaison.id]}),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let elsewhere = create_department(server, &c.admin, &format!("x{}", unique()));
        let changer = create_person(server, &c.admin, "supervisor", json!({}));
        let session = create_person(server, &c.admin, "supervisor", json!({}));
        World {
            c,
            liaison,
            elsewhere,
            changer,
            session,
        }
    }

    /// A ticket of the county's enterprise, dispatched to its department, brought to
    /// `before` by the people whose job it is.
    /// The id of a ticket brought to `before`.
    fn ticket(&self, server: &TestServer, before: Before) -> String {
        let t = self.c.ticket_in(server, before);
        t["id"].as_str().unwrap().to_owned()
    }
}

/// Every write operation of the document, with a request that succeeds.
/// `POST …/co-handlers/{department_id}/reply` by an officer of the department asked, on a
/// ticket of its own (issue 13): `If-Match` is optional there, so the route sends none.
fn co_handler_reply(server: &TestServer, w: &World) -> Route {
    let c = &w.c;
    let officer = create_person(
        server,
        &c.admin,
        "officer",
        json!({"department_id": w.elsewhere}),
    );
    let t = c.ticket_in(server, Before::InProgress);
    let t = jiban_tests::alerts::act(
        server,
        &c.officer.token,
        &t,
        "co-handlers",
        json!({"department_ids": [w.elsewhere], "request": "请核实停电原因并提出恢复方案"}),
    );
    let id = t["id"].as_str().unwrap();
    let not_found = Expect::Problem(404, "not_found");
    Route::new(
        "POST",
        "/v1/tickets/{id}/co-handlers/{department_id}/reply",
        format!("/v1/tickets/{id}/co-handlers/{}/reply", w.elsewhere),
        &officer.token,
    )
    .body(
        json!({"opinion": "经核实为线路故障，预计今晚恢复供电。"}),
        200,
    )
    .bad_ids(
        "/v1/tickets/",
        &format!("/co-handlers/{}/reply", w.elsewhere),
    )
    .bad_path(
        format!("/v1/tickets/{id}/co-handlers/not-a-uuid/reply"),
        not_found.clone(),
    )
    .bad_path(
        format!(
            "/v1/tickets/{id}/co-handlers/{}/reply",
            uuid::Uuid::now_v7()
        ),
        not_found,
    )
}

fn routes(server: &TestServer, w: &World) -> Vec<Route> {
    let c = &w.c;
    let admin = c.admin.as_str();
    let officer = c.officer.token.as_str();
    let supervisor = c.supervisor.token.as_str();
    let enterprise = c.enterprise_user.token.as_str();
    let action =
        |name: &'static str, template: &'static str, before: Before, token: &str, body: Value| {
            let id = w.ticket(server, before);
            Route::new("POST", template, format!("/v1/tickets/{id}/{name}"), token)
                .ticket(&id)
                .body(body, 200)
                .bad_ids("/v1/tickets/", &format!("/{name}"))
        };
    let reason = json!({"reason": "已与企业当面沟通，企业认可处理方式"});
    // A ticket filed with an Idempotency-Key: the key again with another body is 422.
    let filed = json!({"enterprise_id": c.enterprise_id, "kind": "complaint", "urgency": "general",
                       "category": "utilities", "title": "厂区停电影响生产",
                       "description": "自昨晚22时起厂区停电，三条产线停工。"});
    let key = format!("bad-input-{}", uuid::Uuid::now_v7());
    let r = server.raw(
        "POST",
        "/v1/tickets",
        &[
            ("authorization", &format!("Bearer {supervisor}")),
            ("content-type", "application/json"),
            ("idempotency-key", &key),
        ],
        Some(filed.to_string().into_bytes()),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let key_error = |code| named_code("?Idempotency-Key", code);
    let mut routes = vec![
        // Tickets.
        Route::new("POST", "/v1/tickets", "/v1/tickets".to_owned(), supervisor)
            .body(filed.clone(), 201)
            .bad_header(
                "Idempotency-Key reused with another body",
                "idempotency-key",
                &key,
                with(&filed, "/title", json!("另一个标题")),
                key_error("idempotency_key_reused"),
            )
            .bad_header(
                "Idempotency-Key of 256 characters",
                "idempotency-key",
                &"k".repeat(256),
                filed.clone(),
                key_error("invalid"),
            )
            .bad_header(
                "Idempotency-Key with a space",
                "idempotency-key",
                "two words",
                filed.clone(),
                key_error("invalid"),
            )
            .bad_header(
                "Idempotency-Key empty",
                "idempotency-key",
                "",
                filed.clone(),
                key_error("invalid"),
            )
            .extra(
                "an unknown category",
                json!({"enterprise_id": c.enterprise_id, "kind": "complaint", "category": "no_such",
                       "title": "停电", "description": "停电"}),
                named("/category"),
            ),
        action(
            "accept",
            "/v1/tickets/{id}/accept",
            Before::Submitted,
            officer,
            json!({"urgency": "general"}),
        ),
        action(
            "dispose",
            "/v1/tickets/{id}/dispose",
            Before::Submitted,
            officer,
            json!({"disposition": "out_of_scope", "explanation": "该事项不属于本平台受理范围，已告知企业通过司法途径解决。"}),
        ),
        action(
            "assign",
            "/v1/tickets/{id}/assign",
            Before::InProgress,
            officer,
            json!({"assignee_id": c.colleague.id}),
        ),
        action(
            "transfer",
            "/v1/tickets/{id}/transfer",
            Before::InProgress,
            officer,
            json!({"department_id": w.elsewhere, "reason": "职能调整"}),
        ),
        action(
            "contact",
            "/v1/tickets/{id}/contact",
            Before::InProgress,
            officer,
            json!({"method": "phone", "summary": "电话联系企业负责人"}),
        ),
        // 协办 (issue 13): asking the other department, with a limit ten days out.
        action(
            "co-handlers",
            "/v1/tickets/{id}/co-handlers",
            Before::InProgress,
            officer,
            json!({"department_ids": [w.elsewhere], "request": "请核实停电原因并提出恢复方案",
                   "due_at": (chrono::Utc::now() + chrono::Duration::days(10)).to_rfc3339()}),
        ),
        co_handler_reply(server, w),
        action(
            "request-info",
            "/v1/tickets/{id}/request-info",
            Before::InProgress,
            officer,
            json!({"items": ["营业执照"], "note": "请一并提供"}),
        ),
        action(
            "supply-info",
            "/v1/tickets/{id}/supply-info",
            Before::AwaitingInfo,
            enterprise,
            json!({"body": "已补充营业执照"}),
        ),
        action(
            "extension",
            "/v1/tickets/{id}/extension",
            Before::InProgress,
            officer,
            json!({"reason": "需跨部门协调", "amount": 2}),
        ),
        action(
            "extension/decision",
            "/v1/tickets/{id}/extension/decision",
            Before::ExtensionPending,
            supervisor,
            json!({"approve": true, "note": "同意延期"}),
        ),
        action(
            "resolve",
            "/v1/tickets/{id}/resolve",
            Before::InProgress,
            officer,
            json!({"result": "已协调供电公司恢复厂区供电。"}),
        ),
        action(
            "explain",
            "/v1/tickets/{id}/explain",
            Before::InProgress,
            officer,
            json!({"explanation": "受现行政策限制，该事项暂无法办理，已向企业详细说明政策依据和后续可行路径，并约定下月回访，届时再次沟通办理进展。",
                   "policy_basis": "《电力供应与使用条例》第二十八条", "plan": "下月回访"}),
        ),
        action(
            "rate",
            "/v1/tickets/{id}/rate",
            Before::Resolved,
            enterprise,
            json!({"level": "satisfied", "comment": "满意"}),
        ),
        action(
            "appeal",
            "/v1/tickets/{id}/appeal",
            Before::Rated,
            officer,
            reason.clone(),
        ),
        action(
            "appeal/decision",
            "/v1/tickets/{id}/appeal/decision",
            Before::Appealed,
            supervisor,
            json!({"uphold": true, "note": "评价与办理无关"}),
        ),
        action(
            "withdraw",
            "/v1/tickets/{id}/withdraw",
            Before::InProgress,
            enterprise,
            reason,
        ),
    ];
    // Comments take no If-Match.
    let commented = w.ticket(server, Before::InProgress);
    routes.push(
        Route::new(
            "POST",
            "/v1/tickets/{id}/comments",
            format!("/v1/tickets/{commented}/comments"),
            enterprise,
        )
        .body(json!({"body": "进展如何？", "internal": false}), 200)
        .bad_ids("/v1/tickets/", "/comments"),
    );
    // Visits: an enterprise the liaison is not stationed at is 403, existing or not.
    let visited = w.ticket(server, Before::InProgress);
    routes.push(
        Route::new(
            "POST",
            "/v1/visits",
            "/v1/visits".to_owned(),
            &w.liaison.token,
        )
        .body(
            json!({"enterprise_id": c.enterprise_id, "visited_at": chrono::Utc::now().to_rfc3339(),
                       "purpose": "六必访", "summary": "与企业负责人面谈，了解用电需求。",
                       "ticket_ids": [visited]}),
            201,
        )
        .unknown_id("/enterprise_id", Expect::Problem(403, "not_permitted")),
    );
    // Administration.
    let new_uscc = uscc(900_000 + unique());
    let mut wrong_check = new_uscc.clone();
    let last = wrong_check.pop().unwrap();
    wrong_check.push(if last == '0' { '1' } else { '0' });
    let enterprise_body = json!({"name": "坏输入测试企业", "uscc": new_uscc, "contact_name": "陈经理",
                                 "contact_phone": "0512-6666 8888", "contact_email": "chen@example.com",
                                 "paired_leader_id": c.leader.id});
    let uscc_cases = |route: Route, base: &Value| {
        let mut r = route;
        for (label, value) in [
            ("a USCC with a wrong check character", wrong_check.clone()),
            ("a USCC of 17 characters", new_uscc[..17].to_owned()),
            ("a USCC of 19 characters", format!("{new_uscc}0")),
            ("a USCC with I", format!("I{}", &new_uscc[1..])),
        ] {
            r = r.extra(
                label,
                with(base, "/uscc", json!(value)),
                named_code("/uscc", "invalid"),
            );
        }
        r
    };
    routes.extend([
        Route::new("POST", "/v1/departments", "/v1/departments".to_owned(), admin)
            .body(json!({"name": "坏输入测试局", "code": "bad_input"}), 201)
            .extra(
                "a code with capitals",
                json!({"name": "测试", "code": "Bad-Code"}),
                named("/code"),
            ),
        Route::new("POST", "/v1/users", "/v1/users".to_owned(), admin).body(
            json!({"username": "bad.input", "password": "long-enough-password", "role": "officer",
                   "display_name": "新同事", "email": "bad.input@example.gov.cn",
                   "department_id": c.department_id}),
            201,
        ),
        Route::new(
            "PATCH",
            "/v1/users/{id}",
            format!("/v1/users/{}", c.bystander.id),
            admin,
        )
        .body(json!({"display_name": "旁观者"}), 200)
        .bad_ids("/v1/users/", ""),
        uscc_cases(
            Route::new("POST", "/v1/enterprises", "/v1/enterprises".to_owned(), admin)
                .body(enterprise_body.clone(), 201),
            &enterprise_body,
        ),
        uscc_cases(
            Route::new(
                "PATCH",
                "/v1/enterprises/{id}",
                format!("/v1/enterprises/{}", c.enterprise_id),
                admin,
            )
            .body(json!({"contact_name": "陈经理", "uscc": uscc(800_000 + unique())}), 200)
            .bad_ids("/v1/enterprises/", ""),
            &json!({"contact_name": "陈经理"}),
        ),
        Route::new(
            "PUT",
            "/v1/enterprises/{id}/liaisons",
            format!("/v1/enterprises/{}/liaisons", c.enterprise_id),
            admin,
        )
        .body(json!({"liaison_ids": [w.liaison.id]}), 200)
        .bad_ids("/v1/enterprises/", "/liaisons"),
        // Reference data.
        Route::new(
            "PUT",
            "/v1/categories/{code}",
            "/v1/categories/bad_input".to_owned(),
            admin,
        )
        .body(json!({"name": "坏输入", "department_id": c.department_id}), 201)
        .bad_path("/v1/categories/Bad-Code".to_owned(), named("?code"))
        .bad_path(format!("/v1/categories/{}", "a".repeat(33)), named("?code")),
        Route::new("PUT", "/v1/calendar/{year}", "/v1/calendar/2031".to_owned(), admin)
            .body(
                json!({"days": [{"date": "2031-01-01", "kind": "holiday", "name": "元旦"}]}),
                200,
            )
            .extra(
                "a date outside the year",
                json!({"days": [{"date": "2030-05-01", "kind": "holiday", "name": "劳动节"}]}),
                named("/days/0/date"),
            )
            .extra(
                "a date twice",
                json!({"days": [{"date": "2031-01-01", "kind": "holiday", "name": "元旦"},
                                {"date": "2031-01-01", "kind": "workday", "name": "元旦"}]}),
                named("/days/1/date"),
            )
            .bad_path(
                "/v1/calendar/1999".to_owned(),
                named_code("?year", "year_out_of_range"),
            )
            .bad_path("/v1/calendar/next".to_owned(), Expect::Problem(404, "not_found")),
        Route::new(
            "PUT",
            "/v1/sla-policies/{class}",
            "/v1/sla-policies/complex".to_owned(),
            admin,
        )
        .body(
            json!({"accept": {"amount": 1, "unit": "working_days"},
                   "contact": {"amount": 2, "unit": "working_days"},
                   "resolve": {"amount": 15, "unit": "working_days"},
                   "basis": "参照 湖北"}),
            200,
        )
        .extra(
            "a limit past 30 days",
            json!({"accept": {"amount": 43201, "unit": "minutes"},
                   "contact": {"amount": 2, "unit": "working_days"},
                   "resolve": {"amount": 15, "unit": "working_days"}, "basis": "参照"}),
            named("/accept/amount"),
        )
        .bad_path("/v1/sla-policies/emperor".to_owned(), Expect::Problem(404, "not_found")),
        // Auth.
        Route::new("POST", "/v1/auth/token", "/v1/auth/token".to_owned(), "")
            .anonymous()
            .body(
                json!({"username": w.session.username, "password": w.session.password}),
                200,
            )
            .blank_ok(&["username", "password"]),
        Route::new("POST", "/v1/auth/refresh", "/v1/auth/refresh".to_owned(), "")
            .anonymous()
            .body(json!({"refresh_token": w.session.refresh_token}), 200)
            .blank_ok(&["refresh_token"]),
        Route::new("POST", "/v1/auth/logout", "/v1/auth/logout".to_owned(), "")
            .anonymous()
            .body(
                json!({"refresh_token": server.login(&w.session.username, &w.session.password)["refresh_token"]}),
                204,
            )
            .blank_ok(&["refresh_token"]),
        Route::new("POST", "/v1/me/password", "/v1/me/password".to_owned(), &w.changer.token)
            .body(
                json!({"current_password": w.changer.password, "new_password": "a-brand-new-password"}),
                204,
            )
            .blank_ok(&["current_password"]),
        // Alerts and notifications: no fixture makes one acknowledgeable or retryable, so
        // only the bad requests are sent.
        {
            let mut r = Route::new(
                "POST",
                "/v1/alerts/{id}/ack",
                format!("/v1/alerts/{}/ack", uuid::Uuid::now_v7()),
                supervisor,
            )
            .bad_ids("/v1/alerts/", "/ack");
            r.valid = Some(json!({}));
            r
        },
        Route::new(
            "POST",
            "/v1/notifications/{id}/retry",
            format!("/v1/notifications/{}/retry", uuid::Uuid::now_v7()),
            admin,
        )
        .bad_ids("/v1/notifications/", "/retry"),
        // Webhooks: a public address (no lookup), subscribed to an event this test never
        // causes, so nothing is sent anywhere.
        Route::new("POST", "/v1/webhooks", "/v1/webhooks".to_owned(), admin)
            .body(webhook(), 201)
            .extra(
                "a URL to a private address",
                json!({"url": "http://10.0.0.8/hook", "events": ["*"]}),
                named_code("/url", "forbidden_address"),
            )
            .extra(
                "an internal event without include_internal",
                json!({"url": "https://8.8.8.8/hook", "events": ["alert.overdue"]}),
                named_code("/events/0", "internal_event"),
            ),
        {
            let made = server.post("/v1/webhooks", admin, webhook());
            assert_eq!(made.status, 201, "{}", made.body);
            let path = format!("/v1/webhooks/{}", made.json()["id"].as_str().unwrap());
            let mut r = Route::new("DELETE", "/v1/webhooks/{id}", path, admin)
                .bad_ids("/v1/webhooks/", "");
            r.success = Some(204);
            r
        },
    ]);
    routes
}

/// A webhook the admin may register: a public address, no lookup, and an event the table
/// never causes.
fn webhook() -> Value {
    json!({"url": "https://8.8.8.8/jiban-bad-input",
           "events": ["ticket.deadlines_recomputed"], "include_internal": true})
}

/// Which group a route belongs to, for the before/after comparisons.
fn group(template: &str) -> &'static str {
    if template.starts_with("/v1/tickets") {
        "tickets"
    } else if template.starts_with("/v1/auth") || template.starts_with("/v1/me") {
        "auth"
    } else if template.starts_with("/v1/users")
        || template.starts_with("/v1/enterprises")
        || template.starts_with("/v1/departments")
    {
        "admin"
    } else if template.starts_with("/v1/categories")
        || template.starts_with("/v1/calendar")
        || template.starts_with("/v1/sla-policies")
    {
        "reference"
    } else {
        "other"
    }
}

both_backends!(every_write_route_refuses_bad_input, |server| {
    let w = World::new(server);
    let table = routes(server, &w);
    // Every write operation of the document is in the table.
    let covered: Operations = table
        .iter()
        .map(|r| (r.method.to_owned(), r.template.to_owned()))
        .collect();
    let writes: Operations = operations()
        .into_iter()
        .filter(|(m, _)| m != "GET")
        // A multipart upload has no JSON body to generate cases from: its bad input (no
        // file part, another part, a bad `internal`, not multipart, a file too large or of
        // a refused type) is sent by tests/tests/attachments.rs.
        .filter(|(m, p)| {
            document()["paths"][p][m.to_lowercase()]["requestBody"]["content"]
                ["multipart/form-data"]
                .is_null()
        })
        .collect();
    let missing: Vec<_> = writes.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "write operations with no row: {missing:?}"
    );

    let mut wrong = Vec::new();
    let mut count = 0;
    for name in ["tickets", "admin", "reference", "auth", "other"] {
        let routes: Vec<&Route> = table.iter().filter(|r| group(r.template) == name).collect();
        let before = snapshot(server, &w);
        for route in &routes {
            for case in cases(route) {
                count += 1;
                let r = send(server, &w.c.supervisor.token, route, &case);
                if !documented(route).contains(&r.status.to_string()) {
                    wrong.push(format!(
                        "{} {}: {}: {} is not among the operation's responses in openapi.yaml",
                        route.method, route.template, case.label, r.status
                    ));
                }
                if let Some(why) = judge(&r, &case.expect) {
                    wrong.push(format!(
                        "{} {}: {}: {why}",
                        route.method, route.template, case.label
                    ));
                }
            }
        }
        let after = snapshot(server, &w);
        for written in differences(&before, &after) {
            wrong.push(format!("bad requests to the {name} routes wrote {written}"));
        }
        // The valid request of each route succeeds: the bad ones differed only in what
        // they broke.
        for route in routes {
            let Some(success) = route.success else {
                continue;
            };
            let case = Case {
                label: "valid".to_owned(),
                path: route.path.clone(),
                headers: Vec::new(),
                body: route.valid.as_ref().map(|v| v.to_string().into_bytes()),
                expect: Expect::Problem(success, ""),
            };
            let r = send(server, &w.c.supervisor.token, route, &case);
            if r.status != success {
                wrong.push(format!(
                    "{} {}: the valid request: {} (expected {success}): {}",
                    route.method,
                    route.template,
                    r.status,
                    short(&r.body)
                ));
            }
        }
    }
    assert!(count > 1000, "only {count} cases");
    assert!(
        wrong.is_empty(),
        "{} of {count} bad requests answered wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
});

/// The same request from 16 threads at once, released together; the answers.
fn sixteen_at_once(
    server: &TestServer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> Vec<Response> {
    let barrier = std::sync::Barrier::new(16);
    let bytes = body.to_string().into_bytes();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    server.raw(method, path, headers, Some(bytes.clone()))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn kinds(server: &TestServer, token: &str, id: &str) -> Vec<String> {
    let r = server.get(&format!("/v1/tickets/{id}/events"), token);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

// DESIGN.md section 7: a retry arriving while the first is in flight waits for it and
// returns its response. Sixteen at once file one ticket, and all sixteen answer it.
both_backends!(
    sixteen_creates_with_one_idempotency_key_file_one_ticket,
    |server| {
        let c = AlertCounty::new(server);
        let title = format!("并发重试 {}", unique());
        let body = json!({"kind": "complaint", "category": "utilities", "title": title,
                      "description": "自昨晚22时起厂区停电，三条产线停工。"});
        let key = format!("retry-{}", uuid::Uuid::now_v7());
        let auth = format!("Bearer {}", c.enterprise_user.token);
        let headers = [
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
            ("idempotency-key", key.as_str()),
        ];
        let answers = sixteen_at_once(server, "POST", "/v1/tickets", &headers, &body);
        let mut ids = std::collections::BTreeSet::new();
        for r in &answers {
            assert_eq!(r.status, 201, "{}", r.body);
            ids.insert(r.json()["id"].as_str().unwrap().to_owned());
        }
        assert_eq!(ids.len(), 1, "one ticket for one key: {ids:?}");
        let replayed = answers
            .iter()
            .filter(|r| r.header("idempotent-replayed") == Some("true"))
            .count();
        assert_eq!(replayed, 15, "all but the first are replays");
        // The rows: one ticket with this title, with one `submitted` entry.
        let listed = server
            .get("/v1/tickets?limit=100", &c.supervisor.token)
            .json();
        let same: Vec<&Value> = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["title"] == title.as_str())
            .collect();
        assert_eq!(same.len(), 1, "{same:?}");
        let id = ids.first().unwrap();
        assert_eq!(kinds(server, &c.supervisor.token, id), ["submitted"]);
    }
);

// DESIGN.md section 7: a stale If-Match answers 412. Sixteen actions sent at once with
// the version all of them read: one wins, fifteen are stale, and the timeline shows one.
both_backends!(sixteen_actions_with_one_version_let_one_win, |server| {
    let c = AlertCounty::new(server);
    let t = c.file(server, "utilities", json!({}));
    let t = act(server, &c.officer.token, &t, "accept", json!({}));
    let id = t["id"].as_str().unwrap();
    let version = t["version"].as_u64().unwrap();
    let auth = format!("Bearer {}", c.officer.token);
    let tag = format!("\"{version}\"");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
        ("if-match", tag.as_str()),
    ];
    let body = json!({"method": "phone", "summary": "电话联系企业负责人"});
    let answers = sixteen_at_once(
        server,
        "POST",
        &format!("/v1/tickets/{id}/contact"),
        &headers,
        &body,
    );
    let won: Vec<&Response> = answers.iter().filter(|r| r.status == 200).collect();
    assert_eq!(
        won.len(),
        1,
        "one wins: {:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(won[0].json()["version"], version + 1);
    for r in answers.iter().filter(|r| r.status != 200) {
        r.problem(412, "version_mismatch");
    }
    let after = server
        .get(&format!("/v1/tickets/{id}"), &c.officer.token)
        .json();
    assert_eq!(after["version"], version + 1);
    let contacted = kinds(server, &c.officer.token, id)
        .into_iter()
        .filter(|k| k == "contacted")
        .count();
    assert_eq!(contacted, 1);
});
