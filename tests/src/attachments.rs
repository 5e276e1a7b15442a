//! Attachments' test helpers (issue 11): `multipart/form-data` bodies written by hand (as
//! curl sends them), sample files of each kind, the server's resident memory, and the S3
//! test server named in `JIBAN_TEST_S3`.

use std::time::Duration;

use crate::{Response, TestServer};

/// One part of a multipart body.
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

impl Part {
    /// A `file` part, declared as `application/octet-stream` as curl does.
    pub fn file(filename: &str, bytes: Vec<u8>) -> Part {
        Part {
            name: "file".into(),
            filename: Some(filename.into()),
            content_type: Some("application/octet-stream".into()),
            bytes,
        }
    }

    /// A `file` part with a declared type (`None`: no Content-Type at all).
    pub fn typed(filename: &str, content_type: Option<&str>, bytes: Vec<u8>) -> Part {
        Part {
            content_type: content_type.map(str::to_owned),
            ..Part::file(filename, bytes)
        }
    }

    /// A plain field.
    pub fn field(name: &str, value: &str) -> Part {
        Part {
            name: name.into(),
            filename: None,
            content_type: None,
            bytes: value.as_bytes().to_vec(),
        }
    }
}

const BOUNDARY: &str = "jiban-test-boundary-7MA4YWxkTrZu0gW";

/// The body and its `Content-Type`.
pub fn multipart(parts: &[Part]) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{}\"", part.name);
        if let Some(filename) = &part.filename {
            // As browsers send it: the UTF-8 name inside the quotes.
            disposition.push_str(&format!("; filename=\"{filename}\""));
        }
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(b"\r\n");
        if let Some(content_type) = &part.content_type {
            body.extend_from_slice(format!("Content-Type: {content_type}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(&part.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

/// `POST /v1/tickets/{id}/attachments` with these parts.
pub fn upload(server: &TestServer, token: &str, ticket_id: &str, parts: &[Part]) -> Response {
    let (content_type, body) = multipart(parts);
    server.raw(
        "POST",
        &format!("/v1/tickets/{ticket_id}/attachments"),
        &[
            ("authorization", &format!("Bearer {token}")),
            ("content-type", &content_type),
        ],
        Some(body),
    )
}

/// `GET /v1/attachments/{id}` with extra headers.
pub fn download(server: &TestServer, token: &str, id: &str, headers: &[(&str, &str)]) -> Response {
    let auth = format!("Bearer {token}");
    let mut all = vec![("authorization", auth.as_str())];
    all.extend_from_slice(headers);
    server.raw("GET", &format!("/v1/attachments/{id}"), &all, None)
}

/// A small PDF (its magic bytes and a body).
pub fn pdf(seed: &str) -> Vec<u8> {
    format!("%PDF-1.7\n%\u{e2}\u{e3}\n1 0 obj << /Title ({seed}) >> endobj\ntrailer << >>\n%%EOF\n")
        .into_bytes()
}

/// A PNG's signature and header chunk.
pub fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec();
    b.extend_from_slice(&[0x1f, 0x15, 0xc4, 0x89, 0, 0, 0, 0, b'I', b'E', b'N', b'D']);
    b
}

/// A Windows executable's start.
pub fn executable() -> Vec<u8> {
    let mut b = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0\xb8\0".to_vec();
    b.resize(128, 0);
    b.extend_from_slice(b"This program cannot be run in DOS mode.\r\r\n$");
    b
}

/// A stored (uncompressed) ZIP archive of entries with these names and contents.
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut directory = Vec::new();
    for (name, data) in entries {
        let offset = out.len() as u32;
        let crc = crc32(data);
        let header_fields = |sig: &[u8], central: bool| {
            let mut h = sig.to_vec();
            if central {
                h.extend_from_slice(&[20, 0]);
            }
            h.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            h.extend_from_slice(&crc.to_le_bytes());
            h.extend_from_slice(&(data.len() as u32).to_le_bytes());
            h.extend_from_slice(&(data.len() as u32).to_le_bytes());
            h.extend_from_slice(&(name.len() as u16).to_le_bytes());
            h.extend_from_slice(&[0, 0]);
            h
        };
        out.extend_from_slice(&header_fields(b"PK\x03\x04", false));
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        directory.extend_from_slice(&header_fields(b"PK\x01\x02", true));
        directory.extend_from_slice(&[0; 10]);
        directory.extend_from_slice(&offset.to_le_bytes());
        directory.extend_from_slice(name.as_bytes());
    }
    let offset = out.len() as u32;
    out.extend_from_slice(&directory);
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(directory.len() as u32).to_le_bytes());
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A minimal DOCX: a ZIP holding `word/document.xml`.
pub fn docx() -> Vec<u8> {
    zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("word/document.xml", b"<w:document/>"),
    ])
}

/// The resident memory of a process, from `/proc/<pid>/status`, in KiB.
pub fn resident_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:")
}

/// The process's peak resident memory since [`reset_peak`] (or its start), in KiB. A
/// buffer of a whole file that is freed before the request ends shows here, not in
/// [`resident_kib`] afterwards.
pub fn peak_kib(pid: u32) -> u64 {
    status_kib(pid, "VmHWM:")
}

/// Resets the process's peak resident memory to its current (Linux: `5` to
/// `/proc/<pid>/clear_refs`, allowed for our own child).
pub fn reset_peak(pid: u32) {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").expect("reset the peak RSS");
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"))
}

/// The lowercase hex SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

/// Waits up to `within` for `done`.
pub fn eventually(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + within;
    loop {
        if done() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Percent-decodes `filename*`'s value (RFC 8187) back to the name.
pub fn decode_filename_star(disposition: &str) -> Option<String> {
    let encoded = disposition.split("filename*=UTF-8''").nth(1)?;
    let encoded = encoded.split(';').next()?.trim();
    let mut out = Vec::new();
    let bytes = encoded.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() + 1 {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
