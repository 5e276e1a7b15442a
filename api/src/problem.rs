//! One error type for every non-2xx answer: [`ApiError`], rendered as RFC 9457
//! `application/problem+json` (DESIGN.md section 7, docs/API.md).
//!
//! ```json
//! {"type": "https://jiban.dev/problems/invalid_input", "title": "Unprocessable Entity",
//!  "status": 422, "detail": "…", "code": "invalid_input", "request_id": "…",
//!  "errors": [{"pointer": "/title", "code": "too_long", "detail": "…"}]}
//! ```
//!
//! Domain refusals map by their kind, storage errors by theirs, and actix's own extractor
//! errors (JSON, path, query) go through the handlers at the bottom of this file. A 5xx
//! body never carries the cause: it is logged with the request id instead.

use std::borrow::Cow;
use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use jiban_domain::values::ValueError;
use jiban_domain::{DomainError, ErrorKind};
use jiban_persistence::StoreError;
use serde::Serialize;

use crate::request_id;

pub const PROBLEM_JSON: &str = "application/problem+json";
/// Each problem type is `PROBLEM_TYPE_BASE` + its code; docs/API.md lists them.
pub const PROBLEM_TYPE_BASE: &str = "https://jiban.dev/problems/";

/// One invalid input: a body field (`pointer`, RFC 6901, e.g. `/days/3/date`), a query
/// or path parameter (`parameter`), or a line of an imported CSV file (`line`, with the
/// column's name in `field` when the fault is in one cell; [`crate::import`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// The line of a CSV file, as a spreadsheet numbers it (the header is line 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The CSV column at fault on `line`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub code: Cow<'static, str>,
    pub detail: String,
}

impl FieldError {
    /// A body field; `pointer` is a JSON pointer (`""` is the whole body).
    pub fn body(
        pointer: impl Into<String>,
        code: impl Into<Cow<'static, str>>,
        detail: impl Into<String>,
    ) -> Self {
        FieldError {
            pointer: Some(pointer.into()),
            parameter: None,
            line: None,
            field: None,
            code: code.into(),
            detail: detail.into(),
        }
    }

    /// A query or path parameter.
    pub fn parameter(
        name: impl Into<String>,
        code: impl Into<Cow<'static, str>>,
        detail: impl Into<String>,
    ) -> Self {
        FieldError {
            pointer: None,
            parameter: Some(name.into()),
            line: None,
            field: None,
            code: code.into(),
            detail: detail.into(),
        }
    }

    /// A line of an imported CSV file, and the column at fault if the fault is in a cell.
    pub fn line(
        line: u64,
        field: Option<&str>,
        code: impl Into<Cow<'static, str>>,
        detail: impl Into<String>,
    ) -> Self {
        FieldError {
            pointer: None,
            parameter: None,
            line: Some(line),
            field: field.map(str::to_owned),
            code: code.into(),
            detail: detail.into(),
        }
    }

    /// A value that did not parse into its domain type.
    pub fn value(pointer: impl Into<String>, error: &ValueError) -> Self {
        FieldError::body(pointer, error.code(), error.to_string())
    }
}

/// Everything a non-2xx answer says. Build it with the constructors; handlers return
/// `Result<_, ApiError>` and `?` converts domain and storage errors. Boxed, so that a
/// `Result` stays small on the happy path.
#[derive(Debug)]
pub struct ApiError(Box<Inner>);

