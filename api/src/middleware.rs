//! The one middleware every request passes (DESIGN.md section 7, docs/API.md):
//!
//! - picks the request id ([`crate::request_id`]) and echoes it in `X-Request-Id`;
//! - runs the request inside a tracing span (method, route pattern, request id) and logs
//!   one line when it is answered (status, latency);
//! - counts it for `/metrics` by method, route pattern and status;
//! - makes sure every non-2xx body is problem+json: actix answers some statuses itself
//!   (405 for a known path with another method, 404 for an unknown one) with an empty
//!   body; those are replaced by the matching problem;
//! - marks every answer `X-Content-Type-Options: nosniff`, and every answer to a request
//!   that carried credentials (`Authorization`) `Cache-Control: no-store`, so no shared or
//!   browser cache keeps a user's data (issue 8).

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use tracing::Instrument;

use crate::problem::{self, PROBLEM_JSON};
use crate::request_id;
use crate::state::AppState;

/// The request id, for handlers that want it (`req.extensions().get::<RequestId>()`).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let id = request_id::pick(
        req.headers()
            .get(&request_id::HEADER)
            .map(HeaderValue::as_bytes),
    );
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().to_string();
    let authenticated = req.headers().contains_key(header::AUTHORIZATION);
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        route = tracing::field::Empty,
    );

    let res = request_id::scope(id.clone(), async move { next.call(req).await })
        .instrument(span.clone())
        .await?;

    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    span.record("route", route.as_str());
    let status = res.status();

    let mut res = if status.as_u16() >= 400 && !is_problem(&res) {
        // Keep what the original said about the resource (e.g. `Allow` on a 405).
        let allow = res.headers().get(header::ALLOW).cloned();
        let mut replacement = span.in_scope(|| problem::for_status(status).to_response(Some(&id)));
        if let Some(allow) = allow {
            replacement.headers_mut().insert(header::ALLOW, allow);
        }
        res.into_response(replacement)
    } else {
        res.map_into_boxed_body()
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(request_id::HEADER, value);
    }
    res.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if authenticated {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }

    let latency = started.elapsed();
    if let Some(state) = state {
        state
            .metrics
            .observe(&method, &route, status.as_u16(), latency);
    }
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            latency_ms = latency.as_secs_f64() * 1000.0,
            "answered"
        )
    });
    Ok(res)
}

fn is_problem<B>(res: &ServiceResponse<B>) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()))
}
