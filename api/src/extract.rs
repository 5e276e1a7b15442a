//! Reading request bodies into DTOs, and turning every way they can be wrong into one
//! [`ApiError`] naming each field (DESIGN.md section 7; docs/API.md, "Errors").
//!
//! - [`JsonBody<T>`] reads at most [`BODY_LIMIT`] bytes of JSON. Its failure is kept, not
//!   returned by the extractor: the handler checks the caller's role first and only then
//!   calls [`JsonBody::into_inner`], so a caller without the role gets 403 whatever it sent.
//! - Deserialisation goes through `serde_path_to_error`, so a wrong type deep in the body
//!   is reported at its JSON pointer (`/days/3/date`).
//! - [`Fields`] collects the `validator` rules' errors and the domain parsers' errors of one
//!   body, so all of them are reported at once.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use jiban_domain::values::ValueError;
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::problem::{self, ApiError, FieldError};

mod csv_body;
mod strict;

pub use csv_body::{CsvBody, is_csv};

/// The largest request body accepted (DESIGN.md section 7: 413 above 64 KiB).
pub const BODY_LIMIT: usize = 64 * 1024;

/// A JSON body, or why it could not be read. See the module documentation.
pub struct JsonBody<T>(Result<T, ApiError>);

impl<T> JsonBody<T> {
    /// The body, or the 400/413/415/422 that explains why there is none.
    pub fn into_inner(self) -> Result<T, ApiError> {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = is_json(req);
        let declared = declared_length(req);
        let payload = payload.take();
        Box::pin(async move {
            if !is_json {
                return Ok(JsonBody(Err(problem::unsupported_media_type())));
            }
            Ok(JsonBody(
                match read_limited(payload, declared, BODY_LIMIT).await {
                    Ok(bytes) => parse_json(&bytes),
                    Err(e) => Err(e),
                },
            ))
        })
    }
}

/// The body's declared `Content-Length`, if any and readable.
fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// The body, at most `limit` bytes: 413 when it is declared or turns out larger (without
/// reading it when declared), 400 when the connection fails.
async fn read_limited(
    payload: Payload,
    declared: Option<usize>,
    limit: usize,
) -> Result<actix_web::web::Bytes, ApiError> {
    if declared.is_some_and(|len| len > limit) {
        return Err(problem::body_too_large(limit));
    }
    let stream = actix_web::body::BodyStream::new(payload);
    match actix_web::body::to_bytes_limited(stream, limit).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(ApiError::bad_request(
            "unreadable_body",
            "the request body could not be read",
        )),
        Err(_) => Err(problem::body_too_large(limit)),
    }
}

/// `application/json` or any `application/*+json`.
pub fn is_json(req: &HttpRequest) -> bool {
    media_type(req.headers()).is_some_and(|essence| {
        essence == "application/json"
            || (essence.starts_with("application/") && essence.ends_with("+json"))
    })
}

/// The declared media type without its parameters, lower-cased.
fn media_type(headers: &header::HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(value.split(';').next()?.trim().to_ascii_lowercase())
}

/// Parses a body: 400 when it is not JSON at all, 422 naming the field when JSON of the
/// wrong shape.
///
/// The whole body is checked to be JSON first, so that a body cut short or not UTF-8 is
/// 400 even when its first field is already wrong. A struct is read from an object only
/// ([`strict::Strict`]): serde alone would take `["…"]` for `{"reason": "…"}`.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // JSON is UTF-8 (RFC 8259); serde_json skips a string it ignores without looking.
    if std::str::from_utf8(bytes).is_err() {
        return Err(ApiError::bad_request(
            "malformed_json",
            "the body is not valid JSON: it is not UTF-8",
        ));
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
        .map_err(|e| problem::malformed_json(&e))?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = match serde_path_to_error::deserialize(strict::Strict(&mut de)) {
        Ok(value) => value,
        Err(e) => {
            let pointer = pointer_of(e.path());
            let inner = e.into_inner();
            return Err(if inner.is_data() {
                deserialize_error(inner.to_string(), pointer)
            } else {
                // The body is JSON (checked above): what serde_json calls a syntax error
                // here is a value of the wrong type, e.g. a number where an enumeration's
                // name belongs.
                ApiError::invalid(vec![FieldError::body(
                    pointer,
                    "wrong_type",
                    "has the wrong type",
                )])
            });
        }
    };
    de.end().map_err(|e| problem::malformed_json(&e))?;
    refuse_control_characters(bytes)?;
    Ok(value)
}

