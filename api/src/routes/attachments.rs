//! Attachments (issue 11): upload files to a ticket, list them, download one.
//!
//! An upload: role (admins act on no ticket: 403) → the ticket in scope (404) →
//! `multipart/form-data` (415) → the ticket's room (409 `attachment_limit`) → each `file`
//! part spooled, hashed and counted (413 at the limit, nothing kept) → each file's type
//! from its content (415 naming the file) → each stored (503 when the store fails) → the
//! rows and `attachment_added` entries in one transaction (409 if the room went
//! meanwhile; the objects just stored are deleted). Whatever is refused, nothing is kept:
//! temporary files go when dropped, and an object whose row was never written is deleted
//! here or, after a crash, by housekeeping.

use std::ops::Range;

use actix_multipart::Multipart;
use actix_web::body::SizedStream;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use jiban_domain::attachment::NewAttachment;
use jiban_domain::values::{AttachmentId, Role, TicketId, UserId};
use jiban_persistence::attachments::{Attachment, Stored};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use uuid::Uuid;

use crate::attachment::{self, Spooled};
use crate::auth::Authenticated;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::storage::StorageError;
use crate::usecase::attachments as usecase;
use crate::usecase::tickets::Env;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/tickets/{id}/attachments")
            .route(web::post().to(upload))
            .route(web::get().to(list)),
    )
    .service(web::resource("/v1/attachments/{id}").route(web::get().to(download)));
}

/// An attachment as clients read it.
#[derive(Serialize)]
pub struct AttachmentResponse {
    id: AttachmentId,
    ticket_id: TicketId,
    filename: String,
    content_type: String,
    size: u64,
    sha256: String,
    internal: bool,
    uploaded_by: UserId,
    #[serde(serialize_with = "crate::time::serialize")]
    created_at: DateTime<Utc>,
}

impl From<Attachment> for AttachmentResponse {
    fn from(a: Attachment) -> Self {
        AttachmentResponse {
            id: a.id,
            ticket_id: a.ticket_id,
            filename: a.filename,
            content_type: a.content_type,
            size: a.size,
            sha256: a.sha256,
            internal: a.internal,
            uploaded_by: a.uploaded_by,
            created_at: a.created_at,
        }
    }
}

#[derive(Serialize)]
struct ListResponse {
    items: Vec<AttachmentResponse>,
}

fn ticket_id(raw: &str) -> Result<TicketId, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found())
}

/// 503 `storage_unavailable`: the store failed; the node and its database are fine.
fn store_failed(e: StorageError) -> ApiError {
    let mut e = ApiError::unavailable(e);
    e.set_code(
        "storage_unavailable",
        "the attachment store is unavailable; retry shortly",
    );
    e
}

async fn upload(
    state: web::Data<AppState>,
    auth: Authenticated,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[
        Role::Enterprise,
        Role::Liaison,
        Role::Officer,
        Role::Supervisor,
    ])?;
    let id = ticket_id(&id)?;
    let actor = auth.into_actor();
    let limits = state.attachments.clone();
    let room = {
        let actor = actor.clone();
        let limit = limits.per_ticket;
        state
            .db
            .run(move |conn| usecase::room(conn, id, &actor, limit))
            .await?
    };
    attachment::require_multipart(&req)?;
    if room == 0 {
        return Err(attachment::limit_reached(limits.per_ticket));
    }
    let body = attachment::read(Multipart::new(req.headers(), payload), &limits, room).await?;
    if let Some(role) = actor.role() {
        jiban_domain::attachment::check_internal(body.internal, role)?;
    }
    let mut detected = Vec::with_capacity(body.files.len());
    for file in &body.files {
        detected.push(file.detect().await?);
    }
    let stored = store_all(&state, &body.files, &detected).await?;
    let now = crate::now();
    let state2 = state.clone();
    let files = stored.clone();
    let internal = body.internal;
    let written = state
        .db
        .run(move |conn| {
            let env = Env::of(&state2);
            usecase::add(
                conn,
                &env,
                id,
                &files,
                internal,
                limits.per_ticket,
                &actor,
                now,
            )
        })
        .await;
    match written {
        Ok(rows) => Ok(HttpResponse::Created().json(
            rows.into_iter()
                .map(AttachmentResponse::from)
                .collect::<Vec<_>>(),
        )),
        Err(e) => {
            forget(&state, &stored).await;
            Err(e)
        }
    }
}

