//! Every instant in every answer is RFC 3339 at +08:00 (DESIGN.md section 7; issue 8, point
//! 10), on both backends. A ticket is walked through the actions that set instants (accept,
//! contact, a pause, an extension, resolve, a bad rating, the deadline scanner over the
//! reopened ticket, a rating and its appeal) and a visit is linked to it; then the answer
//! of every route that reads them is walked too, and every string that parses as an
//! RFC 3339 instant must end in `+08:00`. So that the walk cannot pass by finding nothing, the instants it met are named
//! by key, and every key the API answers an instant under must be among them.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use jiban_tests::fixture::County;
use jiban_tests::{Response, TestServer, both_backends};
use serde_json::{Value, json};

/// Walks `value`, adding the key of every instant to `keys` (an array's items count under
/// the array's key) and each instant not at +08:00 to `wrong`, with its path.
fn walk(
    value: &Value,
    path: &str,
    key: &str,
    keys: &mut BTreeSet<String>,
    wrong: &mut Vec<String>,
) {
    match value {
        Value::String(s) if DateTime::parse_from_rfc3339(s).is_ok() => {
            keys.insert(key.to_owned());
            if !s.ends_with("+08:00") {
                wrong.push(format!("{path} = {s}"));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{path}/{i}"), key, keys, wrong);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                walk(item, &format!("{path}/{k}"), k, keys, wrong);
            }
        }
        _ => {}
    }
}

/// The answers read so far, and the instant keys met in them.
#[derive(Default)]
struct Seen {
    keys: BTreeSet<String>,
    wrong: Vec<String>,
    routes: usize,
}

impl Seen {
    fn answer(&mut self, route: &str, r: &Response) -> Value {
        assert!(
            (200..300).contains(&r.status),
            "{route}: {} {}",
            r.status,
            r.body
        );
        let body = r.json();
        walk(&body, route, "", &mut self.keys, &mut self.wrong);
        self.routes += 1;
        body
    }
}

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

/// The walk itself: a `Z` or another offset is found wherever it is, and a string that is
/// not an instant is not one.
#[test]
fn the_walk_finds_every_instant_and_only_instants() {
    let mut keys = BTreeSet::new();
    let mut wrong = Vec::new();
    let answer = json!({
        "at": "2026-12-04T00:00:00+08:00",
        "items": [{"data": {"resolve": {"due_at": "2026-12-03T16:00:00Z"}}}],
        "notes": ["2026-12-04T00:00:00.5-05:00", "not an instant", "2026-12-04"],
        "count": 3,
    });
    walk(&answer, "", "", &mut keys, &mut wrong);
    assert_eq!(
        keys,
        BTreeSet::from(["at".to_owned(), "due_at".to_owned(), "notes".to_owned()])
    );
    assert_eq!(
        wrong,
        [
            "/items/0/data/resolve/due_at = 2026-12-03T16:00:00Z",
            "/notes/0 = 2026-12-04T00:00:00.5-05:00",
        ]
    );
}

