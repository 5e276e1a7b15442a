//! Attachments (issue 11): which files a ticket accepts, told from their content and never
//! from what the client says; how a file's name is cleaned; what a declared type may say.
//!
//! Pure: the shell reads the file (its head, the ZIP central directory at its end) and
//! hands the bytes here.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::values::Role;

/// The accepted kinds of file (issue 11, "What is accepted"): PDF, OFD (GB/T 33190, the
/// national e-document format), JPEG, PNG, WebP, HEIC, DOCX, XLSX and plain text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AcceptedType {
    Pdf,
    Ofd,
    Jpeg,
    Png,
    Webp,
    Heic,
    Docx,
    Xlsx,
    Text,
}

const DOCX_MIME: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const XLSX_MIME: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

impl AcceptedType {
    pub const ALL: [AcceptedType; 9] = [
        AcceptedType::Pdf,
        AcceptedType::Ofd,
        AcceptedType::Jpeg,
        AcceptedType::Png,
        AcceptedType::Webp,
        AcceptedType::Heic,
        AcceptedType::Docx,
        AcceptedType::Xlsx,
        AcceptedType::Text,
    ];

    /// The media type stored and answered as `Content-Type`.
    pub fn mime(self) -> &'static str {
        match self {
            AcceptedType::Pdf => "application/pdf",
            AcceptedType::Ofd => "application/ofd",
            AcceptedType::Jpeg => "image/jpeg",
            AcceptedType::Png => "image/png",
            AcceptedType::Webp => "image/webp",
            AcceptedType::Heic => "image/heic",
            AcceptedType::Docx => DOCX_MIME,
            AcceptedType::Xlsx => XLSX_MIME,
            AcceptedType::Text => "text/plain",
        }
    }

    /// The accepted type a client's declared media type names, if any: the type's own
    /// name or a common alias (`image/jpg`, `image/heif`). Parameters and case are
    /// ignored.
    pub fn from_declared(declared: &str) -> Option<AcceptedType> {
        let essence = declared
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let alias = match essence.as_str() {
            "image/jpg" | "image/pjpeg" => Some(AcceptedType::Jpeg),
            "image/heif" | "image/heic-sequence" | "image/heif-sequence" => {
                Some(AcceptedType::Heic)
            }
            "application/x-pdf" => Some(AcceptedType::Pdf),
            _ => None,
        };
        alias.or_else(|| AcceptedType::ALL.into_iter().find(|t| t.mime() == essence))
    }
}

/// A file stored for a ticket, as the command that attaches it carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAttachment {
    pub id: crate::values::AttachmentId,
    /// Cleaned ([`clean_filename`]).
    pub filename: String,
    /// Detected ([`detect`]): an [`AcceptedType::mime`].
    pub content_type: String,
    pub size: u64,
    /// The content's SHA-256, lowercase hex.
    pub sha256: String,
}

/// Why a file is refused (415), naming what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not one of the accepted kinds (an executable, an archive, a video, binary data).
    NotAccepted { detected: Option<String> },
    /// The client declared another accepted type than the content is (a spoofed type).
    Mismatch {
        declared: AcceptedType,
        detected: AcceptedType,
    },
}

impl Refusal {
    /// The problem's detail for the file named `filename`.
    pub fn describe(&self, filename: &str) -> String {
        match self {
            Refusal::NotAccepted { detected: Some(d) } => format!(
                "{filename:?} is {d}, which is not accepted: send PDF, OFD, JPEG, PNG, WebP, \
                 HEIC, DOCX, XLSX or plain text (UTF-8)"
            ),
            Refusal::NotAccepted { detected: None } => format!(
                "{filename:?} is not a file type that is accepted: send PDF, OFD, JPEG, PNG, \
                 WebP, HEIC, DOCX, XLSX or plain text (UTF-8)"
            ),
            Refusal::Mismatch { declared, detected } => format!(
                "{filename:?} is declared as {} but its content is {}",
                declared.mime(),
                detected.mime()
            ),
        }
    }
}

/// What the shell learned from reading a spooled file.
#[derive(Clone, Debug, Default)]
pub struct Content<'a> {
    /// The file's first bytes (at least [`HEAD_BYTES`] when the file is that long).
    pub head: &'a [u8],
    /// The whole file is UTF-8 with no NUL byte ([`TextCheck`]).
    pub text: bool,
    /// The names in the ZIP central directory, when the file is a ZIP archive whose
    /// directory could be read ([`zip`]).
    pub zip_names: Option<Vec<String>>,
}

/// How much of the file's start [`Content::head`] needs: enough for every signature the
/// `infer` crate checks for the accepted kinds.
pub const HEAD_BYTES: usize = 8192;