#[derive(Debug)]
struct Inner {
    status: StatusCode,
    code: Cow<'static, str>,
    detail: String,
    errors: Vec<FieldError>,
    /// `Retry-After`, in seconds (429, 503).
    retry_after: Option<u64>,
    /// `WWW-Authenticate` (401).
    www_authenticate: Option<&'static str>,
    /// What went wrong inside, for the log only (5xx).
    cause: Option<String>,
    /// Any other header the answer needs (a 416's `Content-Range`).
    headers: Vec<(header::HeaderName, String)>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        detail: impl Into<String>,
    ) -> Self {
        ApiError(Box::new(Inner {
            status,
            code: code.into(),
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
            www_authenticate: None,
            cause: None,
            headers: Vec::new(),
        }))
    }

    /// 400: the body cannot be read (not JSON, truncated).
    pub fn bad_request(code: impl Into<Cow<'static, str>>, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    /// 401 with `WWW-Authenticate: Bearer` (RFC 6750 section 3). `invalid_token` says the
    /// token was there but is not acceptable; without it, none was sent.
    pub fn unauthorized(code: impl Into<Cow<'static, str>>, detail: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, code, detail);
        e.0.www_authenticate = Some(r#"Bearer realm="jiban""#);
        e
    }

    pub fn invalid_token(detail: impl Into<String>) -> Self {
        let mut e = Self::unauthorized("invalid_token", detail);
        e.0.www_authenticate = Some(r#"Bearer realm="jiban", error="invalid_token""#);
        e
    }

    /// 403: the caller is known, and its role may not do this.
    pub fn not_permitted() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "not_permitted",
            "your role may not do this",
        )
    }

    /// 404: no such resource, or not one the caller may see (ids do not leak).
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
    }

    pub fn conflict(code: impl Into<Cow<'static, str>>, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    /// 422 listing every invalid field.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => match one.pointer.as_deref().or(one.parameter.as_deref()) {
                Some(at) if !at.is_empty() => format!("{at}: {}", one.detail),
                _ => one.detail.clone(),
            },
            _ => format!("{} fields are invalid", errors.len()),
        };
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", detail);
        e.0.errors = errors;
        e
    }

    /// 422 listing every bad line of an imported CSV file ([`FieldError::line`]); nothing
    /// was written.
    pub fn invalid_lines(mut errors: Vec<FieldError>) -> Self {
        // By line, and within a line in the order found; one entry per cell (the first
        // found, as `Fields` keeps one per pointer).
        errors.sort_by_key(|e| e.line);
        let mut seen = std::collections::HashSet::new();
        errors.retain(|e| e.field.is_none() || seen.insert((e.line, e.field.clone())));
        let lines = {
            let mut lines: Vec<Option<u64>> = errors.iter().map(|e| e.line).collect();
            lines.dedup();
            lines.len()
        };
        let detail = match errors.as_slice() {
            [one] => {
                let at = match (one.line, &one.field) {
                    (Some(line), Some(field)) => format!("line {line}, field {field}"),
                    (Some(line), None) => format!("line {line}"),
                    _ => "the file".to_owned(),
                };
                format!("{at}: {}; nothing was imported", one.detail)
            }
            _ if lines == 1 => format!(
                "{} errors on one line of the file; nothing was imported",
                errors.len()
            ),
            _ => format!("{lines} lines of the file are invalid; nothing was imported"),
        };
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", detail);
        e.0.errors = errors;
        e
    }

    /// 422 for one body field.
    pub fn invalid_field(
        pointer: impl Into<String>,
        code: impl Into<Cow<'static, str>>,
        detail: impl Into<String>,
    ) -> Self {
        Self::invalid(vec![FieldError::body(pointer, code, detail)])
    }

    /// 429 with `Retry-After`.
    pub fn too_many_attempts(retry_after_seconds: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            format!("too many failed attempts; retry in {retry_after_seconds} s"),
        );
        e.0.retry_after = Some(retry_after_seconds.max(1));
        e
    }

    /// 429 `too_many_requests` with `Retry-After`: the caller's writes passed
    /// `JIBAN_RATE_LIMIT_PER_MINUTE` on this node ([`crate::ratelimit`]).
    pub fn too_many_requests(retry_after_seconds: u64, per_minute: u32) -> Self {
        let retry_after_seconds = retry_after_seconds.max(1);
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            format!("more than {per_minute} writes a minute; retry in {retry_after_seconds} s"),
        );
        e.0.retry_after = Some(retry_after_seconds);
        e
    }

    /// 500: a bug or broken invariant. The body says only "internal error"; `cause` goes
    /// to the log with the request id.
    pub fn internal(cause: impl fmt::Display) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "internal error",
        );
        e.0.cause = Some(cause.to_string());
        e
    }

    /// 503: the database cannot be reached or is busy; retrying may work.
    pub fn unavailable(cause: impl fmt::Display) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the service is temporarily unavailable; retry shortly",
        );
        e.0.cause = Some(cause.to_string());
        e.0.retry_after = Some(1);
        e
    }

    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// Another code and detail for the same status (e.g. a 503 that names the attachment
    /// store rather than the database).
    pub fn set_code(&mut self, code: impl Into<Cow<'static, str>>, detail: impl Into<String>) {
        self.0.code = code.into();
        self.0.detail = detail.into();
    }

    /// A header the problem's answer carries.
    pub fn set_header(&mut self, name: header::HeaderName, value: String) {
        self.0.headers.push((name, value));
    }

    pub fn code(&self) -> &str {
        &self.0.code
    }

    pub fn detail(&self) -> &str {
        &self.0.detail
    }

    pub fn errors(&self) -> &[FieldError] {
        &self.0.errors
    }

    /// The problem document with the given request id.
    pub fn to_response(&self, request_id: Option<&str>) -> HttpResponse {
        if let Some(cause) = &self.0.cause {
            if self.0.status.is_server_error() && self.0.status != StatusCode::SERVICE_UNAVAILABLE {
                tracing::error!(code = %self.0.code, cause = %cause, "request failed");
            } else {
                tracing::warn!(code = %self.0.code, cause = %cause, "request refused");
            }
        }
        let body = Problem {
            kind: format!("{PROBLEM_TYPE_BASE}{}", self.0.code),
            title: self.0.status.canonical_reason().unwrap_or("Error"),
            status: self.0.status.as_u16(),
            detail: &self.0.detail,
            code: &self.0.code,
            request_id,
            errors: &self.0.errors,
        };
        let mut response = HttpResponse::build(self.0.status);
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        if let Some(seconds) = self.0.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        if let Some(challenge) = self.0.www_authenticate {
            response.insert_header((header::WWW_AUTHENTICATE, challenge));
        }
        for (name, value) in &self.0.headers {
            response.insert_header((name.clone(), value.as_str()));
        }
        // serde_json cannot fail on this struct of strings and numbers.
        response.body(serde_json::to_vec(&body).unwrap_or_default())
    }
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [FieldError],
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.0.status.as_u16(),
            self.0.code,
            self.0.detail
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.0.status
    }

    /// Called inside the request's task, where [`request_id::current`] is set.
    fn error_response(&self) -> HttpResponse {
        self.to_response(request_id::current().as_deref())
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e.kind() {
            ErrorKind::NotFound => ApiError::not_found(),
            ErrorKind::Forbidden => ApiError::new(StatusCode::FORBIDDEN, e.code(), e.to_string()),
            ErrorKind::Conflict => ApiError::conflict(e.code(), e.to_string()),
            ErrorKind::Invalid => {
                let pointer = e.field().map(|f| format!("/{f}")).unwrap_or_default();
                let detail = match &e {
                    DomainError::InvalidField { error, .. } => error.to_string(),
                    DomainError::Refused { message, .. } => (*message).to_owned(),
                    other => other.to_string(),
                };
                ApiError::invalid(vec![FieldError::body(pointer, e.code(), detail)])
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found(),
            // The database's message names tables and constraints: logged, not shown. Use
            // cases check what they can first and answer with a specific code.
            StoreError::Conflict(message) => {
                tracing::info!(%message, "write refused by a constraint");
                ApiError::conflict(
                    "conflict",
                    "the change conflicts with the current data; reload and retry",
                )
            }
            StoreError::Unavailable(cause) => ApiError::unavailable(cause),
            StoreError::Other(cause) => ApiError::internal(cause),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        StoreError::from(e).into()
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::internal(format!("blocking task failed: {e}"))
    }
}

// ---------------------------------------------------------------------------------------
// actix's own extractor errors, routed through the same renderer
// ---------------------------------------------------------------------------------------

/// `web::Json` failures (the api's own [`crate::extract::JsonBody`] does better, with
/// pointers; this covers any handler that uses actix's extractor).
pub fn json_error(err: actix_web::error::JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    let api = match &err {
        E::Overflow { .. } | E::OverflowKnownLength { .. } => payload_too_large(),
        E::ContentType => unsupported_media_type(),
        E::Deserialize(e) if e.is_data() => {
            crate::extract::deserialize_error(e.to_string(), String::new())
        }
        E::Deserialize(e) => malformed_json(e),
        _ => ApiError::bad_request("unreadable_body", "the request body could not be read"),
    };
    api.into()
}

/// A path segment that does not parse (`/v1/users/not-a-uuid`) names no resource.
pub fn path_error(_err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::not_found().into()
}

/// `web::Query` failures: the query string does not fit the handler's parameters.
pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &HttpRequest,
) -> actix_web::Error {
    query_problem(&err.to_string()).into()
}

