//! The change feed over HTTP (issue 10, point 3; DESIGN.md section 7): a consumer that
//! follows `GET /v1/tickets/changes` from the start, keeping the latest of each ticket by
//! `(id, last_seq)`, ends with the table as it is, comments and other events that leave
//! `version` alone included, also while several clients write at once (PostgreSQL, whose
//! transactions commit out of order). Only supervisors and admins export; bad parameters
//! are a 422 naming them; the path is not taken for a ticket id.

use std::collections::BTreeMap;
use std::time::Duration;

use jiban_tests::fixture::County;
use jiban_tests::{TestServer, both_backends};
use serde_json::{Value, json};

/// The latest seen of each ticket: its `last_seq` and its JSON.
type View = BTreeMap<String, (u64, Value)>;

/// A consumer of the feed, as an export would be written.
struct Consumer {
    cursor: Option<String>,
    view: View,
    /// Items received, a ticket seen twice counted twice.
    received: usize,
}

impl Consumer {
    fn new() -> Consumer {
        Consumer {
            cursor: None,
            view: View::new(),
            received: 0,
        }
    }

    /// One page; how many items it held.
    fn page(&mut self, server: &TestServer, token: &str, limit: u32) -> usize {
        let mut path = format!("/v1/tickets/changes?limit={limit}");
        if let Some(c) = &self.cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let r = server.get(&path, token);
        assert_eq!(r.status, 200, "{}", r.body);
        let page = r.json();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= limit as usize);
        for item in items {
            let ticket = &item["ticket"];
            let id = ticket["id"].as_str().unwrap().to_owned();
            let seq = item["last_seq"].as_u64().unwrap();
            // (id, last_seq) identifies a change: a later one replaces, a repeat is ignored.
            if self.view.get(&id).is_none_or(|(seen, _)| *seen < seq) {
                self.view.insert(id, (seq, ticket.clone()));
            }
        }
        let next = page["next_cursor"].as_str().unwrap().to_owned();
        if items.is_empty()
            && let Some(c) = &self.cursor
        {
            assert_eq!(&next, c, "an empty page keeps the consumer where it stood");
        }
        self.cursor = Some(next);
        self.received += items.len();
        items.len()
    }

    /// Pages until one is empty.
    fn drain(&mut self, server: &TestServer, token: &str, limit: u32) {
        while self.page(server, token, limit) > 0 {}
    }

    /// Drains again and again until the view is `table`, or half a minute: on PostgreSQL
    /// a transaction in flight elsewhere holds the feed back a moment (never loses a
    /// change).
    fn catch_up(&mut self, server: &TestServer, token: &str, limit: u32, table: &View) {
        for _ in 0..1500 {
            self.drain(server, token, limit);
            if &self.view == table {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(&self.view, table, "the consumer's view is not the table");
    }
}

/// The tickets as they are: each one's JSON and the seq of its latest event.
fn table(server: &TestServer, token: &str, ids: &[String]) -> View {
    ids.iter()
        .map(|id| {
            let ticket = server.get(&format!("/v1/tickets/{id}"), token).json();
            let events = server
                .get(&format!("/v1/tickets/{id}/events?limit=100"), token)
                .json();
            let last = events["items"].as_array().unwrap().last().unwrap()["seq"]
                .as_u64()
                .unwrap();
            (id.clone(), (last, ticket))
        })
        .collect()
}

fn file(server: &TestServer, county: &County) -> String {
    let r = server.post(
        "/v1/tickets",
        &county.enterprise_user.token,
        json!({"kind": "complaint", "category": "utilities", "title": "厂区停电",
               "description": "自昨晚起厂区停电，三条产线停工。"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_str().unwrap().to_owned()
}

fn comment(server: &TestServer, token: &str, id: &str, internal: bool) {
    let r = server.post(
        &format!("/v1/tickets/{id}/comments"),
        token,
        json!({"body": "已联系供电所，今日下午到场。", "internal": internal}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

both_backends!(a_consumer_follows_every_change, |server| {
    let county = County::new(server);
    let sup = county.supervisor.token.clone();
    let ids: Vec<String> = (0..3).map(|_| file(server, &county)).collect();
    let accepted = server.action(&county.officer.token, &ids[0], "accept", 1, &json!({}));
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    comment(server, &county.officer.token, &ids[1], true);

    let mut consumer = Consumer::new();
    consumer.catch_up(server, &sup, 2, &table(server, &sup, &ids));
    let received = consumer.received;

    // A comment leaves the version alone and moves the ticket all the same; only it comes.
    comment(server, &county.officer.token, &ids[2], false);
    let now = table(server, &sup, &ids);
    assert_eq!(now[&ids[2]].0, 2);
    assert_eq!(now[&ids[2]].1["version"], 1);
    consumer.catch_up(server, &sup, 2, &now);
    assert_eq!(consumer.received, received + 1);
    // And an admin reads the same feed.
    let mut admin = Consumer::new();
    admin.catch_up(server, &county.admin, 100, &now);
});

both_backends!(only_supervisors_and_admins_export, |server| {
    let county = County::new(server);
    for (role, person) in county.people() {
        let r = server.get("/v1/tickets/changes", &person.token);
        let expected = if role == "supervisor" { 200 } else { 403 };
        assert_eq!(r.status, expected, "{role}: {}", r.body);
    }
    let r = server.call("GET", "/v1/tickets/changes", None, None);
    assert_eq!(r.status, 401, "{}", r.body);
});

both_backends!(bad_parameters_are_named, |server| {
    let county = County::new(server);
    let sup = &county.supervisor.token;
    let other_cursor = {
        // A list's cursor is not the feed's.
        for _ in 0..2 {
            file(server, &county);
        }
        let page = server.get("/v1/tickets?limit=1", sup).json();
        page["next_cursor"].as_str().unwrap().to_owned()
    };
    for (query, parameter) in [
        ("cursor=garbage", "cursor"),
        (&format!("cursor={other_cursor}") as &str, "cursor"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("since=2026-01-01", "since"),
    ] {
        let r = server.get(&format!("/v1/tickets/changes?{query}"), sup);
        assert_eq!(r.status, 422, "{query}: {}", r.body);
        let names: Vec<String> = r.json()["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["parameter"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, vec![parameter], "{query}: {}", r.body);
    }
});

/// Several clients write at once while a consumer follows the feed; once they stop, the
/// consumer's view is the table. On PostgreSQL, whose transactions commit out of order.
#[test]
fn concurrent_writers_and_a_consumer_agree_with_the_table() {
    let Some(server) = TestServer::postgres() else {
        return;
    };
    let server = &server;
    let county = County::new(server);
    let sup = county.supervisor.token.clone();
    let ids: Vec<String> = (0..12).map(|_| file(server, &county)).collect();
    let writing = std::sync::atomic::AtomicBool::new(true);
    let mut consumer = Consumer::new();
    std::thread::scope(|s| {
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let (county, ids) = (&county, &ids);
                s.spawn(move || {
                    for i in 0..30 {
                        let id = &ids[(w * 7 + i * 5) % ids.len()];
                        if i % 4 == 0 {
                            // An accept races the others: 200 or 412 (or 409 once taken).
                            let t = server.get(&format!("/v1/tickets/{id}"), &county.officer.token);
                            let version = t.json()["version"].as_u64().unwrap();
                            let r = server.action(
                                &county.officer.token,
                                id,
                                "accept",
                                version,
                                &json!({}),
                            );
                            assert!(r.status < 500, "{}", r.body);
                        } else {
                            comment(server, &county.officer.token, id, i % 3 == 0);
                        }
                    }
                })
            })
            .collect();
        let (writing, consumer) = (&writing, &mut consumer);
        let sup = &sup;
        let reader = s.spawn(move || {
            while writing.load(std::sync::atomic::Ordering::Relaxed) {
                consumer.page(server, sup, 5);
            }
        });
        for w in writers {
            w.join().unwrap();
        }
        writing.store(false, std::sync::atomic::Ordering::Relaxed);
        reader.join().unwrap();
    });
    assert!(
        consumer.received > 0,
        "the consumer read nothing while writers wrote"
    );
    let table = table(server, &sup, &ids);
    consumer.catch_up(server, &sup, 5, &table);
}
