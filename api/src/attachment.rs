//! Reading an upload (issue 11): the multipart body of `POST /v1/tickets/{id}/attachments`,
//! each `file` part streamed to a temporary file (`JIBAN_ATTACHMENT_TEMP_DIR`) while it is
//! hashed (SHA-256), counted against `JIBAN_ATTACHMENT_MAX_BYTES` and checked for text, so
//! no file is ever held in memory; then each file's type is detected from its content
//! (`jiban_domain::attachment`), reading only its head and, for a ZIP archive, its central
//! directory. A temporary file is removed when its [`Spooled`] is dropped, whatever the
//! outcome.

use std::io::SeekFrom;
use std::path::PathBuf;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use futures_util::StreamExt;
use jiban_domain::attachment::{self, AcceptedType, Content, HEAD_BYTES, TextCheck, zip};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use crate::problem::{ApiError, FieldError};

/// Attachments' limits and spool folder (`JIBAN_ATTACHMENT_MAX_BYTES`,
/// `JIBAN_ATTACHMENTS_PER_TICKET`, `JIBAN_ATTACHMENT_TEMP_DIR`).
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_bytes: u64,
    pub per_ticket: u64,
    pub temp_dir: PathBuf,
}

/// One `file` part, spooled.
pub struct Spooled {
    /// Removed on drop.
    pub file: tempfile::NamedTempFile,
    /// Cleaned ([`attachment::clean_filename`]).
    pub filename: String,
    /// The part's `Content-Type`, if it had one.
    pub declared: Option<String>,
    pub size: u64,
    /// Lowercase hex.
    pub sha256: String,
    head: Vec<u8>,
    text: bool,
}

/// The body of an upload, read.
pub struct Upload {
    pub files: Vec<Spooled>,
    pub internal: bool,
}

/// The longest value of the `internal` part.
const INTERNAL_MAX: usize = 16;
/// How much of a refused upload's remaining body is read (and dropped) so that the client,
/// which is still sending, reads the refusal instead of a reset connection.
const DRAIN_MAX: u64 = 64 * 1024 * 1024;

/// 409 `attachment_limit`: the ticket holds, or would hold, more than `limit` files.
pub fn limit_reached(limit: u64) -> ApiError {
    ApiError::conflict(
        "attachment_limit",
        format!("a ticket holds at most {limit} attachments"),
    )
}

fn too_large(filename: &str, max: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "attachment_too_large",
        format!("{filename:?} is larger than {max} bytes; nothing was stored"),
    )
}

fn malformed(e: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(
        "malformed_multipart",
        format!("the multipart/form-data body cannot be read: {e}"),
    )
}

fn spool_failed(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("spooling an upload: {e}"))
}

/// Whether the request's media type is `multipart/form-data` (415 otherwise, before the
/// body is read).
pub fn require_multipart(req: &actix_web::HttpRequest) -> Result<(), ApiError> {
    let media = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if media.as_deref() == Some("multipart/form-data") {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the files as multipart/form-data, one or more parts named file",
        ))
    }
}

/// Reads the body: at most `slots` files (the ticket's remaining room; more is 409
/// `attachment_limit` at once), each at most `limits.max_bytes` (413 at once), and the
/// optional `internal` part. Any other part is 422 naming it; no `file` part is 422
/// naming `file`.
pub async fn read(mut body: Multipart, limits: &Limits, slots: u64) -> Result<Upload, ApiError> {
    let mut files = Vec::new();
    let mut internal = None;
    let mut read_so_far = 0u64;
    while let Some(field) = body.next().await {
        let mut field = field.map_err(malformed)?;
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" => {
                if files.len() as u64 >= slots {
                    // A field must be dropped before the next is asked for.
                    drain_field(&mut field, DRAIN_MAX).await;
                    drop(field);
                    drain(&mut body, DRAIN_MAX).await;
                    return Err(limit_reached(limits.per_ticket));
                }
                // A file part names its file (`curl -F file=@path`, a browser's file
                // input); a `file` field without one is a value, not a file.
                let Some(raw_name) = field
                    .content_disposition()
                    .and_then(|d| d.get_filename())
                    .map(str::to_owned)
                else {
                    return Err(ApiError::invalid_field(
                        "/file",
                        "not_a_file",
                        "a file part carries its file name, e.g. curl -F file=@licence.pdf",
                    ));
                };
                let filename = attachment::clean_filename(&raw_name);
                let declared = field.content_type().map(|m| m.essence_str().to_owned());
                match spool(&mut field, limits, filename, declared).await? {
                    Ok(spooled) => {
                        read_so_far += spooled.size;
                        files.push(spooled);
                    }
                    Err(refusal) => {
                        // The temporary file is gone already; let the client finish.
                        drain_field(&mut field, DRAIN_MAX).await;
                        drop(field);
                        drain(&mut body, DRAIN_MAX.saturating_sub(read_so_far)).await;
                        return Err(refusal);
                    }
                }
            }
            "internal" => {
                let mut value = Vec::new();
                while let Some(chunk) = field.next().await {
                    let chunk = chunk.map_err(malformed)?;
                    value.extend_from_slice(&chunk);
                    if value.len() > INTERNAL_MAX {
                        break;
                    }
                }
                internal = Some(match value.as_slice() {
                    b"true" => true,
                    b"false" => false,
                    _ => {
                        return Err(ApiError::invalid_field(
                            "/internal",
                            "invalid",
                            "internal is true or false",
                        ));
                    }
                });
            }
            other => {
                return Err(ApiError::invalid(vec![FieldError::body(
                    format!("/{other}"),
                    "unknown_field",
                    "an upload has only file parts and an optional internal part",
                )]));
            }
        }
    }
    if files.is_empty() {
        return Err(ApiError::invalid_field(
            "/file",
            "required",
            "send one or more parts named file, e.g. curl -F file=@licence.pdf",
        ));
    }
    Ok(Upload {
        files,
        internal: internal.unwrap_or(false),
    })
}

