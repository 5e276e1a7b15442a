//! Webhooks end to end (issue 10, point 4, "Done when"): the real binary on SQLite and
//! PostgreSQL, an admin registering webhooks, and small HTTP receivers started here that
//! verify `X-Jiban-Signature` with the secret from the create answer, by their own HMAC,
//! and record what arrives. `jiban alerts run-once --at …` drives the sender (and the
//! scanner), so the outbox's backoff is walked in seconds, as the mail tests do.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use jiban_tests::alerts::{AlertCounty, Before, act, instant, run_once_with};
use jiban_tests::attachments::{Part, pdf, sha256, upload};
use jiban_tests::{Options, TestServer, both_backends};
use serde_json::{Value, json};
use sha2::Sha256;

/// What run-once needs to reach the receivers here (on 127.0.0.1) and to give up soon.
const PASS_ENV: [(&str, &str); 2] = [
    ("JIBAN_WEBHOOK_ALLOW_PRIVATE", "true"),
    ("JIBAN_WEBHOOK_MAX_ATTEMPTS", "3"),
];

/// A server that runs no workers of its own (run-once sends) and lets webhooks point at
/// this machine.
fn receiving() -> Options {
    Options::new()
        .set("JIBAN_ALERTS", "off")
        .set("JIBAN_WEBHOOK_ALLOW_PRIVATE", "true")
}

/// One delivery as a receiver saw it.
#[derive(Clone, Debug)]
struct Received {
    delivery: String,
    event: String,
    content_type: String,
    /// The signature checked with the secret, by this file's own HMAC.
    verified: bool,
    body: Value,
}

/// An HTTP receiver on 127.0.0.1: answers every POST with `status` and records it.
#[derive(Clone)]
struct Receiver {
    url: String,
    secret: Arc<Mutex<String>>,
    status: Arc<Mutex<u16>>,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    fn start(status: u16) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let receiver = Receiver {
            url: format!("http://{}/jiban/hook", listener.local_addr().unwrap()),
            secret: Arc::default(),
            status: Arc::new(Mutex::new(status)),
            got: Arc::default(),
        };
        let r = receiver.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                r.answer(stream);
            }
        });
        receiver
    }

    fn answer(&self, mut stream: std::net::TcpStream) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let mut body = vec![0; header("content-length").parse().unwrap_or(0)];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let secret = self.secret.lock().unwrap().clone();
        self.got.lock().unwrap().push(Received {
            delivery: header("x-jiban-delivery"),
            event: header("x-jiban-event"),
            content_type: header("content-type"),
            verified: verify(&secret, &header("x-jiban-signature"), &body),
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        });
        let status = *self.status.lock().unwrap();
        let _ = write!(
            stream,
            "HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
        );
    }

    /// Everything received, in the order it arrived.
    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// What arrived after the first `skip`, by timeline entry, then event name: the sender
    /// has several deliveries on the wire at once, so one pass's arrive in any order.
    fn since(&self, skip: usize) -> Vec<Received> {
        let mut got: Vec<Received> = self.received().into_iter().skip(skip).collect();
        got.sort_by_key(|r| {
            (
                r.body["entry"]["seq"].as_u64().unwrap_or(u64::MAX),
                r.event.clone(),
            )
        });
        got
    }

    fn events(&self) -> Vec<String> {
        self.since(0).into_iter().map(|r| r.event).collect()
    }
}

/// docs/API.md's verification, written independently of the server's code: `t` within
/// five minutes, `v1` the hex HMAC-SHA256 of "<t>.<body>" under the secret.
fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut t = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1.push(v.to_owned()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if (Utc::now().timestamp() - t).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    v1.contains(&expected)
}

