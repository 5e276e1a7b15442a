//! 驻厂走访 (六必访) over HTTP, on both backends (issue 8): a liaison records a visit at an
//! enterprise it is stationed at, linking tickets, which get a public `visit` event without
//! a new version; who sees which visits; every refusal, and nothing written after one.

use chrono::{Duration, SecondsFormat, Utc};
use jiban_tests::fixture::{
    County, Person, create_department, create_enterprise, create_person, unique,
};
use jiban_tests::{TestServer, both_backends};
use serde_json::{Value, json};

/// An instant `minutes` from now, in +08:00 as a liaison's phone would send it.
fn at(minutes: i64) -> String {
    (Utc::now() + Duration::minutes(minutes))
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn file(server: &TestServer, token: &str, category: &str) -> String {
    let r = server.post(
        "/v1/tickets",
        token,
        json!({
            "kind": "request",
            "category": category,
            "title": "厂区道路需要维修",
            "description": "厂区东门道路破损，货车进出困难，请协调维修。",
        }),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_str().unwrap().to_owned()
}

fn map_category(server: &TestServer, admin: &str, code: &str, department_id: &str) {
    let r = server.put(
        &format!("/v1/categories/{code}"),
        admin,
        json!({"name": code, "department_id": department_id}),
    );
    assert!(r.status == 200 || r.status == 201, "{}", r.body);
}

fn visit_body(enterprise_id: &str, visited_at: &str, ticket_ids: &[&str]) -> Value {
    json!({
        "enterprise_id": enterprise_id,
        "visited_at": visited_at,
        "purpose": "六必访：生产经营困难必访",
        "summary": "与王经理面谈。\n\t一、道路维修进度；\n\t二、用电扩容需求。",
        "ticket_ids": ticket_ids,
    })
}

fn record(server: &TestServer, liaison: &Person, body: Value) -> Value {
    let r = server.post("/v1/visits", &liaison.token, body);
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()
}

/// The ids of a list answer, in order.
fn ids(server: &TestServer, path: &str, token: &str) -> Vec<String> {
    let r = server.get(path, token);
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

both_backends!(
    a_visit_is_on_the_linked_tickets_timelines_without_a_new_version,
    |server| {
        let county = County::new(server);
        map_category(server, &county.admin, "utilities", &county.department_id);
        let ent = &county.enterprise_user.token;
        let first = file(server, ent, "utilities");
        let second = file(server, ent, "utilities");
        let version_of =
            |t: &str| server.get(&format!("/v1/tickets/{t}"), ent).json()["version"].clone();
        let before = (version_of(&first), version_of(&second));

        let visited_at = at(-30);
        let r = server.post(
            "/v1/visits",
            &county.liaison.token,
            visit_body(&county.enterprise_id, &visited_at, &[&second, &first]),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        let v = r.json();
        assert_eq!(
            r.header("location"),
            Some(format!("/v1/visits/{}", id(&v)).as_str())
        );
        assert_eq!(v["enterprise_id"], county.enterprise_id.as_str());
        assert_eq!(v["liaison_id"], county.liaison.id.as_str());
        assert_eq!(v["purpose"], "六必访：生产经营困难必访");
        assert!(
            v["summary"].as_str().unwrap().contains("\n\t一、"),
            "line breaks and tabs kept"
        );
        assert_eq!(
            v["ticket_ids"],
            json!([first, second]),
            "in the order the tickets were filed"
        );
        let sent = chrono::DateTime::parse_from_rfc3339(&visited_at).unwrap();
        let answered =
            chrono::DateTime::parse_from_rfc3339(v["visited_at"].as_str().unwrap()).unwrap();
        assert_eq!(answered, sent, "the same instant, whatever the offset");
        assert!(v["created_at"].is_string());
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys.len(),
            8,
            "id, enterprise_id, liaison_id, visited_at, purpose, summary, ticket_ids, created_at: {keys:?}"
        );

        // The enterprise reads the visit on both timelines (it is public), and no version moved.
        for ticket in [&first, &second] {
            let events = server
                .get(&format!("/v1/tickets/{ticket}/events"), ent)
                .json();
            let last = events["items"].as_array().unwrap().last().unwrap().clone();
            assert_eq!(last["kind"], "visit", "{events}");
            assert_eq!(last["internal"], false);
            assert_eq!(last["actor_id"], county.liaison.id.as_str());
            assert_eq!(last["data"]["visit_id"], v["id"]);
            assert_eq!(last["data"]["purpose"], v["purpose"]);
        }
        assert_eq!((version_of(&first), version_of(&second)), before);
        let r = server.get(&format!("/v1/tickets/{first}"), ent);
        assert_eq!(r.header("etag"), Some(format!("\"{}\"", before.0).as_str()));

        // Read back, as recorded.
        let r = server.get(&format!("/v1/visits/{}", id(&v)), &county.liaison.token);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json(), v);
    }
);

/// Two enterprises, two liaisons, two departments, and three visits at three instants.
struct World {
    county: County,
    other_liaison: Person,
    other_enterprise_user: Person,
    other_officer: Person,
    other_enterprise_id: String,
    /// At the county's enterprise, linking a ticket of the county's department.
    linked: Value,
    /// At the county's enterprise, linking nothing.
    unlinked: Value,
    /// At the other enterprise, linking a ticket of the other department.
    elsewhere: Value,
    ticket: String,
    other_ticket: String,
}

fn world(server: &TestServer) -> World {
    let county = County::new(server);
    let admin = &county.admin;
    map_category(server, admin, "utilities", &county.department_id);
    let other_department = create_department(server, admin, &format!("dept{}", unique()));
    map_category(server, admin, "financing", &other_department);
    let other_enterprise_id = create_enterprise(server, admin, "昆山新材料有限公司");
    let other_officer = create_person(
        server,
        admin,
        "officer",
        json!({"department_id": other_department}),
    );
    let other_liaison = create_person(server, admin, "liaison", json!({}));
    let other_enterprise_user = create_person(
        server,
        admin,
        "enterprise",
        json!({"enterprise_id": other_enterprise_id}),
    );
    let r = server.put(
        &format!("/v1/enterprises/{other_enterprise_id}/liaisons"),
        admin,
        json!({"liaison_ids": [other_liaison.id]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let ticket = file(server, &county.enterprise_user.token, "utilities");
    let other_ticket = file(server, &other_enterprise_user.token, "financing");
    let linked = record(
        server,
        &county.liaison,
        visit_body(&county.enterprise_id, &at(-180), &[&ticket]),
    );
    let unlinked = record(
        server,
        &county.liaison,
        visit_body(&county.enterprise_id, &at(-120), &[]),
    );
    let elsewhere = record(
        server,
        &other_liaison,
        visit_body(&other_enterprise_id, &at(-60), &[&other_ticket]),
    );
    World {
        county,
        other_liaison,
        other_enterprise_user,
        other_officer,
        other_enterprise_id,
        linked,
        unlinked,
        elsewhere,
        ticket,
        other_ticket,
    }
}

both_backends!(each_role_sees_its_own_visits, |server| {
    let w = world(server);
    let c = &w.county;
    let (linked, unlinked, elsewhere) = (id(&w.linked), id(&w.unlinked), id(&w.elsewhere));
    let all = vec![elsewhere.clone(), unlinked.clone(), linked.clone()];
    let cases: Vec<(&str, &str, Vec<String>)> = vec![
        ("supervisor", &c.supervisor.token, all.clone()),
        ("admin", &c.admin, all.clone()),
        (
            "enterprise",
            &c.enterprise_user.token,
            vec![unlinked.clone(), linked.clone()],
        ),
        (
            "other enterprise",
            &w.other_enterprise_user.token,
            vec![elsewhere.clone()],
        ),
        (
            "liaison",
            &c.liaison.token,
            vec![unlinked.clone(), linked.clone()],
        ),
        (
            "other liaison",
            &w.other_liaison.token,
            vec![elsewhere.clone()],
        ),
        ("officer", &c.officer.token, vec![linked.clone()]),
        (
            "other officer",
            &w.other_officer.token,
            vec![elsewhere.clone()],
        ),
    ];
    for (who, token, expected) in &cases {
        assert_eq!(
            &ids(server, "/v1/visits", token),
            expected,
            "{who}'s list, newest first"
        );
        for visit in &all {
            let r = server.get(&format!("/v1/visits/{visit}"), token);
            if expected.contains(visit) {
                assert_eq!(r.status, 200, "{who} reads {visit}: {}", r.body);
            } else {
                r.problem(404, "not_found");
            }
        }
    }
    // The officer of the linked ticket's department sees the ticket and so the visit; it
    // does not see the other department's ticket.
    assert_eq!(
        server
            .get(&format!("/v1/tickets/{}", w.ticket), &c.officer.token)
            .status,
        200
    );
    assert_eq!(
        server
            .get(&format!("/v1/tickets/{}", w.other_ticket), &c.officer.token)
            .status,
        404
    );
});

both_backends!(filters_and_pages_leave_out_what_does_not_match, |server| {
    let w = world(server);
    let sup = &w.county.supervisor.token;
    let (linked, unlinked, elsewhere) = (id(&w.linked), id(&w.unlinked), id(&w.elsewhere));
    let q = |query: &str| ids(server, &format!("/v1/visits?{query}"), sup);
    assert_eq!(
        q(&format!("enterprise_id={}", w.county.enterprise_id)),
        [unlinked.clone(), linked.clone()]
    );
    assert_eq!(
        q(&format!("enterprise_id={}", w.other_enterprise_id)),
        vec![elsewhere.clone()]
    );
    assert_eq!(
        q(&format!("liaison_id={}", w.other_liaison.id)),
        vec![elsewhere.clone()]
    );
    assert_eq!(
        q(&format!("liaison_id={}", w.county.liaison.id)),
        [unlinked.clone(), linked.clone()]
    );
    let between = urlencode(&at(-150));
    assert_eq!(
        q(&format!("from={between}")),
        [elsewhere.clone(), unlinked.clone()]
    );
    assert_eq!(q(&format!("to={between}")), vec![linked.clone()]);
    let (a, b) = (urlencode(&at(-150)), urlencode(&at(-90)));
    assert_eq!(q(&format!("from={a}&to={b}")), vec![unlinked.clone()]);
    // A filter within scope: the enterprise's own filter on the other enterprise is empty.
    let other = format!("/v1/visits?enterprise_id={}", w.other_enterprise_id);
    assert!(ids(server, &other, &w.county.enterprise_user.token).is_empty());

    // Keyset pages, newest first, without repeats.
    let first = server.get("/v1/visits?limit=2", sup).json();
    let page: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(page, [elsewhere.as_str(), unlinked.as_str()]);
    let cursor = first["next_cursor"].as_str().expect("more follow");
    let second = server
        .get(&format!("/v1/visits?limit=2&cursor={cursor}"), sup)
        .json();
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(second["items"][0]["id"], linked.as_str());
    assert!(second["next_cursor"].is_null(), "{second}");
});

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

/// How many visits there are, counted through the API by a supervisor.
fn count(server: &TestServer, sup: &str) -> usize {
    ids(server, "/v1/visits?limit=100", sup).len()
}

both_backends!(refusals_are_named_and_write_nothing, |server| {
    let w = world(server);
    let c = &w.county;
    let sup = &c.supervisor.token;
    let liaison = &c.liaison;
    let before = count(server, sup);
    let events_before = server
        .get(&format!("/v1/tickets/{}/events", w.ticket), sup)
        .json()["items"]
        .as_array()
        .unwrap()
        .len();
    let good = || visit_body(&c.enterprise_id, &at(-10), &[&w.ticket]);

    // Only liaisons record visits; only at the enterprises they are stationed at.
    for token in [&c.officer.token, sup, &c.enterprise_user.token, &c.admin] {
        server
            .post("/v1/visits", token, good())
            .problem(403, "not_permitted");
    }
    let r = server.post(
        "/v1/visits",
        &liaison.token,
        visit_body(&w.other_enterprise_id, &at(-10), &[]),
    );
    r.problem(403, "not_permitted");
    let nowhere = uuid::Uuid::new_v4().to_string();
    server
        .post(
            "/v1/visits",
            &liaison.token,
            visit_body(&nowhere, &at(-10), &[]),
        )
        .problem(403, "not_permitted");

    let with = |field: &str, value: Value| {
        let mut body = good();
        body[field] = value;
        body
    };
    let twenty_one: Vec<String> = (0..21).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            with("visited_at", json!("yesterday")),
            "/visited_at",
            "invalid",
        ),
        (
            with("visited_at", json!("2026-12-03 09:30")),
            "/visited_at",
            "invalid",
        ),
        (
            with("visited_at", json!(at(60))),
            "/visited_at",
            "in_future",
        ),
        (with("purpose", json!("   ")), "/purpose", "blank"),
        (
            with("purpose", json!("字".repeat(201))),
            "/purpose",
            "too_long",
        ),
        (
            with("purpose", json!("走访\u{0}")),
            "/purpose",
            "control_character",
        ),
        (
            with("purpose", json!("走访\n第二行")),
            "/purpose",
            "control_character",
        ),
        (with("summary", json!("")), "/summary", "blank"),
        (
            with("summary", json!("字".repeat(10_001))),
            "/summary",
            "too_long",
        ),
        (
            with("summary", json!("面谈\u{0}")),
            "/summary",
            "control_character",
        ),
        (
            with("summary", json!("面谈\u{1b}[31m")),
            "/summary",
            "control_character",
        ),
        (
            with("summary", json!("面\u{85}谈")),
            "/summary",
            "control_character",
        ),
        (
            with("ticket_ids", json!(twenty_one)),
            "/ticket_ids",
            "too_many",
        ),
        (
            with("ticket_ids", json!([w.ticket, w.ticket])),
            "/ticket_ids/1",
            "duplicate",
        ),
        (
            with("ticket_ids", json!([w.ticket, w.other_ticket])),
            "/ticket_ids/1",
            "unknown_ticket",
        ),
        (
            with("ticket_ids", json!([uuid::Uuid::now_v7().to_string()])),
            "/ticket_ids/0",
            "unknown_ticket",
        ),
        (
            with("ticket_ids", json!([nowhere])),
            "/ticket_ids/0",
            "unknown_ticket",
        ),
        (
            with("ticket_ids", json!(["not-a-uuid"])),
            "/ticket_ids/0",
            "invalid",
        ),
        (
            with("enterprise_id", json!(null)),
            "/enterprise_id",
            "wrong_type",
        ),
        (with("colour", json!("red")), "", "unknown_field"),
    ];
    for (body, pointer, code) in cases {
        let r = server.post("/v1/visits", &liaison.token, body.clone());
        let errors = r.invalid();
        assert!(
            errors
                .iter()
                .any(|(p, c)| (p == pointer || pointer.is_empty()) && c == code),
            "{pointer} {code}: {errors:?}\n{body}"
        );
    }
    // Nothing was written: no visit, and no event on the ticket that could be linked.
    assert_eq!(count(server, sup), before);
    let events_after = server
        .get(&format!("/v1/tickets/{}/events", w.ticket), sup)
        .json()["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(
        events_after, events_before,
        "no visit event after a refused visit"
    );

    // Query parameters: unknown and malformed ones are named.
    for (query, parameter, code) in [
        ("colour=red", "?colour", "unknown_parameter"),
        ("enterprise_id=acme", "?enterprise_id", "invalid"),
        ("liaison_id=1", "?liaison_id", "invalid"),
        ("from=yesterday", "?from", "invalid"),
        ("to=2026-13-01", "?to", "invalid"),
        ("limit=0", "?limit", "out_of_range"),
        ("limit=101", "?limit", "out_of_range"),
        ("cursor=zzz", "?cursor", "invalid"),
        ("limit=1&limit=2", "?limit", "duplicate_parameter"),
    ] {
        let errors = server.get(&format!("/v1/visits?{query}"), sup).invalid();
        assert!(
            errors.contains(&(parameter.to_owned(), code.to_owned())),
            "{query}: {errors:?}"
        );
    }
    server
        .get("/v1/visits/not-a-uuid", sup)
        .problem(404, "not_found");
    let unknown = uuid::Uuid::now_v7();
    server
        .get(&format!("/v1/visits/{unknown}"), sup)
        .problem(404, "not_found");
});