/// Streams one part to a temporary file. `Ok(Err(413))` when it passes the limit: the
/// temporary file is removed before this returns.
async fn spool(
    field: &mut actix_multipart::Field,
    limits: &Limits,
    filename: String,
    declared: Option<String>,
) -> Result<Result<Spooled, ApiError>, ApiError> {
    let temp = tempfile::Builder::new()
        .prefix("jiban-upload-")
        .tempfile_in(&limits.temp_dir)
        .map_err(spool_failed)?;
    let mut out = tokio::fs::File::from_std(temp.reopen().map_err(spool_failed)?);
    let mut hasher = Sha256::new();
    let mut text = TextCheck::default();
    let mut head = Vec::with_capacity(HEAD_BYTES);
    let mut size = 0u64;
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(malformed)?;
        size += chunk.len() as u64;
        if size > limits.max_bytes {
            drop(out);
            drop(temp);
            return Ok(Err(too_large(&filename, limits.max_bytes)));
        }
        hasher.update(&chunk);
        text.feed(&chunk);
        if head.len() < HEAD_BYTES {
            let take = (HEAD_BYTES - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        out.write_all(&chunk).await.map_err(spool_failed)?;
    }
    out.flush().await.map_err(spool_failed)?;
    Ok(Ok(Spooled {
        file: temp,
        filename,
        declared,
        size,
        sha256: format!("{:x}", hasher.finalize()),
        head,
        text: text.finish(),
    }))
}

async fn drain_field(field: &mut actix_multipart::Field, max: u64) {
    let mut read = 0u64;
    while read < max {
        match field.next().await {
            Some(Ok(chunk)) => read += chunk.len() as u64,
            _ => break,
        }
    }
}

async fn drain(body: &mut Multipart, max: u64) {
    let mut read = 0u64;
    while read < max {
        let Some(Ok(mut field)) = body.next().await else {
            break;
        };
        while let Some(Ok(chunk)) = field.next().await {
            read += chunk.len() as u64;
            if read >= max {
                return;
            }
        }
    }
}

impl Spooled {
    /// The file's accepted type, or 415 naming it (issue 11): from its content, held to
    /// the type the client declared.
    pub async fn detect(&self) -> Result<AcceptedType, ApiError> {
        let zip_names = if zip::is_zip(&self.head) {
            self.zip_names().await.map_err(spool_failed)?
        } else {
            None
        };
        let content = Content {
            head: &self.head,
            text: self.text,
            zip_names,
        };
        attachment::detect(&content)
            .and_then(|detected| {
                attachment::check_declared(self.declared.as_deref(), detected)?;
                Ok(detected)
            })
            .map_err(|refusal| {
                ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_attachment_type",
                    refusal.describe(&self.filename),
                )
            })
    }

    /// The names in the archive's central directory, read from the spooled file's end.
    async fn zip_names(&self) -> std::io::Result<Option<Vec<String>>> {
        let mut file = tokio::fs::File::open(self.file.path()).await?;
        let tail_len = self.size.min(zip::TAIL_BYTES as u64);
        file.seek(SeekFrom::Start(self.size - tail_len)).await?;
        let mut tail = vec![0; tail_len as usize];
        file.read_exact(&mut tail).await?;
        let Some((offset, length)) = zip::directory_range(&tail, self.size) else {
            return Ok(None);
        };
        file.seek(SeekFrom::Start(offset)).await?;
        let mut directory = vec![0; length as usize];
        file.read_exact(&mut directory).await?;
        Ok(Some(zip::entry_names(&directory)))
    }

    /// The spooled file, opened for reading from its start.
    pub async fn open(&self) -> std::io::Result<tokio::fs::File> {
        tokio::fs::File::open(self.file.path()).await
    }
}