/// Puts every spooled file to the store under a new random key; if one fails, the ones
/// already stored are deleted and the answer is 503.
async fn store_all(
    state: &AppState,
    files: &[Spooled],
    types: &[jiban_domain::attachment::AcceptedType],
) -> Result<Vec<Stored>, ApiError> {
    let mut stored = Vec::with_capacity(files.len());
    for (file, kind) in files.iter().zip(types) {
        let key = Uuid::now_v7().to_string();
        let mut reader = file
            .open()
            .await
            .map_err(|e| ApiError::internal(format!("reopening a spooled upload: {e}")))?;
        if let Err(e) = state.storage.put_file(&key, &mut reader).await {
            forget(state, &stored).await;
            return Err(store_failed(e));
        }
        stored.push(Stored {
            attachment: NewAttachment {
                id: AttachmentId::from_uuid(Uuid::now_v7()),
                filename: file.filename.clone(),
                content_type: kind.mime().to_owned(),
                size: file.size,
                sha256: file.sha256.clone(),
            },
            storage_key: key,
        });
    }
    Ok(stored)
}

/// Deletes objects whose rows were not written; housekeeping removes any this misses.
async fn forget(state: &AppState, stored: &[Stored]) {
    for s in stored {
        if let Err(e) = state.storage.delete(&s.storage_key).await {
            tracing::warn!(key = %s.storage_key, error = %e, "an unrecorded object stays for housekeeping");
        }
    }
}

async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = ticket_id(&id)?;
    let actor = auth.into_actor();
    let rows = state
        .db
        .run(move |conn| usecase::list(conn, id, &actor))
        .await?;
    Ok(HttpResponse::Ok().json(ListResponse {
        items: rows.into_iter().map(AttachmentResponse::from).collect(),
    }))
}

async fn download(
    state: web::Data<AppState>,
    auth: Authenticated,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: AttachmentId = id.parse().map_err(|_| ApiError::not_found())?;
    let actor = auth.into_actor();
    let found = state
        .db
        .run(move |conn| usecase::get(conn, id, &actor))
        .await?;
    let etag = format!("\"{}\"", found.sha256);
    let header_str = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    if header_str(header::IF_NONE_MATCH).is_some_and(|tags| none_match(tags, &found.sha256)) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish());
    }
    let (status, range) = match requested_range(header_str(header::RANGE), found.size) {
        Requested::Whole => (StatusCode::OK, None),
        Requested::Part(r) => (StatusCode::PARTIAL_CONTENT, Some(r)),
        Requested::Unsatisfiable => {
            let mut e = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                format!("the file has {} bytes", found.size),
            );
            e.set_header(header::CONTENT_RANGE, format!("bytes */{}", found.size));
            return Err(e);
        }
    };
    let stream = match state.storage.get(&found.storage_key, range.clone()).await {
        Ok(stream) => stream,
        Err(StorageError::NotFound) => {
            tracing::error!(key = %found.storage_key, "an attachment's object is missing from the store");
            return Err(store_failed(StorageError::Unavailable(
                "object missing".into(),
            )));
        }
        Err(e) => return Err(store_failed(e)),
    };
    let length = range.as_ref().map_or(found.size, |r| r.end - r.start);
    let mut response = HttpResponse::build(status);
    response
        .insert_header((header::CONTENT_TYPE, served_type(&found.content_type)))
        .insert_header((
            header::CONTENT_DISPOSITION,
            content_disposition(&found.filename),
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::ETAG, etag))
        .insert_header((header::ACCEPT_RANGES, "bytes"));
    if let Some(r) = &range {
        response.insert_header((
            header::CONTENT_RANGE,
            format!("bytes {}-{}/{}", r.start, r.end - 1, found.size),
        ));
    }
    Ok(response.body(SizedStream::new(length, stream)))
}