/// The accepted type of a file from its content (issue 11: detected from the content,
/// magic bytes, never trusted from the client). DOCX, XLSX and OFD are all ZIP archives:
/// what the archive holds tells them apart (`word/document.xml`, `xl/workbook.xml`,
/// `OFD.xml` at the root, GB/T 33190 section 7.1).
pub fn detect(content: &Content<'_>) -> Result<AcceptedType, Refusal> {
    if zip::is_zip(content.head) {
        let names = content.zip_names.as_deref().unwrap_or_default();
        return zip::classify(names).ok_or(Refusal::NotAccepted {
            detected: Some("a ZIP archive".into()),
        });
    }
    if let Some(kind) = infer::get(content.head) {
        return match kind.mime_type() {
            "application/pdf" => Ok(AcceptedType::Pdf),
            "image/jpeg" => Ok(AcceptedType::Jpeg),
            "image/png" => Ok(AcceptedType::Png),
            "image/webp" => Ok(AcceptedType::Webp),
            "image/heif" | "image/heic" => Ok(AcceptedType::Heic),
            other => Err(Refusal::NotAccepted {
                detected: Some(other.to_owned()),
            }),
        };
    }
    if content.text {
        Ok(AcceptedType::Text)
    } else {
        Err(Refusal::NotAccepted { detected: None })
    }
}

/// Holds a detected type to the client's declared one (issue 11): a declared type that
/// names another accepted type than the content is refused; `application/octet-stream`
/// (what curl and browsers send when they do not know), no type at all, or a type that is
/// none of the accepted ones (`application/zip` for a DOCX) counts as undeclared.
pub fn check_declared(declared: Option<&str>, detected: AcceptedType) -> Result<(), Refusal> {
    match declared.and_then(AcceptedType::from_declared) {
        Some(declared) if declared != detected => Err(Refusal::Mismatch { declared, detected }),
        _ => Ok(()),
    }
}

/// The longest file name kept, in bytes (issue 11).
pub const FILENAME_MAX_BYTES: usize = 255;
/// The name given to a file whose name is empty once cleaned.
pub const FALLBACK_FILENAME: &str = "attachment";

/// Only officials mark a file internal, as with comments (DESIGN.md rule 8): an
/// enterprise user's internal upload is refused. The store checks it again in `decide`;
/// the route asks first, so that nothing is stored for a refused upload.
pub fn check_internal(internal: bool, role: Role) -> Result<(), DomainError> {
    if internal && role == Role::Enterprise {
        return Err(DomainError::NotPermitted(
            "enterprises cannot attach internal files",
        ));
    }
    Ok(())
}

/// A client's file name as stored and answered (issue 11: no path, no control characters,
/// at most 255 bytes): the last segment after `/` or `\`, without control characters or
/// the bidirectional overrides that make `exe.pdf` read as `fdp.exe`, trimmed; when too
/// long, the stem is cut at a character boundary and a short extension kept.
pub fn clean_filename(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let kept: String = base
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .collect();
    let trimmed = kept.trim();
    if trimmed.is_empty() || trimmed == "." || trimmed == ".." {
        return FALLBACK_FILENAME.to_owned();
    }
    if trimmed.len() <= FILENAME_MAX_BYTES {
        return trimmed.to_owned();
    }
    let (stem, ext) = match trimmed.rfind('.') {
        Some(i) if trimmed.len() - i <= 16 && i > 0 => trimmed.split_at(i),
        _ => (trimmed, ""),
    };
    format!("{}{ext}", cut(stem, FILENAME_MAX_BYTES - ext.len()))
}

