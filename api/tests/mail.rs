//! The [`Mailer`] against a real SMTP server: the project's test SMTP server, described by
//! `JIBAN_TEST_SMTP`, one line of JSON:
//! `{"smtp": "127.0.0.1:PORT", "starttls": "127.0.0.1:PORT2", "ca_file": "/abs/ca.pem",
//! "http": "http://127.0.0.1:PORT3"}`. The `starttls` listener requires STARTTLS with a
//! self-signed certificate for localhost and 127.0.0.1 (`ca_file`); `GET
//! {http}/messages?to=ADDR` lists what arrived for ADDR; a recipient whose local part holds
//! `+reject` gets 550 at RCPT, `+tempfail` 451.
//!
//! Where `JIBAN_TEST_SMTP` is unset, each test says SKIPPED on stderr and passes; with `CI`
//! set it fails instead. Every test uses its own recipients, so they share one server.

use std::io::Write as _;
use std::time::{Duration, Instant};

use jiban_api::config::SmtpSettings;
use jiban_api::mail::{Mailer, OutgoingMail, SendError};
use lettre::message::Mailbox;
use serde::Deserialize;
use uuid::Uuid;

const FROM: &str = "即办 <jiban@county.example>";

#[derive(Deserialize)]
struct TestSmtp {
    smtp: String,
    starttls: String,
    ca_file: String,
    http: String,
}

/// What the server's HTTP API says arrived.
#[derive(Debug, Deserialize)]
struct Arrived {
    mail_from: String,
    rcpt_tos: Vec<String>,
    from: String,
    to: String,
    subject: String,
    message_id: String,
    headers: Vec<(String, String)>,
    text: Option<String>,
    html: Option<String>,
}

fn test_smtp(test: &str) -> Option<TestSmtp> {
    match std::env::var("JIBAN_TEST_SMTP") {
        Ok(json) if !json.trim().is_empty() => Some(
            serde_json::from_str(&json)
                .unwrap_or_else(|e| panic!("JIBAN_TEST_SMTP is not the expected JSON: {e}")),
        ),
        _ if std::env::var_os("CI").is_some() => {
            panic!("JIBAN_TEST_SMTP is unset, and CI needs every mail test to run ({test})")
        }
        _ => {
            // Straight to stderr: the test harness captures eprintln! of passing tests.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: JIBAN_TEST_SMTP is unset: {test} did not talk to an SMTP server"
            );
            None
        }
    }
}

impl TestSmtp {
    fn settings(&self, url: &str) -> SmtpSettings {
        SmtpSettings::parse(url).unwrap()
    }

    fn plain(&self) -> SmtpSettings {
        self.settings(&format!("smtp://{}", self.smtp))
    }

    fn starttls(&self) -> SmtpSettings {
        self.settings(&format!("smtp://{}?tls=required", self.starttls))
    }

    fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(&self.ca_file).unwrap()
    }

    fn messages(&self, to: &str) -> Vec<Arrived> {
        let to = percent_encoding::utf8_percent_encode(to, percent_encoding::NON_ALPHANUMERIC);
        ureq::get(format!("{}/messages?to={to}", self.http))
            .call()
            .unwrap()
            .body_mut()
            .read_json()
            .unwrap()
    }

    /// What arrived for `to`, waiting a little in case the server stores it after it
    /// answers.
    fn wait_for(&self, to: &str) -> Vec<Arrived> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let found = self.messages(to);
            if !found.is_empty() || Instant::now() > deadline {
                return found;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn mailer(settings: &SmtpSettings, ca_pem: Option<&[u8]>) -> Mailer {
    Mailer::new(settings, FROM.parse::<Mailbox>().unwrap(), ca_pem).unwrap()
}

/// A recipient no other test (or earlier run) uses.
fn recipient(tag: &str) -> String {
    format!("officer{tag}-{}@county.example", Uuid::new_v4().simple())
}

fn mail<'a>(to: &'a str, subject: &'a str, body: &'a str) -> OutgoingMail<'a> {
    OutgoingMail {
        id: Uuid::now_v7(),
        to,
        subject,
        body,
    }
}