both_backends!(every_answer_gives_its_instants_at_plus_eight, |server| {
    let county = County::new(server);
    let mut seen = Seen::default();
    let admin = &county.admin;
    let ent = &county.enterprise_user.token;
    let officer = &county.officer.token;
    let supervisor = &county.supervisor.token;
    let r = server.put(
        "/v1/categories/utilities",
        admin,
        json!({"name": "水电气热", "department_id": county.department_id}),
    );
    assert!(r.status == 200 || r.status == 201, "{}", r.body);

    // A ticket through every action that sets an instant, each answer walked.
    let r = server.post(
        "/v1/tickets",
        ent,
        json!({
            "kind": "complaint",
            "category": "utilities",
            "title": "厂区停电影响生产",
            "description": "自昨晚22时起厂区停电，三条产线停工，请尽快协调恢复供电。",
        }),
    );
    let mut t = seen.answer("POST /v1/tickets", &r);
    for (who, action, body) in [
        (officer, "accept", json!({})),
        (
            officer,
            "contact",
            json!({"method": "phone", "summary": "电话联系王经理"}),
        ),
        (officer, "request-info", json!({"items": ["停电起止时间"]})),
        (ent, "supply-info", json!({"body": "昨晚22时至今"})),
        (
            officer,
            "extension",
            json!({"reason": "需协调上级供电公司", "amount": 2}),
        ),
        (
            supervisor,
            "extension/decision",
            json!({"approve": true, "note": "同意"}),
        ),
        (
            officer,
            "resolve",
            json!({"result": "已协调供电公司抢修线路，恢复供电。"}),
        ),
        (ent, "rate", json!({"level": "dissatisfied"})),
    ] {
        t = seen.answer(action, &act(server, who, &t, action, body));
    }

    // The deadline scanner, two weeks on, over the reopened ticket: alerts, their timeline
    // entries, queued mail. Its escalation needs working days to pass: three calendar days
    // from a Thursday evening hold only one, and a Spring Festival holds none for a week.
    jiban_tests::alerts::run_once(server.database(), Utc::now() + Duration::days(14), None);
    let r = server.get(
        &format!("/v1/tickets/{}", t["id"].as_str().unwrap()),
        officer,
    );
    t = seen.answer("GET /v1/tickets/{id}", &r);
    for (who, action, body) in [
        (
            officer,
            "resolve",
            json!({"result": "已更换故障线路，供电稳定运行。"}),
        ),
        (ent, "rate", json!({"level": "satisfied"})),
        (officer, "appeal", json!({"reason": "首次评价与事实不符"})),
        (
            supervisor,
            "appeal/decision",
            json!({"uphold": false, "note": "维持评价"}),
        ),
    ] {
        t = seen.answer(action, &act(server, who, &t, action, body));
    }
    let id = t["id"].as_str().unwrap().to_owned();
    // A visit linked to it, sent in UTC: answered at +08:00, the same instant.
    let sent = (Utc::now() - Duration::minutes(30)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let r = server.post(
        "/v1/visits",
        &county.liaison.token,
        json!({
            "enterprise_id": county.enterprise_id,
            "visited_at": sent,
            "purpose": "六必访",
            "summary": "面谈供电问题",
            "ticket_ids": [id],
        }),
    );
    let visit = seen.answer("POST /v1/visits", &r);
    assert_eq!(
        DateTime::parse_from_rfc3339(visit["visited_at"].as_str().unwrap()).unwrap(),
        DateTime::parse_from_rfc3339(&sent).unwrap(),
        "accepted in UTC, answered at +08:00: the same instant"
    );

    let visit_id = visit["id"].as_str().unwrap();
    let enterprise_id = county.enterprise_id.as_str();
    let officer_id = county.officer.id.as_str();
    for (route, token) in [
        (format!("/v1/tickets/{id}"), officer),
        (format!("/v1/tickets/{id}"), ent),
        (format!("/v1/tickets/{id}/events"), officer),
        (format!("/v1/tickets/{id}/events"), ent),
        ("/v1/tickets".to_owned(), supervisor),
        (format!("/v1/alerts?ticket_id={id}"), supervisor),
        ("/v1/notifications".to_owned(), admin),
        ("/v1/visits".to_owned(), &county.liaison.token),
        (format!("/v1/visits/{visit_id}"), &county.liaison.token),
        ("/v1/users".to_owned(), admin),
        ("/v1/enterprises".to_owned(), admin),
        (format!("/v1/enterprises/{enterprise_id}"), admin),
        ("/v1/departments".to_owned(), admin),
        ("/v1/calendar/2026".to_owned(), admin),
        ("/v1/sla-policies".to_owned(), admin),
        ("/v1/me".to_owned(), officer),
    ] {
        seen.answer(&route, &server.get(&route, token));
    }
    let r = server.patch(
        &format!("/v1/users/{officer_id}"),
        admin,
        json!({"display_name": "王科长"}),
    );
    seen.answer("PATCH /v1/users/{id}", &r);
    seen.answer("/readyz", &server.raw("GET", "/readyz", &[], None));

    // A problem that names an instant names it at +08:00 too.
    let alerts = server
        .get(&format!("/v1/alerts?ticket_id={id}"), supervisor)
        .json();
    let escalation = alerts["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["needs_ack"] == true)
        .unwrap_or_else(|| panic!("the bad rating escalated: {alerts}"));
    let ack = format!("/v1/alerts/{}/ack", escalation["id"].as_str().unwrap());
    seen.answer("ack", &server.post(&ack, supervisor, json!({})));
    let again = server.post(&ack, supervisor, json!({}));
    let problem = again.problem(409, "already_acknowledged");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("+08:00"), "{detail}");

    assert_eq!(
        seen.wrong,
        Vec::<String>::new(),
        "instants not at +08:00, after {} answers",
        seen.routes
    );
    let expected = [
        // tickets and their nested extension and rating
        "accept_due_at",
        "contact_due_at",
        "resolve_due_at",
        "accepted_at",
        "contacted_at",
        "resolved_at",
        "closed_at",
        "rating_due_at",
        "requested_at",
        "rated_at",
        "appealed_at",
        "created_at",
        "updated_at",
        // the timeline: `at`, and the deadlines, pauses, alerts and visits inside `data`
        "at",
        "due_at",
        "started_at",
        "met_at",
        "from",
        "to",
        "visited_at",
        // alerts, notifications
        "acknowledged_at",
        "next_attempt_at",
        // calendar, readiness
        "loaded_at",
        "scanner_last_pass_at",
    ];
    let missing: Vec<&str> = expected
        .into_iter()
        .filter(|k| !seen.keys.contains(*k))
        .collect();
    assert!(
        missing.is_empty(),
        "the walk met no instant under {missing:?}; it met {:?}",
        seen.keys
    );
});
