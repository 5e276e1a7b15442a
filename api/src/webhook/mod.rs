//! Webhook deliveries (DESIGN.md section 5; issue 10, point 4): the sender worker hands
//! one outbox row of kind `webhook` to [`Deliverer::deliver`], which POSTs it and says
//! whether it arrived.
//!
//! A delivery is `POST <url>` with the row's body, exactly as queued, and:
//!
//! | header | value |
//! |---|---|
//! | `Content-Type` | `application/json` |
//! | `User-Agent` | `jiban-webhooks/<version>` |
//! | `X-Jiban-Delivery` | the outbox row's id: the same on every retry, so a receiver deduplicates by it |
//! | `X-Jiban-Event` | the event's name, e.g. `ticket.commented`, `alert.overdue` |
//! | `X-Jiban-Signature` | `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` ([`signature`]) |
//!
//! What an answer means for the row ([`DeliveryError`]): a 2xx is delivered; anything
//! else (another status, a 3xx too, since redirects are not followed; no connection; a
//! timeout after [`TIMEOUT`]; a TLS failure; a host that no longer resolves or resolves to
//! an address refused by [`address`]) is a failed try: the row waits with the outbox's
//! backoff and, after `JIBAN_WEBHOOK_MAX_ATTEMPTS` failed tries, is dead, listed and
//! retryable in the admin's outbox routes. A delivery that can never be made (its
//! webhook was deleted; a URL that no longer parses) is dead at once.
//!
//! The client is ureq (blocking, run on the blocking pool) with rustls and the webpki
//! roots, no proxy, no redirects, and its resolver replaced by one that checks every
//! address it returns ([`address::check_all`]), so the connection goes only to an address
//! that was checked. That resolver is ureq's `unversioned` API, which may change in a
//! ureq minor release; Cargo.lock pins the version this was written against (3.5).

pub mod address;
pub mod signature;

use std::io::Read as _;
use std::time::Duration;

use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};
use uuid::Uuid;

use self::address::Refused;

/// A delivery gives up after this long, from looking the host up to reading the status.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How much of a refusing receiver's answer the outbox row keeps, in characters.
const ANSWER_CHARS: usize = 200;

/// One delivery: an outbox row and its webhook's secret.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// The outbox row's id: `X-Jiban-Delivery`.
    pub id: Uuid,
    pub url: &'a str,
    /// `X-Jiban-Event`.
    pub event: &'a str,
    pub body: &'a str,
    pub secret: &'a str,
}

/// Why a delivery did not arrive. The text is for the admin (the row's `last_error`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The receiver answered, but not 2xx.
    #[error("the receiver answered HTTP {status}{}", if answer.is_empty() { String::new() } else { format!(": {answer}") })]
    Status { status: u16, answer: String },
    /// The host resolves to an address webhooks may not reach.
    #[error("refused: the host resolves to {0}")]
    Refused(Refused),
    /// No answer: no connection, a timeout, TLS, a lookup that failed.
    #[error("no answer: {0}")]
    Unreachable(String),
    /// The delivery can never be made: its URL does not parse.
    #[error("the URL cannot be used: {0}")]
    BadUrl(String),
}

/// Delivers webhook rows. Clones share the client and its idle connections.
#[derive(Clone)]
pub struct Deliverer {
    agent: ureq::Agent,
}

impl std::fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliverer").finish_non_exhaustive()
    }
}

impl Deliverer {
    /// `allow_private` (`JIBAN_WEBHOOK_ALLOW_PRIVATE`) lifts the address check.
    pub fn new(allow_private: bool) -> Deliverer {
        let config = ureq::Agent::config_builder()
            // A 4xx or 5xx is an answer to record, not an error to unwrap.
            .http_status_as_error(false)
            // A 3xx is returned as it is, and fails the try: no redirect is followed, so
            // a receiver cannot send us on to an address that was never checked.
            .max_redirects(0)
            // The proxy would resolve the host, not us: none, whatever the environment says.
            .proxy(None)
            .timeout_global(Some(TIMEOUT))
            .user_agent(concat!("jiban-webhooks/", env!("CARGO_PKG_VERSION")))
            .build();
        Deliverer {
            agent: ureq::Agent::with_parts(
                config,
                DefaultConnector::new(),
                CheckedResolver { allow_private },
            ),
        }
    }

    /// POSTs one delivery, signed as of `sent_at` (unix seconds, the real clock: the
    /// receiver compares it with its own). Blocking: call it on the blocking pool.
    pub fn deliver(&self, d: &Outgoing<'_>, sent_at: i64) -> Result<(), DeliveryError> {
        address::WebhookUrl::parse(d.url).map_err(|e| DeliveryError::BadUrl(e.to_owned()))?;
        let signature = signature::header(d.secret, sent_at, d.body.as_bytes());
        let sent = self
            .agent
            .post(d.url)
            .header("content-type", "application/json")
            .header("x-jiban-delivery", d.id.to_string())
            .header("x-jiban-event", d.event)
            .header("x-jiban-signature", signature)
            .send(d.body.as_bytes());
        let mut response = match sent {
            Ok(response) => response,
            Err(e) => return Err(classify(e)),
        };
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let mut answer = Vec::new();
        let _ = response
            .body_mut()
            .as_reader()
            .take(4 * ANSWER_CHARS as u64)
            .read_to_end(&mut answer);
        let answer: String = String::from_utf8_lossy(&answer)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(ANSWER_CHARS)
            .collect();
        Err(DeliveryError::Status {
            status,
            answer: answer.trim().to_owned(),
        })
    }
}

