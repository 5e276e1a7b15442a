//! CSV bodies: `POST /v1/enterprises` and `POST /v1/users` with `Content-Type: text/csv`
//! are imports (`crate::import`; docs/API.md, "Importing").
//!
//! [`is_csv`] is the guard that sends such a request to the import handler; every other
//! body goes on to the JSON handler as before. [`CsvBody`] reads at most
//! [`import::BYTES_MAX`](crate::import::BYTES_MAX) bytes and, like
//! [`JsonBody`](super::JsonBody), keeps its failure until the handler asks, after the role
//! check.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::guard::GuardContext;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap};
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest};

use crate::import::BYTES_MAX;
use crate::problem::ApiError;

/// Whether the request's body is declared CSV (`text/csv`, any parameters).
pub fn is_csv(ctx: &GuardContext<'_>) -> bool {
    super::media_type(ctx.head().headers()).as_deref() == Some("text/csv")
}

/// Whether the declared `charset` (RFC 4180 section 3), if any, is one an import reads:
/// UTF-8, or US-ASCII, which is a part of it. Another (GBK, UTF-16) is 415.
fn charset_is_utf8(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return true;
    };
    value
        .split(';')
        .skip(1)
        .all(|parameter| match parameter.split_once('=') {
            Some((name, charset)) if name.trim().eq_ignore_ascii_case("charset") => {
                let charset = charset.trim().trim_matches('"');
                ["utf-8", "utf8", "us-ascii"]
                    .iter()
                    .any(|ok| charset.eq_ignore_ascii_case(ok))
            }
            _ => true,
        })
}

/// A CSV body of at most [`BYTES_MAX`] bytes, or why it could not be read: 413 when
/// larger, 415 for a charset other than UTF-8, 400 when the connection failed.
pub struct CsvBody(Result<Bytes, ApiError>);

impl CsvBody {
    pub fn into_inner(self) -> Result<Bytes, ApiError> {
        self.0
    }
}

impl FromRequest for CsvBody {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let utf8 = charset_is_utf8(req.headers());
        let declared = super::declared_length(req);
        let payload = payload.take();
        Box::pin(async move {
            if !utf8 {
                return Ok(CsvBody(Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "send the CSV file in UTF-8: Content-Type: text/csv; charset=utf-8",
                ))));
            }
            Ok(CsvBody(
                super::read_limited(payload, declared, BYTES_MAX).await,
            ))
        })
    }
}
