//! Mail for notifications (DESIGN.md section 5): the sender worker hands one outbox row to
//! [`Mailer::send`], which delivers it over SMTP with lettre and says whether a failure is
//! worth retrying.
//!
//! What a failure means for the row ([`SendError`]):
//!
//! | lettre says | class | the row |
//! |---|---|---|
//! | SMTP 5xx (`is_permanent`): unknown mailbox, relay refused, bad credentials | `Permanent` | counts an attempt; dead after `JIBAN_MAIL_MAX_ATTEMPTS` |
//! | SMTP 4xx (`is_transient`), connection refused, DNS, timeout, TLS (an untrusted certificate too), a dropped connection | `Transient` | retries with backoff for as long as it lasts |
//! | the message cannot be built: the recipient is not an address | `Invalid` | can never be sent: dead at once |
//!
//! A TLS failure is `Transient` on purpose: it is usually a server's certificate renewed
//! wrongly or a CA file not yet deployed, fixed by an operator, after which the queue drains.
//!
//! Each message carries `Message-ID: <{row id}@{From's domain}>`, so a row sent twice
//! (delivery is at least once) is recognisable as one message by the receiving side.

use std::fmt;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use uuid::Uuid;

use crate::config::{SmtpSecurity, SmtpSettings};

/// Connecting, and each SMTP command after, gives up after this long: a hung server must
/// not hold the sender.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections kept open to the server: the sender keeps this many messages on the wire at
/// once. Each SMTP exchange mostly waits on round trips (lettre writes a message's body and
/// its final dot separately, so a server's delayed ACK can hold each message ~40 ms), so
/// sending side by side is what drains a backlog after an outage.
pub const SMTP_POOL_SIZE: u32 = 4;

/// Delivers messages to one SMTP server. Clones share the connection pool.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    message_id_domain: String,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

/// One message to send: an outbox row.
#[derive(Debug, Clone, Copy)]
pub struct OutgoingMail<'a> {
    /// The outbox row's id, which becomes the Message-ID.
    pub id: Uuid,
    /// One address, `addr@example.com` or `名称 <addr@example.com>`.
    pub to: &'a str,
    pub subject: &'a str,
    /// Plain text; the HTML part is rendered from it.
    pub body: &'a str,
}

/// The mailer cannot be built from the configuration.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MailError {
    #[error("JIBAN_SMTP_CA_FILE is not usable: {0}")]
    CaFile(String),
    #[error("cannot set up TLS for the mail server: {0}")]
    Tls(String),
}

/// Why one message was not sent; the classes decide the outbox row's fate (the module's
/// table). The text may quote the server's reply, which can name the recipient: log it
/// with care.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SendError {
    /// Retry later: the server or the way to it is unavailable, or it said 4xx.
    #[error("transient mail failure: {0}")]
    Transient(String),
    /// The server refused this message with a 5xx reply; retrying is unlikely to help.
    #[error("mail refused: {0}")]
    Permanent(String),
    /// This message can never be sent (an unparseable recipient).
    #[error("mail cannot be built: {0}")]
    Invalid(String),
}

impl Mailer {
    /// Builds the transport; nothing connects until the first [`send`](Mailer::send).
    /// Must be called inside the tokio runtime that will send (lettre's pool spawns its
    /// idle-connection reaper there), e.g. from the actix system that runs the sender.
    ///
    /// TLS (STARTTLS or implicit) is rustls with the webpki (Mozilla) roots, plus every
    /// certificate in `ca_pem` (`JIBAN_SMTP_CA_FILE`) for a county's own CA.
    pub fn new(
        settings: &SmtpSettings,
        from: Mailbox,
        ca_pem: Option<&[u8]>,
    ) -> Result<Mailer, MailError> {
        let tls_parameters = || -> Result<TlsParameters, MailError> {
            let mut builder = TlsParameters::builder(settings.host.clone())
                .certificate_store(CertificateStore::WebpkiRoots);
            if let Some(pem) = ca_pem {
                builder = builder
                    .add_root_certificate(root_certificates(pem).map_err(MailError::CaFile)?);
            }
            builder
                .build_rustls()
                .map_err(|e| MailError::Tls(e.to_string()))
        };
        let tls = match settings.security {
            SmtpSecurity::Plain => Tls::None,
            SmtpSecurity::StartTls => Tls::Required(tls_parameters()?),
            SmtpSecurity::ImplicitTls => Tls::Wrapper(tls_parameters()?),
        };
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.as_str())
                .port(settings.port)
                .tls(tls)
                .timeout(Some(SMTP_TIMEOUT))
                .pool_config(PoolConfig::new().max_size(SMTP_POOL_SIZE));
        if let Some(credentials) = &settings.credentials {
            builder = builder.credentials(Credentials::new(
                credentials.user.clone(),
                credentials.password.expose().to_owned(),
            ));
        }
        let message_id_domain = from.email.domain().to_owned();
        Ok(Mailer {
            transport: builder.build(),
            from,
            message_id_domain,
        })
    }

    /// Sends one message and waits for the server to accept it.
    pub async fn send(&self, mail: &OutgoingMail<'_>) -> Result<(), SendError> {
        let message = self.message(mail)?;
        self.transport
            .send(message)
            .await
            .map(drop)
            .map_err(|e| classify(&e))
    }

    /// The message [`send`](Mailer::send) would send.
    pub fn message(&self, mail: &OutgoingMail<'_>) -> Result<Message, SendError> {
        let to: Mailbox = mail.to.trim().parse().map_err(|e| {
            SendError::Invalid(format!("the recipient is not a mail address ({e})"))
        })?;
        let subject = sanitize_header(mail.subject);
        let html = render_html(&subject, mail.body);
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(message_id(mail.id, &self.message_id_domain)))
            .date_now()
            .multipart(MultiPart::alternative_plain_html(
                mail.body.to_owned(),
                html,
            ))
            .map_err(|e| SendError::Invalid(e.to_string()))
    }
}