/// A query string the route's parameters cannot take, as a 422 whose `errors` name the
/// parameter (issue 8): an unknown one (`unknown_parameter`, with the ones the route
/// takes), one given twice (`duplicate_parameter`), or another shape error.
fn query_problem(message: &str) -> ApiError {
    // serde's words: "unknown field `x`, expected one of `a`, `b`", "duplicate field `x`".
    let named = |prefix: &str| {
        message
            .find(prefix)
            .map(|at| &message[at + prefix.len()..])
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    let error = if let Some(name) = named("unknown field `") {
        let known: Vec<&str> = message
            .split_once("expected")
            .map(|(_, rest)| rest.split('`').skip(1).step_by(2).collect())
            .unwrap_or_default();
        let detail = if known.is_empty() {
            "this route takes no such parameter".to_owned()
        } else {
            format!(
                "this route takes no such parameter; it takes {}",
                known.join(", ")
            )
        };
        FieldError::parameter(name, "unknown_parameter", detail)
    } else if let Some(name) = named("duplicate field `") {
        FieldError::parameter(name, "duplicate_parameter", "give this parameter once")
    } else {
        FieldError::parameter("", "invalid_query", "the query string cannot be read")
    };
    let mut e = ApiError::invalid(vec![error]);
    e.0.code = "invalid_query".into();
    e
}

pub fn payload_too_large() -> ApiError {
    body_too_large(crate::extract::BODY_LIMIT)
}

/// 413 `payload_too_large` for a body over `limit` bytes (64 KiB for JSON, more for a CSV
/// import).
pub fn body_too_large(limit: usize) -> ApiError {
    let size = if limit.is_multiple_of(1024 * 1024) {
        format!("{} MiB", limit / (1024 * 1024))
    } else {
        format!("{} KiB", limit / 1024)
    };
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the request body is larger than {size}"),
    )
}