fn classify(e: ureq::Error) -> DeliveryError {
    match e {
        ureq::Error::Other(inner) => match inner.downcast::<Refused>() {
            Ok(refused) => DeliveryError::Refused(*refused),
            Err(other) => DeliveryError::Unreachable(other.to_string()),
        },
        ureq::Error::BadUri(why) => DeliveryError::BadUrl(why),
        ureq::Error::Timeout(_) => {
            DeliveryError::Unreachable(format!("no answer within {} s", TIMEOUT.as_secs()))
        }
        ureq::Error::HostNotFound => {
            DeliveryError::Unreachable("the host does not resolve".to_owned())
        }
        other => DeliveryError::Unreachable(other.to_string()),
    }
}

/// ureq's own lookup, then every address checked ([`address::check_all`]) unless private
/// addresses are allowed. ureq connects only to what this returns.
#[derive(Debug)]
struct CheckedResolver {
    allow_private: bool,
}

impl Resolver for CheckedResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let addrs = DefaultResolver::default().resolve(uri, config, timeout)?;
        if !self.allow_private {
            address::check_all(&addrs).map_err(|refused| ureq::Error::Other(Box::new(refused)))?;
        }
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    /// A one-shot receiver on 127.0.0.1 answering `status`; returns its URL and a handle
    /// yielding the request's head and body.
    fn receiver(status: &str) -> (String, std::thread::JoinHandle<(Vec<String>, String)>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let status = status.to_owned();
        let handle = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = Vec::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let line = line.trim_end().to_owned();
                if line.is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                head.push(line);
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let mut stream = stream;
            write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: 7\r\nConnection: close\r\n\r\nno\u{7}pe!!"
            )
            .unwrap();
            (head, String::from_utf8(body).unwrap())
        });
        (url, handle)
    }

    fn outgoing(url: &str) -> Outgoing<'_> {
        Outgoing {
            id: Uuid::from_u128(7),
            url,
            event: "ticket.closed",
            body: r#"{"event":"ticket.closed"}"#,
            secret: "whsec_test",
        }
    }

    #[test]
    fn a_delivery_is_signed_and_a_2xx_is_delivered() {
        let (url, got) = receiver("204 No Content");
        Deliverer::new(true)
            .deliver(&outgoing(&url), 1_764_748_800)
            .unwrap();
        let (head, body) = got.join().unwrap();
        assert_eq!(body, r#"{"event":"ticket.closed"}"#);
        let header = |name: &str| {
            head.iter()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
                })
                .unwrap_or_else(|| panic!("{name} in {head:?}"))
        };
        assert!(head[0].starts_with("POST /hook HTTP/1.1"), "{head:?}");
        assert_eq!(header("content-type"), "application/json");
        assert_eq!(header("x-jiban-delivery"), Uuid::from_u128(7).to_string());
        assert_eq!(header("x-jiban-event"), "ticket.closed");
        assert!(header("user-agent").starts_with("jiban-webhooks/"));
        assert_eq!(
            signature::verify(
                "whsec_test",
                &header("x-jiban-signature"),
                body.as_bytes(),
                1_764_748_800
            ),
            Ok(())
        );
    }

    #[test]
    fn anything_but_2xx_fails_and_a_redirect_is_not_followed() {
        for status in ["500 Internal Server Error", "302 Found", "404 Not Found"] {
            let (url, got) = receiver(status);
            let e = Deliverer::new(true)
                .deliver(&outgoing(&url), 1_764_748_800)
                .unwrap_err();
            let code: u16 = status[..3].parse().unwrap();
            assert_eq!(
                e,
                DeliveryError::Status {
                    status: code,
                    answer: "no pe!!".to_owned()
                }
            );
            got.join().unwrap();
        }
    }

    #[test]
    fn private_addresses_are_refused_before_connecting() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let e = Deliverer::new(false)
            .deliver(&outgoing(&url), 1_764_748_800)
            .unwrap_err();
        assert!(
            matches!(&e, DeliveryError::Refused(r) if r.reason == "a loopback address"),
            "{e:?}"
        );
        assert!(listener.accept().is_err(), "nothing connected");
        // A name is resolved and its addresses checked the same way.
        let by_name = url.replace("127.0.0.1", "localhost");
        let e = Deliverer::new(false)
            .deliver(&outgoing(&by_name), 1_764_748_800)
            .unwrap_err();
        assert!(
            matches!(e, DeliveryError::Refused(_) | DeliveryError::Unreachable(_)),
            "{e:?}"
        );
        assert!(listener.accept().is_err(), "nothing connected");
    }

    #[test]
    fn no_listener_is_a_failed_try_and_a_bad_url_can_never_be_sent() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/hook");
        let e = Deliverer::new(true)
            .deliver(&outgoing(&url), 1_764_748_800)
            .unwrap_err();
        assert!(matches!(e, DeliveryError::Unreachable(_)), "{e:?}");
        let e = Deliverer::new(true)
            .deliver(&outgoing("ftp://127.0.0.1/x"), 1_764_748_800)
            .unwrap_err();
        assert!(matches!(e, DeliveryError::BadUrl(_)), "{e:?}");
    }
}
