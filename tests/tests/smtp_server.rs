//! The SMTP test server itself (`scripts/smtp-test-server.py`), driven by a hand-written
//! SMTP dialogue, so the mail tests can trust what it reports: it decodes what it caught,
//! and refuses the `+reject` and `+tempfail` recipients as promised.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use jiban_tests::smtp::{TestSmtp, unique_address};

/// A plain SMTP client, one command and one reply at a time.
struct Dialogue {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Dialogue {
    /// Connects and reads the greeting.
    fn open(addr: &str) -> Dialogue {
        let stream = TcpStream::connect(addr).expect("the SMTP test server accepts");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut dialogue = Dialogue {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        };
        dialogue.expect(220, "greeting");
        dialogue
    }

    /// Sends one line and returns the reply's code and its last line.
    fn send(&mut self, line: &str) -> (u16, String) {
        write!(self.writer, "{line}\r\n").unwrap();
        self.reply()
    }

    /// Sends one line and panics unless the reply has this code.
    fn command(&mut self, line: &str, code: u16) {
        let (got, text) = self.send(line);
        assert_eq!(got, code, "{line:?} answered {text:?}");
    }

    fn expect(&mut self, code: u16, what: &str) {
        let (got, text) = self.reply();
        assert_eq!(got, code, "{what}: {text:?}");
    }

    /// A reply: `250-…` lines continue it, `250 …` ends it.
    fn reply(&mut self) -> (u16, String) {
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).expect("an SMTP reply");
            assert!(line.len() >= 4, "a short SMTP reply: {line:?}");
            if line.as_bytes()[3] != b'-' {
                let code = line[..3].parse().expect("a reply code");
                return (code, line.trim_end().to_owned());
            }
        }
    }
}

/// An RFC 2047 encoded word, as a mailer writes a UTF-8 subject.
fn encoded_word(text: &str) -> String {
    format!("=?UTF-8?B?{}?=", BASE64.encode(text))
}

#[test]
fn a_message_sent_over_plain_smtp_is_read_back_decoded() {
    let Some(server) = TestSmtp::from_env() else {
        return;
    };
    let to = unique_address("wang.li");
    let subject = "【预警】工单 JB-2026-0001 即将超期";
    let body = "福州示例科技有限公司的工单将于 2026-09-21 00:00 超期。\n";
    let message_id = format!("<outbox-{}@jiban.test>", uuid::Uuid::new_v4().simple());
    let message = [
        "From: =?UTF-8?B?5Y2z5Yqe?= <jiban@localhost>".to_owned(),
        format!("To: {to}"),
        format!("Subject: {}", encoded_word(subject)),
        format!("Message-ID: {message_id}"),
        "MIME-Version: 1.0".to_owned(),
        "Content-Type: text/plain; charset=UTF-8".to_owned(),
        "Content-Transfer-Encoding: base64".to_owned(),
        String::new(),
        BASE64.encode(body),
    ];

    let mut smtp = Dialogue::open(&server.smtp);
    smtp.command("EHLO jiban-tests", 250);
    smtp.command("MAIL FROM:<jiban@localhost>", 250);
    smtp.command(&format!("RCPT TO:<{to}>"), 250);
    smtp.command("DATA", 354);
    for line in &message {
        write!(smtp.writer, "{line}\r\n").unwrap();
    }
    smtp.command(".", 250);
    smtp.command("QUIT", 221);

    let mail = server.wait_for(&to, 1, Duration::from_secs(10));
    assert_eq!(mail.len(), 1, "one message to {to}: {mail:?}");
    let mail = &mail[0];
    assert_eq!(mail.mail_from, "jiban@localhost");
    assert_eq!(mail.rcpt_tos, vec![to.clone()]);
    assert_eq!(mail.subject.as_deref(), Some(subject));
    assert_eq!(mail.from.as_deref(), Some("即办 <jiban@localhost>"));
    assert_eq!(mail.to.as_deref(), Some(to.as_str()));
    assert_eq!(mail.message_id.as_deref(), Some(message_id.as_str()));
    assert_eq!(mail.text.as_deref(), Some(body));
    assert_eq!(mail.html, None);
    // The raw headers keep the encoded word, in the order sent.
    assert_eq!(mail.header("subject"), Some(encoded_word(subject).as_str()));
    assert_eq!(mail.headers[0].0, "From");
    assert!(mail.raw.contains(&message_id), "{}", mail.raw);
    // Recipients match in any case; other tests' mail is not in the answer.
    let upper = server.messages_to(&to.to_uppercase());
    assert_eq!(upper.iter().map(|m| m.id).collect::<Vec<_>>(), [mail.id]);
    assert!(server.all().iter().any(|m| m.id == mail.id));
}

#[test]
fn reject_and_tempfail_recipients_are_refused_at_rcpt() {
    let Some(server) = TestSmtp::from_env() else {
        return;
    };
    let rejected = unique_address("officer+reject");
    let deferred = unique_address("officer+tempfail");
    let accepted = unique_address("officer");

    let mut smtp = Dialogue::open(&server.smtp);
    smtp.command("EHLO jiban-tests", 250);
    smtp.command("MAIL FROM:<jiban@localhost>", 250);
    let (code, text) = smtp.send(&format!("RCPT TO:<{rejected}>"));
    assert_eq!(code, 550, "a permanent failure (5xx): {text}");
    assert!(text.contains("5.1.1"), "{text}");
    let (code, text) = smtp.send(&format!("RCPT TO:<{deferred}>"));
    assert_eq!(code, 451, "a transient failure (4xx): {text}");
    assert!(text.contains("4.3.0"), "{text}");
    // The refusals are per recipient: the session goes on for the others.
    smtp.command(&format!("RCPT TO:<{accepted}>"), 250);
    smtp.command("DATA", 354);
    write!(smtp.writer, "Subject: three recipients\r\n\r\nhello\r\n").unwrap();
    smtp.command(".", 250);
    smtp.command("QUIT", 221);

    let mail = server.wait_for(&accepted, 1, Duration::from_secs(10));
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert_eq!(mail[0].rcpt_tos, vec![accepted]);
    assert!(server.messages_to(&rejected).is_empty());
    assert!(server.messages_to(&deferred).is_empty());
}