#[actix_web::test]
async fn plain_smtp_delivers_the_row() {
    let Some(server) = test_smtp("plain_smtp_delivers_the_row") else {
        return;
    };
    let to = recipient("");
    let subject = "【预警】工单 JB-2026-000123 将于 09-25 00:00 超期 <script>alert(1)</script>";
    let body = "企业：某某 & 某某有限公司\n截止：2026-09-25 00:00\n\
                详见 https://jiban.example/t/1?a=1&b=2 。\n\"><img src=x onerror=alert(1)>";
    let row = mail(&to, subject, body);
    mailer(&server.plain(), None).send(&row).await.unwrap();

    let arrived = server.wait_for(&to);
    assert_eq!(arrived.len(), 1, "{arrived:?}");
    let m = &arrived[0];
    assert_eq!(m.mail_from, "jiban@county.example");
    assert_eq!(m.rcpt_tos, [to.as_str()]);
    assert!(
        m.from.contains("即办") && m.from.contains("<jiban@county.example>"),
        "{}",
        m.from
    );
    assert_eq!(m.to, to);
    assert_eq!(m.subject, subject, "decoded from RFC 2047");
    assert_eq!(m.message_id, format!("<{}@county.example>", row.id));
    let text = m.text.as_deref().unwrap().replace("\r\n", "\n");
    assert_eq!(text.trim_end(), body);
    let html = m.html.as_deref().unwrap();
    assert!(html.contains("<html lang=\"zh-CN\">"), "{html}");
    assert!(
        html.contains(
            "<a href=\"https://jiban.example/t/1?a=1&amp;b=2\">\
             https://jiban.example/t/1?a=1&amp;b=2</a>"
        ),
        "{html}"
    );
    assert!(html.contains("某某 &amp; 某某有限公司<br>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(
        html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"),
        "{html}"
    );
    assert!(
        !html.contains("<script") && !html.contains("<img"),
        "{html}"
    );
}

#[actix_web::test]
async fn starttls_with_the_ca_file_delivers() {
    let Some(server) = test_smtp("starttls_with_the_ca_file_delivers") else {
        return;
    };
    let to = recipient("");
    let pem = server.ca_pem();
    let row = mail(&to, "STARTTLS 测试", "正文");
    mailer(&server.starttls(), Some(&pem))
        .send(&row)
        .await
        .unwrap();
    let arrived = server.wait_for(&to);
    assert_eq!(arrived.len(), 1, "{arrived:?}");
    assert_eq!(
        arrived[0].message_id,
        format!("<{}@county.example>", row.id)
    );
}

#[actix_web::test]
async fn starttls_without_the_ca_file_is_transient() {
    let Some(server) = test_smtp("starttls_without_the_ca_file_is_transient") else {
        return;
    };
    let to = recipient("");
    let result = mailer(&server.starttls(), None)
        .send(&mail(&to, "不受信任的证书", "正文"))
        .await;
    match &result {
        Err(SendError::Transient(reason)) => assert!(reason.contains("certificate"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(server.messages(&to).is_empty());
}

#[actix_web::test]
async fn a_rejected_recipient_is_permanent() {
    let Some(server) = test_smtp("a_rejected_recipient_is_permanent") else {
        return;
    };
    let to = recipient("+reject");
    let mailer = mailer(&server.plain(), None);
    let result = mailer.send(&mail(&to, "拒收", "正文")).await;
    match result {
        Err(SendError::Permanent(reason)) => assert!(reason.contains("550"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // The sender keeps one mailer for every row: a refusal must not spoil the next send.
    let next = recipient("");
    mailer.send(&mail(&next, "下一封", "正文")).await.unwrap();
    assert_eq!(server.wait_for(&next).len(), 1);
}

#[actix_web::test]
async fn a_temporary_failure_is_transient() {
    let Some(server) = test_smtp("a_temporary_failure_is_transient") else {
        return;
    };
    let to = recipient("+tempfail");
    let result = mailer(&server.plain(), None)
        .send(&mail(&to, "稍后再试", "正文"))
        .await;
    match result {
        Err(SendError::Transient(reason)) => assert!(reason.contains("451"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

/// `smtps://` pointed at a port that speaks plain SMTP first: the TLS handshake fails,
/// which an operator fixes, so the rows wait.
#[actix_web::test]
async fn implicit_tls_to_a_plain_port_is_transient() {
    let Some(server) = test_smtp("implicit_tls_to_a_plain_port_is_transient") else {
        return;
    };
    let pem = server.ca_pem();
    let settings = server.settings(&format!("smtps://{}", server.starttls));
    let result = mailer(&settings, Some(&pem))
        .send(&mail(&recipient(""), "隐式 TLS", "正文"))
        .await;
    assert!(matches!(result, Err(SendError::Transient(_))), "{result:?}");
}

/// Needs no server: nothing listens on a port just released.
#[actix_web::test]
async fn a_closed_port_is_transient() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let settings = SmtpSettings::parse(&format!("smtp://127.0.0.1:{port}")).unwrap();
    let result = mailer(&settings, None)
        .send(&mail("officer@county.example", "无人应答", "正文"))
        .await;
    assert!(matches!(result, Err(SendError::Transient(_))), "{result:?}");
}

/// Needs no server: the message is refused before any connection.
#[actix_web::test]
async fn an_unparseable_recipient_is_invalid() {
    let settings = SmtpSettings::parse("smtp://127.0.0.1:1").unwrap();
    let result = mailer(&settings, None)
        .send(&mail("officer at county", "地址错误", "正文"))
        .await;
    assert!(matches!(result, Err(SendError::Invalid(_))), "{result:?}");
}

#[actix_web::test]
async fn a_subject_cannot_add_a_header_or_a_recipient() {
    let Some(server) = test_smtp("a_subject_cannot_add_a_header_or_a_recipient") else {
        return;
    };
    let to = recipient("");
    let evil = format!("evil-{}@example.com", Uuid::new_v4().simple());
    let subject = format!("x\r\nBcc: {evil}");
    mailer(&server.plain(), None)
        .send(&mail(&to, &subject, "正文"))
        .await
        .unwrap();
    let arrived = server.wait_for(&to);
    assert_eq!(arrived.len(), 1, "{arrived:?}");
    let m = &arrived[0];
    assert_eq!(m.rcpt_tos, [to.as_str()]);
    assert_eq!(m.subject, format!("x  Bcc: {evil}"));
    for (name, _) in &m.headers {
        assert!(!name.eq_ignore_ascii_case("bcc"), "{:?}", m.headers);
    }
    assert!(server.messages(&evil).is_empty());
}