/// The module's table: only an SMTP 5xx reply is permanent.
fn classify(error: &lettre::transport::smtp::Error) -> SendError {
    if error.is_permanent() {
        SendError::Permanent(error.to_string())
    } else {
        SendError::Transient(error.to_string())
    }
}

/// `<{id}@{domain}>`: derived from the outbox row so every retry carries the same id.
pub fn message_id(id: Uuid, domain: &str) -> String {
    format!("<{id}@{domain}>")
}

/// The certificates of a PEM file, refused if it holds none or one that rustls cannot
/// use as a root.
pub fn root_certificates(pem: &[u8]) -> Result<Certificate, String> {
    let text = String::from_utf8_lossy(pem);
    if !text.contains("-----BEGIN CERTIFICATE-----") {
        return Err("no PEM certificate (-----BEGIN CERTIFICATE-----) in it".into());
    }
    let certificate = Certificate::from_pem(pem).map_err(|e| format!("not valid PEM ({e})"))?;
    // Building a TLS configuration parses each certificate into a trust anchor, which is
    // where a damaged one is found: at start-up rather than at the first mail.
    TlsParameters::builder("localhost".to_owned())
        .certificate_store(CertificateStore::None)
        .add_root_certificate(certificate.clone())
        .build_rustls()
        .map_err(|e| format!("a certificate cannot be a root ({e})"))?;
    Ok(certificate)
}

/// A header value on one line: control characters (CR and LF above all, which would
/// start a new header, and tabs, other C0 and C1 controls, DEL) and the Unicode line and
/// paragraph separators become spaces. lettre then encodes non-ASCII text (RFC 2047).
pub fn sanitize_header(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// The HTML part: the plain text escaped, its http(s) links made clickable, its line
/// breaks kept, in a minimal Chinese-language page.
pub fn render_html(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{}</title>\n</head>\n<body>\n<p>{}</p>\n</body>\n</html>\n",
        escape_html(title),
        text_to_html(body),
    )
}

/// Escapes the five characters that matter in HTML text and in quoted attributes.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Plain text to HTML: escaped, `http://` and `https://` URLs linked (nothing else: a
/// `javascript:` URL stays text), line breaks as `<br>`.
fn text_to_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut rest = text;
    while !rest.is_empty() {
        match find_url(rest) {
            Some((start, end)) => {
                push_text(&mut out, &rest[..start]);
                let url = escape_html(&rest[start..end]);
                out.push_str(&format!("<a href=\"{url}\">{url}</a>"));
                rest = &rest[end..];
            }
            None => {
                push_text(&mut out, rest);
                break;
            }
        }
    }
    out
}

fn push_text(out: &mut String, text: &str) {
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        out.push_str(&escape_html(line.strip_suffix('\r').unwrap_or(line)));
        if lines.peek().is_some() {
            out.push_str("<br>\n");
        }
    }
}

/// The first http(s) URL in `text`, as a byte range. A URL runs to the first space,
/// non-ASCII character (Chinese text often follows a link without a space) or character
/// that cannot appear in a URL, less trailing sentence punctuation.
fn find_url(text: &str) -> Option<(usize, usize)> {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    loop {
        let start = [
            lower[from..].find("http://"),
            lower[from..].find("https://"),
        ]
        .into_iter()
        .flatten()
        .min()?
            + from;
        let scheme_len = if lower[start..].starts_with("https://") {
            8
        } else {
            7
        };
        let mut end = text[start..]
            .char_indices()
            .find(|&(_, c)| !is_url_char(c))
            .map_or(text.len(), |(i, _)| start + i);
        while end > start + scheme_len
            && text[..end].ends_with(['.', ',', ';', ':', '!', '?', ')', ']'])
        {
            let last = text.as_bytes()[end - 1];
            let url = &text[start..end];
            // Keep a closing bracket that closes one in the URL (a Wikipedia-style link).
            if (last == b')' && url.matches('(').count() >= url.matches(')').count())
                || (last == b']' && url.matches('[').count() >= url.matches(']').count())
            {
                break;
            }
            end -= 1;
        }
        if end > start + scheme_len {
            return Some((start, end));
        }
        from = start + scheme_len;
    }
}