pub fn unsupported_media_type() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "send the body as JSON with Content-Type: application/json",
    )
}

pub fn malformed_json(e: &serde_json::Error) -> ApiError {
    ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
}

/// A generic problem for a status that reached the client without one (actix's own 404
/// and 405, a 413 from the payload reader): every non-2xx body is problem+json.
pub fn for_status(status: StatusCode) -> ApiError {
    let (code, detail) = match status {
        StatusCode::NOT_FOUND => ("not_found", "no such resource"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this resource does not support that method",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => return payload_too_large(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => return unsupported_media_type(),
        s if s.is_server_error() => {
            return ApiError::internal(format!("status {s} without a problem"));
        }
        _ => ("error", status.canonical_reason().unwrap_or("error")),
    };
    ApiError::new(status, code, detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody as _;
    use jiban_domain::values::ValueError;

    fn body(e: &ApiError) -> serde_json::Value {
        let bytes = e
            .to_response(Some("req-1"))
            .into_body()
            .try_into_bytes()
            .unwrap_or_default();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn domain_refusals_map_by_kind() {
        let invalid = ApiError::from(DomainError::InvalidField {
            field: "title",
            error: ValueError::TooLong { max: 200 },
        });
        let b = body(&invalid);
        assert_eq!(b["status"], 422);
        assert_eq!(b["code"], "invalid_input");
        assert_eq!(b["request_id"], "req-1");
        assert_eq!(b["errors"][0]["pointer"], "/title");
        assert_eq!(b["errors"][0]["code"], "too_long");
        assert_eq!(
            ApiError::from(DomainError::NotFound).status(),
            StatusCode::NOT_FOUND
        );
        let forbidden = ApiError::from(DomainError::NotPermitted("admins act on no ticket"));
        assert_eq!(
            (forbidden.status().as_u16(), forbidden.code()),
            (403, "not_permitted")
        );
        let conflict = ApiError::from(DomainError::InfoAlreadyRequested);
        assert_eq!(
            (conflict.status().as_u16(), conflict.code()),
            (409, "info_already_requested")
        );
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let e = query_problem("unknown field `role2`, expected one of `role`, `limit`");
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.code(), "invalid_query");
        let f = &e.errors()[0];
        assert_eq!(
            (f.parameter.as_deref(), &*f.code),
            (Some("role2"), "unknown_parameter")
        );
        assert!(f.detail.contains("role, limit"), "{}", f.detail);
        let e = query_problem("duplicate field `status`");
        assert_eq!(&*e.errors()[0].code, "duplicate_parameter");
        let e = query_problem("something else");
        assert_eq!(&*e.errors()[0].code, "invalid_query");
    }

    #[test]
    fn internal_errors_say_nothing_more() {
        let e = ApiError::from(StoreError::Other(
            "relation \"secret_table\" does not exist".into(),
        ));
        let b = body(&e);
        assert_eq!(b["status"], 500);
        assert_eq!(b["detail"], "internal error");
        assert!(!b.to_string().contains("secret_table"));
        let e = ApiError::from(StoreError::Conflict(
            "duplicate key value violates \"users_pkey\"".into(),
        ));
        assert_eq!(e.status(), StatusCode::CONFLICT);
        assert!(!body(&e).to_string().contains("users_pkey"));
        let e = ApiError::from(StoreError::Unavailable("connection refused".into()));
        let response = e.to_response(None);
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().contains_key(header::RETRY_AFTER));
    }
}