/// Refuses any string (or key) of the body that holds NUL or another C0/C1 control
/// character other than a line break or a tab: PostgreSQL's `text` cannot store NUL, and
/// no field of ours means them (issue 8). One 422 naming every such field.
///
/// JSON cannot carry a raw control character inside a string, only an escape
/// (`\u0000`) or, for C1, its two UTF-8 bytes; a body with neither is passed at the cost
/// of one scan, and only a suspicious one is parsed again to find the fields.
fn refuse_control_characters(bytes: &[u8]) -> Result<(), ApiError> {
    let suspicious = bytes.windows(2).any(|w| {
        (w[0] == b'\\' && w[1] == b'u') || (w[0] == 0xC2 && (0x80..=0x9F).contains(&w[1]))
    });
    if !suspicious {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Ok(());
    };
    let mut found = Vec::new();
    find_control_characters(&value, &mut String::new(), &mut found);
    if found.is_empty() {
        return Ok(());
    }
    Err(ApiError::invalid(
        found
            .into_iter()
            .map(|pointer| {
                FieldError::body(
                    pointer,
                    "control_character",
                    "must not contain NUL or other control characters (line breaks and tabs are allowed)",
                )
            })
            .collect(),
    ))
}

/// A control character no field may hold: every C0 and C1 one but tab, line feed and
/// carriage return.
pub fn is_forbidden_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

fn find_control_characters(value: &serde_json::Value, at: &mut String, found: &mut Vec<String>) {
    use serde_json::Value;
    match value {
        Value::String(s) if s.chars().any(is_forbidden_control) => found.push(at.clone()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                find_control_characters(item, at, found);
                at.truncate(len);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                let len = at.len();
                push_token(at, key);
                if key.chars().any(is_forbidden_control) {
                    found.push(at.clone());
                } else {
                    find_control_characters(item, at, found);
                }
                at.truncate(len);
            }
        }
        _ => {}
    }
}

/// The JSON pointer (RFC 6901) of a serde path: `days[3].date` → `/days/3/date`.
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } => push_token(&mut pointer, key),
            Segment::Enum { variant } => push_token(&mut pointer, variant),
            Segment::Unknown => {}
        }
    }
    pointer
}

fn push_token(pointer: &mut String, token: &str) {
    pointer.push('/');
    pointer.push_str(&token.replace('~', "~0").replace('/', "~1"));
}

/// A serde data error as a 422. serde names a missing or unknown field only in its message
/// (the path stops at the object), so the name is taken from between the backticks.
pub fn deserialize_error(message: String, pointer: String) -> ApiError {
    // serde_json appends " at line L column C": the pointer says where, better.
    let message = match message.find(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message,
    };
    // For an unknown field the path already ends at it; for a missing one it stops at the
    // enclosing object.
    let named = |prefix: &str, path_has_it: bool| -> Option<String> {
        let rest = message.strip_prefix(prefix)?;
        let name = rest.split('`').nth(1)?;
        let mut token = String::new();
        push_token(&mut token, name);
        if path_has_it && pointer.ends_with(&token) {
            Some(pointer.clone())
        } else {
            Some(format!("{pointer}{token}"))
        }
    };
    let (pointer, code, detail): (String, &'static str, String) =
        if let Some(p) = named("missing field", false) {
            (p, "required", "is required".to_owned())
        } else if let Some(p) = named("unknown field", true) {
            (p, "unknown_field", message.clone())
        } else if message.starts_with("unknown variant") {
            (pointer, "unknown_value", message.clone())
        } else if message.starts_with("invalid type") {
            (pointer, "wrong_type", message.clone())
        } else {
            (pointer, "invalid", message.clone())
        };
    ApiError::invalid(vec![FieldError::body(pointer, code, detail)])
}

/// The invalid fields of one body, gathered so they are all reported at once.
#[derive(Default)]
pub struct Fields {
    errors: Vec<FieldError>,
}

impl Fields {
    /// Starts with the `validator` rules of `dto`.
    pub fn validate(dto: &impl Validate) -> Self {
        let mut fields = Fields::default();
        if let Err(errors) = dto.validate() {
            flatten(&errors, "", &mut fields.errors);
            // HashMap order is random; a stable order reads better and tests compare.
            fields.errors.sort_by(|a, b| a.pointer.cmp(&b.pointer));
        }
        fields
    }

    /// Keeps a parsed value, or records why it did not parse (unless the same pointer is
    /// already reported by a `validator` rule).
    pub fn parse<T>(&mut self, pointer: &str, parsed: Result<T, ValueError>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(error) => {
                self.push(FieldError::value(pointer, &error));
                None
            }
        }
    }

    /// An RFC 3339 instant with an offset, kept to the microsecond both backends store, or
    /// the field's `invalid` error.
    pub fn instant(&mut self, pointer: &str, raw: &str) -> Option<chrono::DateTime<chrono::Utc>> {
        use chrono::SubsecRound;
        match chrono::DateTime::parse_from_rfc3339(raw) {
            Ok(t) => Some(t.to_utc().trunc_subsecs(6)),
            Err(_) => {
                self.push(FieldError::body(
                    pointer,
                    "invalid",
                    "must be an RFC 3339 instant with offset, e.g. 2026-12-03T09:30:00+08:00",
                ));
                None
            }
        }
    }

    /// Records an error (unless its pointer is already reported).
    pub fn push(&mut self, error: FieldError) {
        if !self.errors.iter().any(|e| e.pointer == error.pointer) {
            self.errors.push(error);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// `Ok` when nothing was recorded, else the 422 listing everything.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(self.errors))
        }
    }
}

