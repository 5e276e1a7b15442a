//! The SMTP test server (`scripts/smtp-test-server.py`) as tests see it: where it listens,
//! and the mail it caught, decoded.
//!
//! `scripts/test` starts one server per run and names it in `JIBAN_TEST_SMTP`, one line of
//! JSON:
//!
//! ```text
//! {"smtp": "127.0.0.1:PORT", "starttls": "127.0.0.1:PORT2", "ca_file": "/abs/ca.pem", "http": "http://127.0.0.1:PORT3"}
//! ```
//!
//! Every test of the run shares it, so a test never clears it: it sends to addresses of its
//! own ([`unique_address`]) and reads only those ([`TestSmtp::messages_to`]). Failures are
//! chosen by the recipient: a local part with `+reject` is refused at RCPT with
//! `550 5.1.1`, one with `+tempfail` with `451 4.3.0`.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Deserialize;

pub const SMTP_VAR: &str = "JIBAN_TEST_SMTP";

/// How often [`TestSmtp::wait_for`] asks.
const POLL: Duration = Duration::from_millis(100);

/// Where the SMTP test server listens (the JSON in `JIBAN_TEST_SMTP`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TestSmtp {
    /// `127.0.0.1:PORT`: plain SMTP.
    pub smtp: String,
    /// `127.0.0.1:PORT`: SMTP that requires STARTTLS before MAIL.
    pub starttls: String,
    /// The CA that signed the STARTTLS listener's certificate (for `localhost` and
    /// 127.0.0.1), PEM: a client's only root.
    pub ca_file: PathBuf,
    /// `http://127.0.0.1:PORT`: what arrived.
    pub http: String,
}

/// One message as the server received and decoded it (Python's `email`, policy default).
#[derive(Debug, Clone, Deserialize)]
pub struct Mail {
    /// 1, 2, … in order of arrival.
    pub id: u64,
    /// The envelope sender (MAIL FROM).
    pub mail_from: String,
    /// The envelope recipients that were accepted (RCPT TO).
    pub rcpt_tos: Vec<String>,
    /// The headers, decoded to Unicode (RFC 2047).
    pub from: Option<String>,
    pub to: Option<String>,
    pub subject: Option<String>,
    /// The `Message-ID` header as sent, e.g. `<outbox-42@jiban>`.
    pub message_id: Option<String>,
    /// Every header in order, as `(name, raw value)`: encoded words still encoded.
    pub headers: Vec<(String, String)>,
    /// The text/plain and text/html bodies, transfer-decoded to Unicode.
    pub text: Option<String>,
    pub html: Option<String>,
    /// The whole message as received (not UTF-8 bytes would show as U+FFFD).
    pub raw: String,
    pub received_at: DateTime<Utc>,
}

