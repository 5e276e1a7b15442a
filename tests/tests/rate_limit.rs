//! The write rate limit (issue 8, point 9; docs/API.md, "Rate limits"): per user and per
//! node, 429 `too_many_requests` with `Retry-After`, reads never limited, and a refused
//! write writes nothing; on both backends.

use jiban_tests::alerts::AlertCounty;
use jiban_tests::{Options, TestServer, both_backends};
use serde_json::{Value, json};

fn limited(per_minute: &str) -> Options {
    Options::new()
        .set("JIBAN_ALERTS", "off")
        .set("JIBAN_RATE_LIMIT_PER_MINUTE", per_minute)
}

fn comments(server: &TestServer, token: &str, ticket: &Value) -> usize {
    let r = server.get(
        &format!("/v1/tickets/{}/events", ticket["id"].as_str().unwrap()),
        token,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "commented")
        .count()
}

both_backends!(
    the_sixth_write_in_a_minute_is_429_and_writes_nothing,
    database | db | {
        // The county is set up through a node without a limit (the tests' default); the
        // tokens work on every node, which share the JWT secret.
        let setup = TestServer::start(db, limited("0"));
        let c = AlertCounty::new(&setup);
        let ticket = c.file(&setup, "utilities", json!({}));
        let comment_path = format!("/v1/tickets/{}/comments", ticket["id"].as_str().unwrap());
        let ent = &c.enterprise_user.token;
        let supervisor = &c.supervisor.token;

        let node = TestServer::start(db, limited("5"));
        for i in 0..5 {
            let r = node.post(&comment_path, ent, json!({"body": format!("催办第{i}次")}));
            assert_eq!(r.status, 200, "comment {i}: {}", r.body);
        }
        let r = node.post(&comment_path, ent, json!({"body": "第六次"}));
        let p = r.problem(429, "too_many_requests");
        let retry_after: u64 = r
            .header("retry-after")
            .expect("Retry-After")
            .parse()
            .expect("whole seconds");
        // 5 a minute refill one every 12 s.
        assert!((1..=12).contains(&retry_after), "{retry_after}: {p}");
        assert_eq!(
            comments(&node, supervisor, &ticket),
            5,
            "the 429 wrote nothing"
        );

        // Other writes count too: a new ticket is refused, and none is filed.
        let r = node.post(
            "/v1/tickets",
            ent,
            json!({"kind": "complaint", "category": "utilities", "title": "又停电",
                   "description": "厂区再次停电"}),
        );
        r.problem(429, "too_many_requests");
        let r = node.get("/v1/tickets?limit=100", supervisor);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            r.json()["items"].as_array().unwrap().len(),
            1,
            "no ticket filed"
        );

        // Reads are never limited.
        for _ in 0..10 {
            let r = node.get(
                &format!("/v1/tickets/{}", ticket["id"].as_str().unwrap()),
                ent,
            );
            assert_eq!(r.status, 200, "{}", r.body);
        }
        // Another user is not affected.
        let r = node.post(&comment_path, supervisor, json!({"body": "已督促供电所"}));
        assert_eq!(r.status, 200, "{}", r.body);
        // The limit is per node: another node allows the same user its own five.
        let other = TestServer::start(db, limited("5"));
        let r = other.post(&comment_path, ent, json!({"body": "换个节点"}));
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(comments(&other, supervisor, &ticket), 7);
    }
);

// A bad limit stops start-up with the variable's name (the database is never opened, so
// one backend stands for both).
#[test]
fn a_bad_limit_stops_start_up_by_name() {
    for value in ["-1", "off", "100001"] {
        let db = jiban_tests::TestDatabase::sqlite();
        let Err(log) = TestServer::try_start(&db, limited(value)) else {
            panic!("{value}: the server started");
        };
        assert!(
            log.contains("JIBAN_RATE_LIMIT_PER_MINUTE"),
            "{value}: {log}"
        );
    }
}