fn flatten(errors: &ValidationErrors, prefix: &str, out: &mut Vec<FieldError>) {
    for (field, kind) in errors.errors() {
        let pointer = format!("{prefix}/{field}");
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    out.push(FieldError::body(
                        pointer.clone(),
                        e.code.clone(),
                        describe(e),
                    ));
                }
            }
            ValidationErrorsKind::Struct(inner) => flatten(inner, &pointer, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    flatten(inner, &format!("{pointer}/{index}"), out);
                }
            }
        }
    }
}

/// The message of a `validator` error: its own, or one made from its code and bounds.
fn describe(e: &validator::ValidationError) -> String {
    if let Some(message) = &e.message {
        return message.to_string();
    }
    let param = |name: &str| e.params.get(name).map(|v| v.to_string());
    match (e.code.as_ref(), param("min"), param("max")) {
        ("too_long", _, Some(max)) => format!("must be at most {max} characters"),
        ("too_short", Some(min), _) => format!("must be at least {min} characters"),
        ("too_many", _, Some(max)) => format!("must have at most {max} entries"),
        ("out_of_range", Some(min), Some(max)) => format!("must be between {min} and {max}"),
        (code, _, _) => code.replace('_', " "),
    }
}

/// Deserialises an optional field that may be absent (`None`) but not `null`, which is a
/// wrong type like any other: the document gives these fields no `null`, and a PATCH
/// whose `{"display_name": null}` answered 200 having changed nothing misled its client.
/// Use with `#[serde(default, deserialize_with = "present")]`.
pub fn present<'de, T, D>(d: D) -> Result<Option<T>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    T::deserialize(d).map(Some)
}