/// Registers a webhook for `receiver`, which learns its secret; returns its id.
fn register(
    server: &TestServer,
    admin: &str,
    receiver: &Receiver,
    events: &[&str],
    include_internal: bool,
) -> String {
    let r = server.post(
        "/v1/webhooks",
        admin,
        json!({"url": receiver.url, "events": events, "include_internal": include_internal}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let created = r.json();
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{created}");
    *receiver.secret.lock().unwrap() = secret.to_owned();
    assert_eq!(created["url"], receiver.url.as_str());
    assert_eq!(created["include_internal"], include_internal);
    created["id"].as_str().unwrap().to_owned()
}

fn pass(db: &std::sync::Arc<jiban_tests::TestDatabase>, at: DateTime<Utc>) -> Value {
    run_once_with(db, at, None, &PASS_ENV)
}

/// The summary's (sent, failed, dead).
fn counts(summary: &Value) -> (u64, u64, u64) {
    let n = |k: &str| summary[k].as_u64().unwrap();
    (n("sent"), n("failed"), n("dead"))
}

fn comment(server: &TestServer, token: &str, ticket: &Value, body: &str, internal: bool) {
    let r = server.post(
        &format!("/v1/tickets/{}/comments", ticket["id"].as_str().unwrap()),
        token,
        json!({"body": body, "internal": internal}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

/// The admin's outbox rows of one status.
fn notifications(server: &TestServer, admin: &str, status: &str) -> Vec<Value> {
    let r = server.get(
        &format!("/v1/notifications?status={status}&limit=100"),
        admin,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["items"].as_array().unwrap().clone()
}

// The round trip of "Done when": ticket events and alerts delivered, signed, with the
// documented payload; an internal note only to the webhook that includes them; a
// receiver answering 500 retried, dead after the last attempt, retried by the admin and
// delivered; a delivery to an address refused at delivery time; a deleted webhook.
both_backends!(
    webhooks_deliver_signed_events_and_alerts_and_retry_like_mail,
    database | db | {
        let server = TestServer::start(db, receiving());
        let c = AlertCounty::new(&server);
        let admin = c.admin.clone();
        let public = Receiver::start(204);
        let internal = Receiver::start(200);
        let failing = Receiver::start(500);
        let public_id = register(&server, &admin, &public, &["*"], false);
        register(
            &server,
            &admin,
            &internal,
            &["ticket.commented", "alert.*"],
            true,
        );
        register(&server, &admin, &failing, &["ticket.accepted"], false);
        let listed = server.get("/v1/webhooks", &admin).json();
        let items = listed["items"].as_array().unwrap();
        assert_eq!(items.len(), 3, "{listed}");
        assert!(items.iter().all(|w| w.get("secret").is_none()), "{listed}");
        assert_eq!(items[1]["events"], json!(["alert.*", "ticket.commented"]));

        // Clock limits (accept 15 min, contact 30 min, resolve 24 h): the passes below fall
        // where they do whatever the time of day or the day of the week.
        let t = c.file(&server, "utilities", json!({"urgency": "emergency"}));
        let t = act(&server, &c.officer.token, &t, "accept", json!({}));
        comment(
            &server,
            &c.officer.token,
            &t,
            "内部：供电所检修，预计今晚恢复",
            true,
        );
        comment(
            &server,
            &c.officer.token,
            &t,
            "已联系供电公司，正在抢修",
            false,
        );

        // Pass A: everything due is delivered; the failing receiver's first try fails.
        let t0 = Utc::now();
        assert_eq!(counts(&pass(db, t0)), (5, 1, 0));
        let got = public.since(0);
        assert_eq!(
            public.events(),
            ["ticket.submitted", "ticket.accepted", "ticket.commented"],
            "the internal note is not for a webhook without include_internal"
        );
        for r in &got {
            assert!(r.verified, "{r:?}");
            assert_eq!(r.content_type, "application/json");
            assert_eq!(r.body["event"], r.event.as_str());
            assert_eq!(r.body["ticket"]["id"], t["id"]);
            assert_eq!(r.body["ticket"]["number"], t["number"]);
            assert!(r.body["occurred_at"].as_str().unwrap().ends_with("+08:00"));
            assert!(uuid::Uuid::parse_str(&r.delivery).is_ok(), "{r:?}");
        }
        let seqs: Vec<u64> = got
            .iter()
            .map(|r| r.body["entry"]["seq"].as_u64().unwrap())
            .collect();
        assert_eq!(seqs, [1, 2, 4]);
        let accepted = &got[1].body;
        assert_eq!(accepted["ticket"]["status"], "in_progress");
        assert_eq!(
            accepted["ticket"]["department_id"],
            c.department_id.as_str()
        );
        assert_eq!(accepted["entry"]["kind"], "accepted");
        assert_eq!(accepted["entry"]["actor_id"], c.officer.id.as_str());
        let said = &got[2].body["entry"];
        assert_eq!(
            (said["internal"].as_bool(), said["data"]["body"].as_str()),
            (Some(false), Some("已联系供电公司，正在抢修"))
        );
        let notes = internal.since(0);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes
                .iter()
                .all(|r| r.verified && r.event == "ticket.commented")
        );
        assert_eq!(notes[0].body["entry"]["internal"], true);
        assert_eq!(
            notes[0].body["entry"]["data"]["body"],
            "内部：供电所检修，预计今晚恢复"
        );
        assert_eq!(failing.events(), ["ticket.accepted"]);

        // Pass B, ten minutes on (before the contact deadline's warning at 24): the failing
        // row's backoff is over; its second try fails.
        assert_eq!(counts(&pass(db, t0 + Duration::minutes(10))), (0, 1, 0));
        // Pass C, at the contact deadline: the scanner's 预警 and 超期 go to the webhook of
        // alert.*, signed; the failing row's third try fails and it is dead.
        let contact_due = instant(&t["contact_due_at"]);
        assert_eq!(counts(&pass(db, contact_due)), (2, 0, 1));
        let alerts = internal.since(2);
        assert_eq!(
            alerts.iter().map(|r| r.event.as_str()).collect::<Vec<_>>(),
            ["alert.overdue", "alert.warning"]
        );
        for r in &alerts {
            assert!(r.verified, "{r:?}");
            assert_eq!(r.body["alert"]["deadline"], "contact");
            assert_eq!(r.body["alert"]["level"], r.event["alert.".len()..]);
            assert_eq!(r.body["alert"]["due_at"], t["contact_due_at"]);
            assert_eq!(r.body["ticket"]["id"], t["id"]);
            assert!(r.body.get("entry").is_none());
        }
        assert_eq!(public.received().len(), 3, "alerts are internal");
        let tries = failing.received();
        assert_eq!(tries.len(), 3, "{tries:?}");
        assert!(
            tries
                .iter()
                .all(|r| r.verified && r.delivery == tries[0].delivery)
        );

        // Dead, listed for the admin, and retried once the receiver is fixed.
        let dead = notifications(&server, &admin, "dead");
        let row = dead
            .iter()
            .find(|m| m["id"] == tries[0].delivery.as_str())
            .unwrap_or_else(|| panic!("{dead:?}"));
        assert_eq!(row["kind"], "webhook");
        assert_eq!(row["recipient"], failing.url.as_str());
        assert_eq!(row["subject"], "ticket.accepted");
        assert_eq!(row["rejections"], 3);
        assert!(row["last_error"].as_str().unwrap().contains("500"), "{row}");
        *failing.status.lock().unwrap() = 200;
        let retried = server.post(
            &format!("/v1/notifications/{}/retry", tries[0].delivery),
            &admin,
            json!({}),
        );
        assert_eq!(retried.status, 200, "{}", retried.body);
        assert_eq!(
            counts(&pass(db, contact_due + Duration::minutes(1))),
            (1, 0, 0)
        );
        let tries = failing.received();
        assert_eq!(tries.len(), 4);
        assert!(tries[3].verified && tries[3].delivery == tries[0].delivery);
        assert!(
            notifications(&server, &admin, "sent")
                .iter()
                .any(|m| m["id"] == tries[0].delivery.as_str())
        );

        // At delivery the address is checked again: without JIBAN_WEBHOOK_ALLOW_PRIVATE the
        // receivers on 127.0.0.1 are refused, and nothing reaches them.
        comment(&server, &c.officer.token, &t, "抢修完成，已恢复供电", false);
        let at = contact_due + Duration::minutes(2);
        let refused = run_once_with(db, at, None, &[("JIBAN_WEBHOOK_MAX_ATTEMPTS", "3")]);
        assert_eq!(counts(&refused), (0, 2, 0));
        assert_eq!((public.received().len(), internal.received().len()), (3, 4));
        let failing_rows = notifications(&server, &admin, "failing");
        assert_eq!(failing_rows.len(), 2, "{failing_rows:?}");
        assert!(
            failing_rows
                .iter()
                .all(|m| m["last_error"].as_str().unwrap().contains("refused")),
            "{failing_rows:?}"
        );

        // Deleted: its waiting delivery is dead, and it gets nothing more.
        let path = format!("/v1/webhooks/{public_id}");
        assert_eq!(
            server
                .call("DELETE", &path, Some(&c.officer.token), None)
                .status,
            403
        );
        assert_eq!(server.call("DELETE", &path, Some(&admin), None).status, 204);
        server
            .call("DELETE", &path, Some(&admin), None)
            .problem(404, "not_found");
        assert_eq!(
            server.get("/v1/webhooks", &admin).json()["items"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert!(
            notifications(&server, &admin, "dead")
                .iter()
                .any(|m| m["recipient"] == public.url.as_str()
                    && m["last_error"] == "the webhook was deleted")
        );
        comment(&server, &c.officer.token, &t, "请企业确认供电情况", false);
        assert_eq!(counts(&pass(db, at + Duration::hours(1))), (2, 0, 0));
        assert_eq!(public.received().len(), 3, "nothing for a deleted webhook");
        let last: Vec<String> = internal
            .since(4)
            .iter()
            .map(|r| r.body["entry"]["data"]["body"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(last, ["抢修完成，已恢复供电", "请企业确认供电情况"]);
    }
);

// Refused at creation: without JIBAN_WEBHOOK_ALLOW_PRIVATE a URL whose host is (or
// resolves to) loopback, private, link-local … is 422 naming `url`; and the body is
// strict, the route admin-only.
both_backends!(
    webhooks_to_private_addresses_are_refused,
    Options::new().set("JIBAN_ALERTS", "off"),
    |server| {
        let admin = server.admin_token();
        let create = |body: Value| server.post("/v1/webhooks", &admin, body);
        for url in [
            "http://127.0.0.1:9/hook",
            "http://[::1]/hook",
            "http://10.1.2.3/hook",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::ffff:192.168.1.1]/hook",
            "http://100.64.0.1/",
            "http://224.0.0.1/",
            "http://0.0.0.0/",
            "http://2130706433/",
        ] {
            let r = create(json!({"url": url, "events": ["*"]}));
            assert_eq!(
                r.invalid(),
                [("/url".to_owned(), "forbidden_address".to_owned())],
                "{url}"
            );
        }
        let r = create(json!({"url": "http://localhost:9/hook", "events": ["*"]}));
        let errors = r.invalid();
        assert!(
            errors == [("/url".to_owned(), "forbidden_address".to_owned())]
                || errors == [("/url".to_owned(), "unresolvable".to_owned())],
            "{errors:?}"
        );
        let r = create(json!({"url": "https://no-such-host.invalid/", "events": ["*"]}));
        assert_eq!(
            r.invalid(),
            [("/url".to_owned(), "unresolvable".to_owned())]
        );
        let r = create(json!({"url": "file:///etc/passwd", "events": ["alert.overdue", "nope"]}));
        let mut errors = r.invalid();
        errors.sort();
        assert_eq!(
            errors,
            [
                ("/events/0".to_owned(), "internal_event".to_owned()),
                ("/events/1".to_owned(), "unknown_value".to_owned()),
                ("/url".to_owned(), "invalid".to_owned()),
            ]
        );
        let r = create(json!({"url": "https://8.8.8.8/h", "events": ["*"], "secret": "x"}));
        assert_eq!(
            r.invalid(),
            [("/secret".to_owned(), "unknown_field".to_owned())]
        );
        // Nothing was written by any of these.
        let listed = server.get("/v1/webhooks", &admin).json();
        assert_eq!(listed["items"], json!([]), "{listed}");
        // The list takes no parameters; the route is the admin's.
        assert_eq!(
            server.get("/v1/webhooks?limit=5", &admin).invalid(),
            [("?limit".to_owned(), "unknown_parameter".to_owned())]
        );
        assert_eq!(server.call("GET", "/v1/webhooks", None, None).status, 401);
        assert_eq!(
            server
                .call("DELETE", "/v1/webhooks/not-a-uuid", Some(&admin), None)
                .status,
            404
        );
    }
);

// Issue 11's event (docs/API.md, "Attachments"): each file uploaded is delivered as
// `ticket.attachment_added` with its name, type, size and hash; a file an official marks
// internal only to the webhook that includes internal entries.
both_backends!(
    an_upload_is_delivered_as_attachment_added,
    database | db | {
        let server = TestServer::start(db, receiving());
        let c = AlertCounty::new(&server);
        let public = Receiver::start(204);
        let internal = Receiver::start(204);
        register(
            &server,
            &c.admin,
            &public,
            &["ticket.attachment_added"],
            false,
        );
        register(
            &server,
            &c.admin,
            &internal,
            &["ticket.attachment_added"],
            true,
        );
        let t = c.ticket_in(&server, Before::InProgress);
        let id = t["id"].as_str().unwrap();
        let contract = pdf("供电合同");
        let r = upload(
            &server,
            &c.enterprise_user.token,
            id,
            &[Part::file("供电合同.pdf", contract.clone())],
        );
        assert_eq!(r.status, 201, "{}", r.body);
        let r = upload(
            &server,
            &c.officer.token,
            id,
            &[
                Part::file("检修记录.pdf", pdf("检修记录")),
                Part::field("internal", "true"),
            ],
        );
        assert_eq!(r.status, 201, "{}", r.body);

        assert_eq!(counts(&pass(db, Utc::now())), (3, 0, 0));
        assert_eq!(public.events(), ["ticket.attachment_added"]);
        let got = &public.since(0)[0];
        assert!(got.verified, "{got:?}");
        assert_eq!(got.body["ticket"]["number"], t["number"]);
        let entry = &got.body["entry"];
        assert_eq!(entry["kind"], "attachment_added");
        assert_eq!(entry["internal"], false);
        assert_eq!(entry["actor_id"], c.enterprise_user.id.as_str());
        assert_eq!(entry["data"]["filename"], "供电合同.pdf");
        assert_eq!(entry["data"]["content_type"], "application/pdf");
        assert_eq!(entry["data"]["size"], contract.len());
        assert_eq!(entry["data"]["sha256"], sha256(&contract));
        let both = internal.since(0);
        assert_eq!(both.len(), 2, "{both:?}");
        assert!(
            both.iter()
                .all(|r| r.verified && r.event == "ticket.attachment_added")
        );
        assert_eq!(both[1].body["entry"]["internal"], true);
        assert_eq!(both[1].body["entry"]["data"]["filename"], "检修记录.pdf");
    }
);

/// openapi.yaml's `WebhookEvent` is the domain's catalogue, name for name.
#[test]
fn the_documented_event_names_are_the_catalogue() {
    let documented: Vec<String> =
        jiban_tests::openapi::document()["components"]["schemas"]["WebhookEvent"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
    let catalogue: Vec<String> = jiban_domain::webhook::subscribable()
        .map(str::to_owned)
        .collect();
    assert_eq!(documented, catalogue);
}