/// Text is answered with its charset: it was checked to be UTF-8.
fn served_type(stored: &str) -> String {
    if stored == "text/plain" {
        "text/plain; charset=utf-8".to_owned()
    } else {
        stored.to_owned()
    }
}

/// The characters RFC 8187's `attr-char` allows unencoded in `filename*`.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `attachment` with the name twice (RFC 6266 section 4.3): `filename*` in UTF-8, so a
/// Chinese name survives, and an ASCII `filename` for clients that know no better.
fn content_disposition(filename: &str) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| {
            if c == ' ' || (c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '%')) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "attachment; filename=\"{fallback}\"; filename*=UTF-8''{}",
        utf8_percent_encode(filename, ATTR_CHAR)
    )
}

/// Whether `If-None-Match` names the file's tag (weak comparison, RFC 9110 section
/// 13.1.2), or is `*`.
fn none_match(header: &str, sha256: &str) -> bool {
    header
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag).trim_matches('"') == sha256)
}

#[derive(Debug, PartialEq, Eq)]
enum Requested {
    Whole,
    Part(Range<u64>),
    Unsatisfiable,
}

/// A `Range` header (RFC 9110 section 14): one range of bytes is served as 206; a range
/// that starts past the end is 416; anything this server does not serve (other units,
/// several ranges, a malformed header) is ignored, as the RFC allows, and the whole file
/// sent.
fn requested_range(header: Option<&str>, size: u64) -> Requested {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Requested::Whole;
    };
    if spec.contains(',') {
        return Requested::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Requested::Whole;
    };
    let number = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (number(first), number(last), first.is_empty()) {
        // bytes=-N: the last N bytes.
        (None, Some(n), true) => {
            if n == 0 || size == 0 {
                Requested::Unsatisfiable
            } else {
                Requested::Part(size - n.min(size)..size)
            }
        }
        (Some(start), end, false) if last.is_empty() || end.is_some() => {
            if end.is_some_and(|end| end < start) {
                return Requested::Whole;
            }
            if start >= size {
                return Requested::Unsatisfiable;
            }
            let end = end.map_or(size, |e| e.min(size - 1) + 1);
            Requested::Part(start..end)
        }
        _ => Requested::Whole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_byte_ranges_are_served_and_others_ignored() {
        use Requested::*;
        let r = |h: &str| requested_range(Some(h), 100);
        assert_eq!(requested_range(None, 100), Whole);
        assert_eq!(r("bytes=0-9"), Part(0..10));
        assert_eq!(r("bytes=90-"), Part(90..100));
        assert_eq!(r("bytes=90-1000"), Part(90..100));
        assert_eq!(r("bytes=-10"), Part(90..100));
        assert_eq!(r("bytes=-1000"), Part(0..100));
        assert_eq!(r("bytes=100-"), Unsatisfiable);
        assert_eq!(r("bytes=-0"), Unsatisfiable);
        assert_eq!(r("bytes=5-1"), Whole);
        assert_eq!(r("bytes=0-1,5-6"), Whole);
        assert_eq!(r("items=0-1"), Whole);
        assert_eq!(r("bytes=x-1"), Whole);
        assert_eq!(requested_range(Some("bytes=0-"), 0), Unsatisfiable);
    }

    #[test]
    fn a_chinese_file_name_survives_in_filename_star() {
        let d = content_disposition("营业执照 2026.pdf");
        assert_eq!(
            d,
            "attachment; filename=\"____ 2026.pdf\"; filename*=UTF-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7%202026.pdf"
        );
    }

    #[test]
    fn if_none_match_compares_weakly() {
        assert!(none_match("\"abc\"", "abc"));
        assert!(none_match("W/\"abc\", \"x\"", "abc"));
        assert!(none_match("*", "abc"));
        assert!(!none_match("\"abd\"", "abc"));
    }
}