/// Deserialises a field that may be absent (`None`), `null` (`Some(None)`) or a value
/// (`Some(Some(v))`): PATCH tells "leave it" from "clear it".
pub fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    serde::Deserialize::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[allow(dead_code)]
    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Day {
        date: chrono::NaiveDate,
        kind: Kind,
    }

    #[derive(Deserialize, Debug)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Holiday,
    }

    #[allow(dead_code)]
    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Year {
        days: Vec<Day>,
    }

    fn error_of(json: &str) -> (u16, FieldError) {
        let e = parse_json::<Year>(json.as_bytes()).unwrap_err();
        (
            e.status().as_u16(),
            e.errors()
                .first()
                .cloned()
                .unwrap_or_else(|| FieldError::body("", e.code().to_owned(), "")),
        )
    }

    #[test]
    fn errors_name_the_field_by_pointer() {
        let ok = r#"{"date": "2026-01-01", "kind": "holiday"}"#;
        let (status, e) = error_of(&format!(
            r#"{{"days": [{ok}, {ok}, {ok}, {{"date": "2026-13-01", "kind": "holiday"}}]}}"#
        ));
        assert_eq!(
            (status, e.pointer.as_deref(), e.code.as_ref()),
            (422, Some("/days/3/date"), "invalid")
        );
        let (_, e) = error_of(r#"{"days": [{"date": "2026-01-01"}]}"#);
        assert_eq!(
            (e.pointer.as_deref(), e.code.as_ref()),
            (Some("/days/0/kind"), "required")
        );
        let (_, e) = error_of(r#"{"days": [{"date": "2026-01-01", "kind": "party"}]}"#);
        assert_eq!(
            (e.pointer.as_deref(), e.code.as_ref()),
            (Some("/days/0/kind"), "unknown_value")
        );
        let (_, e) = error_of(r#"{"days": 3}"#);
        assert_eq!(
            (e.pointer.as_deref(), e.code.as_ref()),
            (Some("/days"), "wrong_type")
        );
        let (_, e) = error_of(r#"{"days": [], "extra": 1}"#);
        assert_eq!(
            (e.pointer.as_deref(), e.code.as_ref()),
            (Some("/extra"), "unknown_field")
        );
    }

    #[test]
    fn control_characters_are_refused_by_field() {
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct Body {
            title: String,
            items: Vec<String>,
        }
        let refused = |json: &str| match parse_json::<Body>(json.as_bytes()) {
            Ok(_) => Vec::new(),
            Err(e) => {
                assert_eq!(e.status().as_u16(), 422);
                e.errors()
                    .iter()
                    .map(|f| (f.pointer.clone().unwrap(), f.code.to_string()))
                    .collect()
            }
        };
        let nul = r#"{"title": "停电\u0000", "items": ["a", "b\u0007", "c"]}"#;
        assert_eq!(
            refused(nul),
            [
                ("/items/1".to_owned(), "control_character".to_owned()),
                ("/title".to_owned(), "control_character".to_owned())
            ]
        );
        // C1 (U+0085) as raw UTF-8, and DEL.
        assert_eq!(
            refused("{\"title\": \"a\u{85}\", \"items\": [\"\\u007f\"]}").len(),
            2
        );
        // Line breaks and tabs are text; an escaped ordinary character is too.
        assert!(refused(r#"{"title": "a\tb\r\nc \u4e2d", "items": []}"#).is_empty());
    }

    #[test]
    fn a_struct_is_not_read_from_an_array() {
        for bad in [
            r#"[[{"date": "2026-01-01", "kind": "holiday"}]]"#,
            r#"{"days": [["2026-01-01", "holiday"]]}"#,
            "[]",
        ] {
            let (status, e) = error_of(bad);
            assert_eq!((status, e.code.as_ref()), (422, "wrong_type"), "{bad}");
        }
        let (_, e) = error_of(r#"{"days": [["2026-01-01", "holiday"]]}"#);
        assert_eq!(e.pointer.as_deref(), Some("/days/0"));
    }

    #[test]
    fn a_number_for_an_enumeration_is_a_wrong_type() {
        let (status, e) = error_of(r#"{"days": [{"date": "2026-01-01", "kind": 1}]}"#);
        assert_eq!(
            (status, e.pointer.as_deref(), e.code.as_ref()),
            (422, Some("/days/0/kind"), "wrong_type")
        );
    }

    #[test]
    fn null_is_refused_where_only_absence_is_allowed() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Patch {
            #[serde(default, deserialize_with = "present")]
            name: Option<String>,
        }
        assert!(parse_json::<Patch>(b"{}").unwrap().name.is_none());
        let e = parse_json::<Patch>(br#"{"name": null}"#).unwrap_err();
        assert_eq!(
            (
                e.errors()[0].pointer.as_deref(),
                e.errors()[0].code.as_ref()
            ),
            (Some("/name"), "wrong_type")
        );
    }

    #[test]
    fn unreadable_json_is_400() {
        // Cut short or not UTF-8 after a field that is already wrong: still 400.
        for bad in [
            r#"{"days": ["#,
            "not json",
            r#"{"days": []} trailing"#,
            "",
            r#"{"extra": "#,
        ] {
            let e = parse_json::<Year>(bad.as_bytes()).unwrap_err();
            assert_eq!(
                (e.status().as_u16(), e.code()),
                (400, "malformed_json"),
                "{bad}"
            );
        }
        let e = parse_json::<Year>(b"{\"extra\": \"\xff\"}").unwrap_err();
        assert_eq!((e.status().as_u16(), e.code()), (400, "malformed_json"));
    }
}