impl Mail {
    /// The raw value of the first header with this name (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl TestSmtp {
    /// The server named by `JIBAN_TEST_SMTP`. When it is unset (or empty) this says
    /// SKIPPED on stderr and returns `None`, so the test passes without running, except
    /// under `CI`, where it panics: CI must run the mail tests.
    pub fn from_env() -> Option<TestSmtp> {
        let Some(json) = std::env::var(SMTP_VAR)
            .ok()
            .filter(|v| !v.trim().is_empty())
        else {
            if std::env::var_os("CI").is_some() {
                panic!("{SMTP_VAR} is unset under CI: the mail tests must run there");
            }
            // Straight to stderr: the test harness captures eprintln! of passing tests.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: {SMTP_VAR} is unset, so this mail test did not run \
                 (scripts/test starts the SMTP test server and sets it)"
            );
            return None;
        };
        Some(TestSmtp::parse(&json).unwrap_or_else(|e| panic!("{SMTP_VAR}={json}: {e}")))
    }

    /// Reads the JSON line that `scripts/smtp-test-server.py` prints.
    pub fn parse(json: &str) -> Result<TestSmtp, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// `smtp://127.0.0.1:PORT`: plain SMTP, for `JIBAN_SMTP_URL`.
    pub fn smtp_url(&self) -> String {
        format!("smtp://{}", self.smtp)
    }

    /// `smtp://localhost:PORT2?tls=required`: STARTTLS required. The host is `localhost`,
    /// the name in the certificate; trust [`ca_file`](Self::ca_file).
    pub fn starttls_url(&self) -> String {
        let port = self.starttls.rsplit(':').next().unwrap_or_default();
        format!("smtp://localhost:{port}?tls=required")
    }

    /// Every message with `addr` among its envelope recipients (any case), oldest first.
    /// Panics if the server does not answer.
    pub fn messages_to(&self, addr: &str) -> Vec<Mail> {
        self.fetch(Some(addr)).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Every message the server holds, from every test of the run, oldest first.
    pub fn all(&self) -> Vec<Mail> {
        self.fetch(None).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Polls until at least `count` messages to `addr` arrived, and returns them; at the
    /// timeout returns what arrived (maybe nothing): the test asserts, this never panics.
    pub fn wait_for(&self, addr: &str, count: usize, timeout: Duration) -> Vec<Mail> {
        let deadline = Instant::now() + timeout;
        let mut arrived = Vec::new();
        loop {
            if let Ok(mail) = self.fetch(Some(addr)) {
                arrived = mail;
            }
            if arrived.len() >= count || Instant::now() >= deadline {
                return arrived;
            }
            std::thread::sleep(POLL.min(deadline.saturating_duration_since(Instant::now())));
        }
    }

    fn fetch(&self, to: Option<&str>) -> Result<Vec<Mail>, String> {
        let url = match to {
            Some(addr) => format!("{}/messages?to={}", self.http, percent_encode(addr)),
            None => format!("{}/messages", self.http),
        };
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(10)))
                .build(),
        );
        let mut response = agent
            .get(&url)
            .call()
            .map_err(|e| format!("GET {url}: {e} (is the SMTP test server running?)"))?;
        let body = response
            .body_mut()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| format!("GET {url}: {e}"))?;
        if response.status() != 200 {
            return Err(format!("GET {url} answered {}: {body}", response.status()));
        }
        serde_json::from_str(&body).map_err(|e| format!("GET {url}: {e}: {body}"))
    }
}

/// An address no other test uses, `<local>.<random>@jiban.test`; keep `+reject` or
/// `+tempfail` in `local` to have it refused.
pub fn unique_address(local: &str) -> String {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    format!("{local}.{}@jiban.test", &tag[..12])
}

/// Percent-encodes all but RFC 3986's unreserved characters (so `+` stays a plus).
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_line_parses_into_urls() {
        let smtp = TestSmtp::parse(
            r#"{"smtp": "127.0.0.1:2525", "starttls": "127.0.0.1:2526", "ca_file": "/tmp/x/ca.pem", "http": "http://127.0.0.1:8025"}"#,
        )
        .unwrap();
        assert_eq!(smtp.ca_file, PathBuf::from("/tmp/x/ca.pem"));
        assert_eq!(smtp.smtp_url(), "smtp://127.0.0.1:2525");
        assert_eq!(smtp.starttls_url(), "smtp://localhost:2526?tls=required");
        assert_eq!(smtp.http, "http://127.0.0.1:8025");
    }

    #[test]
    fn addresses_are_percent_encoded_with_the_plus_kept_as_a_plus() {
        assert_eq!(percent_encode("a+reject@x.test"), "a%2Breject%40x.test");
    }

    #[test]
    fn unique_addresses_differ_and_keep_their_local_part() {
        let (a, b) = (unique_address("w+reject"), unique_address("w+reject"));
        assert_ne!(a, b);
        assert!(
            a.starts_with("w+reject.") && a.ends_with("@jiban.test"),
            "{a}"
        );
    }
}