fn cut(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Unicode's bidirectional formatting characters (UAX #9): invisible, and they reorder
/// what a reader sees.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Whether a stream of chunks is UTF-8 text with no NUL byte (issue 11: plain text is
/// valid UTF-8 with no NUL), checked chunk by chunk with a character split between two
/// chunks carried over, so the file is never held whole.
#[derive(Clone, Debug)]
pub struct TextCheck {
    ok: bool,
    /// The start of a character the last chunk ended inside (at most 3 bytes).
    pending: Vec<u8>,
}

impl Default for TextCheck {
    fn default() -> Self {
        TextCheck {
            ok: true,
            pending: Vec::new(),
        }
    }
}

impl TextCheck {
    pub fn feed(&mut self, chunk: &[u8]) {
        if !self.ok {
            return;
        }
        if chunk.contains(&0) {
            self.ok = false;
            return;
        }
        let mut data = chunk;
        if let Some(&first) = self.pending.first() {
            let Some(width) = utf8_width(first) else {
                self.ok = false;
                return;
            };
            let take = (width - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.pending.len() < width {
                return;
            }
            if std::str::from_utf8(&self.pending).is_err() {
                self.ok = false;
                return;
            }
            self.pending.clear();
        }
        if let Err(e) = std::str::from_utf8(data) {
            match e.error_len() {
                Some(_) => self.ok = false,
                None => self.pending = data[e.valid_up_to()..].to_vec(),
            }
        }
    }

    /// True when every chunk fed was text and the last character is whole.
    pub fn finish(&self) -> bool {
        self.ok && self.pending.is_empty()
    }
}

fn utf8_width(first: u8) -> Option<usize> {
    match first {
        0xc2..=0xdf => Some(2),
        0xe0..=0xef => Some(3),
        0xf0..=0xf4 => Some(4),
        _ => None,
    }
}

/// The little of the ZIP format (APPNOTE.TXT, PKWARE) needed to list an archive's names:
/// the end-of-central-directory record, then each central directory header's file name.
/// No ZIP64: a file within the upload limit never needs it.
pub mod zip {
    use super::AcceptedType;

    /// A local file header's signature, the first bytes of every ZIP archive we accept.
    const LOCAL_HEADER: [u8; 4] = *b"PK\x03\x04";
    const END_OF_DIRECTORY: [u8; 4] = *b"PK\x05\x06";
    const DIRECTORY_HEADER: [u8; 4] = *b"PK\x01\x02";
    /// The end record without its comment.
    const END_RECORD_LEN: usize = 22;
    const DIRECTORY_HEADER_LEN: usize = 46;
    /// How far from the end the end record may start: its length and the longest comment.
    pub const TAIL_BYTES: usize = END_RECORD_LEN + u16::MAX as usize;
    /// The largest central directory read: thousands of names, far more than an office
    /// document has.
    pub const DIRECTORY_MAX: u64 = 1024 * 1024;

    pub fn is_zip(head: &[u8]) -> bool {
        head.starts_with(&LOCAL_HEADER)
    }

    fn u16_at(b: &[u8], at: usize) -> Option<u16> {
        Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
    }

    fn u32_at(b: &[u8], at: usize) -> Option<u32> {
        Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
    }

    /// Where the central directory lies, `(offset, length)` from the file's start, read
    /// from the end record in `tail` (the file's last bytes, at most [`TAIL_BYTES`]) of a
    /// file of `size` bytes. `None` when there is no end record, the directory lies
    /// outside the file, or it is longer than [`DIRECTORY_MAX`].
    pub fn directory_range(tail: &[u8], size: u64) -> Option<(u64, u64)> {
        let start = tail.len().checked_sub(END_RECORD_LEN)?;
        let at = (0..=start)
            .rev()
            .find(|&i| tail[i..].starts_with(&END_OF_DIRECTORY))?;
        let length = u64::from(u32_at(tail, at + 12)?);
        let offset = u64::from(u32_at(tail, at + 16)?);
        (length <= DIRECTORY_MAX && offset.checked_add(length)? <= size).then_some((offset, length))
    }

    /// The file names in a central directory, in order; stops at the first header that
    /// does not parse.
    pub fn entry_names(directory: &[u8]) -> Vec<String> {
        let mut names = Vec::new();
        let mut at = 0;
        while directory
            .get(at..)
            .is_some_and(|rest| rest.starts_with(&DIRECTORY_HEADER))
        {
            let (Some(name_len), Some(extra_len), Some(comment_len)) = (
                u16_at(directory, at + 28),
                u16_at(directory, at + 30),
                u16_at(directory, at + 32),
            ) else {
                break;
            };
            let name_start = at + DIRECTORY_HEADER_LEN;
            let Some(name) = directory.get(name_start..name_start + usize::from(name_len)) else {
                break;
            };
            names.push(String::from_utf8_lossy(name).into_owned());
            at = name_start
                + usize::from(name_len)
                + usize::from(extra_len)
                + usize::from(comment_len);
        }
        names
    }

    /// Which accepted ZIP-based type an archive's names make it: an Office Open XML word
    /// processing document has `word/document.xml`, a workbook `xl/workbook.xml` (ECMA-376
    /// Part 1, the conventional part names), an OFD package `OFD.xml` at its root (GB/T
    /// 33190-2016 section 7.1). Anything else is a plain archive, not accepted.
    pub fn classify(names: &[String]) -> Option<AcceptedType> {
        let has = |wanted: &str| names.iter().any(|n| n == wanted);
        if has("word/document.xml") {
            Some(AcceptedType::Docx)
        } else if has("xl/workbook.xml") {
            Some(AcceptedType::Xlsx)
        } else if has("OFD.xml") {
            Some(AcceptedType::Ofd)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stored (uncompressed) ZIP archive of empty entries with these names.
    pub fn zip_of(names: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut directory = Vec::new();
        for name in names {
            let offset = out.len() as u32;
            out.extend_from_slice(b"PK\x03\x04");
            out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&[0; 12]);
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(name.as_bytes());
            directory.extend_from_slice(b"PK\x01\x02");
            directory.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            directory.extend_from_slice(&[0; 12]);
            directory.extend_from_slice(&(name.len() as u16).to_le_bytes());
            directory.extend_from_slice(&[0; 12]);
            directory.extend_from_slice(&offset.to_le_bytes());
            directory.extend_from_slice(name.as_bytes());
        }
        let offset = out.len() as u32;
        out.extend_from_slice(&directory);
        out.extend_from_slice(b"PK\x05\x06");
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(&(names.len() as u16).to_le_bytes());
        out.extend_from_slice(&(names.len() as u16).to_le_bytes());
        out.extend_from_slice(&(directory.len() as u32).to_le_bytes());
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out
    }

    fn detect_bytes(bytes: &[u8]) -> Result<AcceptedType, Refusal> {
        let mut text = TextCheck::default();
        text.feed(bytes);
        let zip_names = zip::directory_range(bytes, bytes.len() as u64)
            .map(|(o, l)| zip::entry_names(&bytes[o as usize..(o + l) as usize]));
        detect(&Content {
            head: &bytes[..bytes.len().min(HEAD_BYTES)],
            text: text.finish(),
            zip_names,
        })
    }

    #[test]
    fn zip_based_types_are_told_apart_by_what_the_archive_holds() {
        let docx = zip_of(&["[Content_Types].xml", "_rels/.rels", "word/document.xml"]);
        let xlsx = zip_of(&["[Content_Types].xml", "xl/workbook.xml"]);
        let ofd = zip_of(&["OFD.xml", "Doc_0/Document.xml"]);
        let plain = zip_of(&["readme.txt", "sub/OFD.xml"]);
        assert_eq!(detect_bytes(&docx), Ok(AcceptedType::Docx));
        assert_eq!(detect_bytes(&xlsx), Ok(AcceptedType::Xlsx));
        assert_eq!(detect_bytes(&ofd), Ok(AcceptedType::Ofd));
        assert!(matches!(
            detect_bytes(&plain),
            Err(Refusal::NotAccepted { .. })
        ));
    }

    #[test]
    fn magic_bytes_decide_and_text_is_utf8_without_nul() {
        assert_eq!(
            detect_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"),
            Ok(AcceptedType::Pdf)
        );
        assert_eq!(
            detect_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Ok(AcceptedType::Png)
        );
        assert_eq!(
            detect_bytes(b"\xff\xd8\xff\xe0\0\x10JFIF\0"),
            Ok(AcceptedType::Jpeg)
        );
        assert_eq!(
            detect_bytes("营业执照已补充\n".as_bytes()),
            Ok(AcceptedType::Text)
        );
        // A Windows executable renamed .pdf, and text with a NUL.
        assert!(detect_bytes(b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff").is_err());
        assert!(detect_bytes(b"abc\0def").is_err());
        assert!(detect_bytes(b"\xc3\x28 not utf-8").is_err());
    }

    #[test]
    fn a_character_split_between_chunks_is_still_text() {
        let text = "一次性告知".as_bytes();
        for split in 0..text.len() {
            let mut check = TextCheck::default();
            check.feed(&text[..split]);
            check.feed(&text[split..]);
            assert!(check.finish(), "split at {split}");
        }
        let mut cut_short = TextCheck::default();
        cut_short.feed(&text[..text.len() - 1]);
        assert!(!cut_short.finish());
    }

    #[test]
    fn a_declared_type_may_not_name_another_accepted_type() {
        assert!(check_declared(Some("image/jpeg"), AcceptedType::Png).is_err());
        assert!(check_declared(Some("IMAGE/PNG; x=y"), AcceptedType::Png).is_ok());
        assert!(check_declared(Some("image/jpg"), AcceptedType::Jpeg).is_ok());
        assert!(check_declared(Some("application/octet-stream"), AcceptedType::Pdf).is_ok());
        assert!(check_declared(Some("application/zip"), AcceptedType::Docx).is_ok());
        assert!(check_declared(None, AcceptedType::Text).is_ok());
    }

    #[test]
    fn file_names_lose_paths_and_controls_and_stay_within_255_bytes() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("C:\\Users\\a\\营业执照.pdf"), "营业执照.pdf");
        assert_eq!(clean_filename("a\u{202e}fdp.exe"), "afdp.exe");
        assert_eq!(clean_filename("x\r\ny.txt"), "xy.txt");
        assert_eq!(clean_filename(" / "), FALLBACK_FILENAME);
        assert_eq!(clean_filename(".."), FALLBACK_FILENAME);
        let long = format!("{}.pdf", "营".repeat(200));
        let cleaned = clean_filename(&long);
        assert!(cleaned.len() <= FILENAME_MAX_BYTES);
        assert!(cleaned.ends_with(".pdf"), "{cleaned}");
    }
}