fn is_url_char(c: char) -> bool {
    c.is_ascii_graphic()
        && !matches!(
            c,
            '<' | '>' | '"' | '\'' | '`' | '{' | '}' | '|' | '\\' | '^'
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SmtpSettings;

    #[test]
    fn subjects_stay_on_one_line() {
        assert_eq!(
            sanitize_header("x\r\nBcc: evil@example.com"),
            "x  Bcc: evil@example.com"
        );
        assert_eq!(
            sanitize_header("a\tb\u{0}c\u{7f}d\u{85}e\u{2028}f\u{2029}g\u{1b}h"),
            "a b c d e f g h"
        );
        assert_eq!(sanitize_header("工单 JB-1 即将超期"), "工单 JB-1 即将超期");
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html(r#"<script>alert(1)</script> & "a" 'b'"#),
            "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;a&quot; &#39;b&#39;"
        );
        let page = render_html(
            "<script>alert(1)</script>",
            "\"><img src=x onerror=alert(1)>\n第二行",
        );
        assert!(
            page.starts_with("<!doctype html>\n<html lang=\"zh-CN\">"),
            "{page}"
        );
        assert!(page.contains("<meta charset=\"utf-8\">"), "{page}");
        assert!(
            page.contains("<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>"),
            "{page}"
        );
        assert!(
            page.contains("<p>&quot;&gt;&lt;img src=x onerror=alert(1)&gt;<br>\n第二行</p>"),
            "{page}"
        );
        assert!(
            !page.contains("<script") && !page.contains("<img"),
            "{page}"
        );
    }

    #[test]
    fn links_are_http_only_and_escaped_in_both_places() {
        assert_eq!(
            text_to_html("详见 https://jiban.example/t/1?a=1&b=2。谢谢"),
            "详见 <a href=\"https://jiban.example/t/1?a=1&amp;b=2\">\
             https://jiban.example/t/1?a=1&amp;b=2</a>。谢谢"
        );
        assert_eq!(
            text_to_html("see http://a.example/x."),
            "see <a href=\"http://a.example/x\">http://a.example/x</a>."
        );
        assert_eq!(
            text_to_html("(http://a.example/wiki/A_(b))"),
            "(<a href=\"http://a.example/wiki/A_(b)\">http://a.example/wiki/A_(b)</a>)"
        );
        // A quote ends the URL, so it cannot close the attribute.
        assert_eq!(
            text_to_html("http://a.example/\"onmouseover=\"alert(1)"),
            "<a href=\"http://a.example/\">http://a.example/</a>\
             &quot;onmouseover=&quot;alert(1)"
        );
        assert_eq!(
            text_to_html("javascript:alert(1) data:text/html,x"),
            "javascript:alert(1) data:text/html,x"
        );
        assert_eq!(text_to_html("http:// alone"), "http:// alone");
        assert_eq!(
            text_to_html("HTTPS://A.EXAMPLE\r\nnext"),
            "<a href=\"HTTPS://A.EXAMPLE\">HTTPS://A.EXAMPLE</a><br>\nnext"
        );
    }

    #[test]
    fn message_ids_come_from_the_row() {
        let id = Uuid::parse_str("0190d5b2-0000-7000-8000-000000000001").unwrap();
        assert_eq!(
            message_id(id, "county.gov.cn"),
            "<0190d5b2-0000-7000-8000-000000000001@county.gov.cn>"
        );
    }

    #[actix_web::test]
    async fn the_message_carries_the_row() {
        let settings = SmtpSettings::parse("smtp://127.0.0.1:1").unwrap();
        let from: Mailbox = "即办 <jiban@county.gov.cn>".parse().unwrap();
        let mailer = Mailer::new(&settings, from, None).unwrap();
        let id = Uuid::now_v7();
        let mail = OutgoingMail {
            id,
            to: "officer@county.gov.cn",
            subject: "工单超期\r\nBcc: evil@example.com",
            body: "<b>",
        };
        let raw = String::from_utf8(mailer.message(&mail).unwrap().formatted()).unwrap();
        assert!(
            raw.contains(&format!("Message-ID: <{id}@county.gov.cn>")),
            "{raw}"
        );
        assert!(!raw.to_ascii_lowercase().contains("\r\nbcc:"), "{raw}");
        assert!(raw.contains("multipart/alternative"), "{raw}");

        let bad = OutgoingMail {
            to: "not an address",
            ..mail
        };
        assert!(matches!(mailer.message(&bad), Err(SendError::Invalid(_))));
    }

    #[test]
    fn a_ca_file_needs_a_certificate() {
        assert!(root_certificates(b"").is_err());
        assert!(root_certificates(b"hello").is_err());
        let damaged = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(root_certificates(damaged).is_err());
    }
}
