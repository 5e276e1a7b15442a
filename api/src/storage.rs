//! The object store of attachments (issue 11), named by `JIBAN_STORAGE_URL`:
//!
//! | form | store |
//! |---|---|
//! | `file://./data/attachments` (the default) | a local folder (`object_store`'s `LocalFileSystem`), created at start |
//! | `s3://bucket?endpoint=http://host:9000&region=us-east-1` | any S3-compatible store (MinIO, Ceph, a cloud's), path-style requests; credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`) |
//!
//! Objects are keyed by a random id (a UUID v7, so keys sort by time), never by the file's
//! name. Uploads go up in parts read from the spooled file, so memory stays bounded by a
//! part (1 MiB for the folder; 5 MiB, S3's smallest part, for S3) whatever the file's
//! size. Downloads stream.
//!
//! The store's state is information for `/readyz` and `/metrics` (`jiban_storage_up`,
//! `jiban_storage_errors_total`, `jiban_storage_orphans_deleted_total`): a store outage
//! fails uploads and downloads with 503, never the node's readiness.
//!
//! S3 goes through `object_store`'s `aws-base` with reqwest and rustls on ring, as lettre
//! and ureq already use, installed as rustls's process default here: the `aws` feature
//! would bring aws-lc-rs, which needs cmake and a C toolchain (DEPENDENCIES.md).

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{
    BackoffConfig, ClientOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt, RetryConfig,
    WriteMultipart,
};
use serde::Serialize;
use tokio::io::AsyncReadExt;

/// The default store: a folder beside the SQLite file's default.
pub const DEFAULT_STORAGE_URL: &str = "file://./data/attachments";

/// Where attachments are kept, as configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Folder(PathBuf),
    S3 {
        bucket: String,
        endpoint: Option<String>,
        region: Option<String>,
    },
}

impl Location {
    /// Parses `JIBAN_STORAGE_URL`; the error says what is wrong (never a secret: the URL
    /// holds none, credentials come from the environment).
    pub fn parse(raw: &str) -> Result<Location, String> {
        if let Some(path) = raw.strip_prefix("file://") {
            if path.is_empty() {
                return Err("file:// needs a folder, e.g. file://./data/attachments".into());
            }
            return Ok(Location::Folder(PathBuf::from(path)));
        }
        if raw.starts_with("s3://") {
            let url = url::Url::parse(raw).map_err(|e| format!("{raw:?} is not a URL: {e}"))?;
            let bucket = url.host_str().unwrap_or_default().to_owned();
            if bucket.is_empty() {
                return Err("s3:// needs a bucket, e.g. s3://attachments?region=…".into());
            }
            if !matches!(url.path(), "" | "/") {
                return Err("s3://bucket takes no path: objects are keyed at the root".into());
            }
            let (mut endpoint, mut region) = (None, None);
            for (key, value) in url.query_pairs() {
                match key.as_ref() {
                    "endpoint" => {
                        if !(value.starts_with("http://") || value.starts_with("https://")) {
                            return Err(format!("endpoint {value:?} is not an http(s) URL"));
                        }
                        endpoint = Some(value.trim_end_matches('/').to_owned());
                    }
                    "region" => region = Some(value.into_owned()),
                    other => {
                        return Err(format!(
                            "unknown parameter {other:?}: use endpoint and region"
                        ));
                    }
                }
            }
            return Ok(Location::S3 {
                bucket,
                endpoint,
                region,
            });
        }
        Err(format!(
            "{raw:?}: use file://FOLDER or s3://BUCKET?endpoint=…&region=…"
        ))
    }

    /// For logs and `/readyz`: the folder or the bucket and endpoint.
    pub fn describe(&self) -> String {
        match self {
            Location::Folder(p) => format!("file://{}", p.display()),
            Location::S3 {
                bucket, endpoint, ..
            } => match endpoint {
                Some(e) => format!("s3://{bucket} at {e}"),
                None => format!("s3://{bucket}"),
            },
        }
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The object is not there (a download whose object vanished, a range past its end).
    #[error("no such object")]
    NotFound,
    /// The store did not answer or refused: 503 to the client.
    #[error("the attachment store failed: {0}")]
    Unavailable(String),
}

impl From<object_store::Error> for StorageError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => StorageError::NotFound,
            other => StorageError::Unavailable(other.to_string()),
        }
    }
}

impl From<std::io::Error> for StorageError {
    fn from(e: std::io::Error) -> Self {
        StorageError::Unavailable(format!("reading the spooled file: {e}"))
    }
}

/// The store, and its counters for `/metrics`.
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    location: Location,
    /// Bytes per uploaded part: what an upload holds in memory at most (twice, while one
    /// part is sent and the next filled).
    part_bytes: usize,
    up: AtomicBool,
    errors: AtomicU64,
    orphans_deleted: AtomicU64,
}

/// How long one request to the store may take, and how long to try to connect.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The state `/readyz` shows.
#[derive(Serialize)]
pub struct StorageState {
    pub status: &'static str,
    pub location: String,
}

impl Storage {
    /// Opens the store (creating the folder) without touching the network.
    pub fn open(location: Location) -> Result<Storage, String> {
        let (store, part_bytes): (Arc<dyn ObjectStore>, usize) = match &location {
            Location::Folder(path) => {
                std::fs::create_dir_all(path)
                    .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
                let store = LocalFileSystem::new_with_prefix(path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                (Arc::new(store), 1024 * 1024)
            }
            Location::S3 {
                bucket,
                endpoint,
                region,
            } => {
                // reqwest's rustls needs a process-wide provider: ring (the module's
                // comment). A second call finds it installed, which is fine.
                let _ = rustls::crypto::ring::default_provider().install_default();
                let mut options = ClientOptions::new()
                    .with_timeout(REQUEST_TIMEOUT)
                    .with_connect_timeout(CONNECT_TIMEOUT);
                let mut builder = AmazonS3Builder::new()
                    .with_bucket_name(bucket)
                    .with_region(region.as_deref().unwrap_or("us-east-1"))
                    .with_virtual_hosted_style_request(false)
                    // A store that does not answer fails the request in seconds, so the
                    // client gets its 503 instead of waiting minutes.
                    .with_retry(RetryConfig {
                        backoff: BackoffConfig::default(),
                        max_retries: 2,
                        retry_timeout: Duration::from_secs(10),
                    });
                if let Some(endpoint) = endpoint {
                    if endpoint.starts_with("http://") {
                        options = options.with_allow_http(true);
                    }
                    builder = builder.with_endpoint(endpoint);
                }
                let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
                if let Some(id) = env("AWS_ACCESS_KEY_ID") {
                    builder = builder.with_access_key_id(id);
                }
                if let Some(secret) = env("AWS_SECRET_ACCESS_KEY") {
                    builder = builder.with_secret_access_key(secret);
                }
                if let Some(token) = env("AWS_SESSION_TOKEN") {
                    builder = builder.with_token(token);
                }
                let store = builder
                    .with_client_options(options)
                    .build()
                    .map_err(|e| format!("s3://{bucket}: {e}"))?;
                (Arc::new(store), 5 * 1024 * 1024)
            }
        };
        Ok(Storage {
            store,
            location,
            part_bytes,
            up: AtomicBool::new(true),
            errors: AtomicU64::new(0),
            orphans_deleted: AtomicU64::new(0),
        })
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Records an operation's outcome: the store is up after a success, down after a
    /// failure (a missing object is the store answering).
    fn record<T>(&self, result: Result<T, StorageError>) -> Result<T, StorageError> {
        match &result {
            Ok(_) | Err(StorageError::NotFound) => self.up.store(true, Ordering::Relaxed),
            Err(StorageError::Unavailable(e)) => {
                tracing::warn!(error = %e, "attachment store failed");
                self.errors.fetch_add(1, Ordering::Relaxed);
                self.up.store(false, Ordering::Relaxed);
            }
        }
        result
    }

    /// Stores the whole of `file` under `key`, in parts (bounded memory); an upload that
    /// fails is aborted, so the store keeps nothing of it.
    pub async fn put_file(
        &self,
        key: &str,
        file: &mut tokio::fs::File,
    ) -> Result<(), StorageError> {
        let result = self.put_parts(key, file).await;
        self.record(result)
    }

    async fn put_parts(&self, key: &str, file: &mut tokio::fs::File) -> Result<(), StorageError> {
        let upload = self.store.put_multipart(&ObjectPath::from(key)).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, self.part_bytes);
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let read = match file.read(&mut buffer).await {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(e.into());
                }
            };
            // One part in flight while the next fills: two parts of memory at most.
            if let Err(e) = writer.wait_for_capacity(1).await {
                let _ = writer.abort().await;
                return Err(e.into());
            }
            writer.write(&buffer[..read]);
        }
        writer.finish().await?;
        Ok(())
    }

    /// The object's bytes in `range` (all of it when `None`), as a stream.
    pub async fn get(
        &self,
        key: &str,
        range: Option<Range<u64>>,
    ) -> Result<BoxStream<'static, Result<Bytes, std::io::Error>>, StorageError> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let result = self
            .store
            .get_opts(&ObjectPath::from(key), options)
            .await
            .map_err(StorageError::from);
        let stream = self.record(result)?.into_stream();
        Ok(stream.map_err(std::io::Error::other).boxed())
    }

    /// Deletes an object; a missing one is no error.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let result = match self.store.delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        };
        self.record(result)
    }

    /// The keys of objects last modified before `before`.
    pub async fn keys_before(&self, before: DateTime<Utc>) -> Result<Vec<String>, StorageError> {
        let listed: Result<Vec<_>, _> = self.store.list(None).try_collect().await;
        let listed = self.record(listed.map_err(StorageError::from))?;
        Ok(listed
            .into_iter()
            .filter(|meta| meta.last_modified < before)
            .map(|meta| meta.location.to_string())
            .collect())
    }

    /// Asks the store whether it answers, and records the answer. A folder must exist as
    /// a folder; an S3 bucket must exist: a listing under a prefix nothing has is cheap,
    /// and answers NoSuchBucket for a missing bucket (a HEAD of a missing key would
    /// answer 404 for both).
    pub async fn probe(&self) -> bool {
        let result = match &self.location {
            Location::Folder(path) => match tokio::fs::metadata(path).await {
                Ok(meta) if meta.is_dir() => Ok(()),
                Ok(_) => Err(StorageError::Unavailable(format!(
                    "{} is not a folder",
                    path.display()
                ))),
                Err(e) => Err(StorageError::Unavailable(format!(
                    "{}: {e}",
                    path.display()
                ))),
            },
            Location::S3 { .. } => {
                let prefix = ObjectPath::from(".jiban-probe");
                let mut listing = self.store.list(Some(&prefix));
                match listing.next().await {
                    None | Some(Ok(_)) => Ok(()),
                    Some(Err(e)) => Err(StorageError::Unavailable(e.to_string())),
                }
            }
        };
        self.record(result).is_ok()
    }

    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    pub fn count_orphans_deleted(&self, n: u64) {
        self.orphans_deleted.fetch_add(n, Ordering::Relaxed);
    }

    /// The state for `/readyz`'s body.
    pub fn state(&self) -> StorageState {
        StorageState {
            status: if self.is_up() { "up" } else { "down" },
            location: self.location.describe(),
        }
    }

    /// The store's lines of `/metrics`.
    pub fn render(&self, out: &mut String) {
        use std::fmt::Write as _;
        let _ = write!(
            out,
            "# HELP jiban_storage_up Whether the attachment store answered its last request or probe (1) or failed (0).\n\
             # TYPE jiban_storage_up gauge\njiban_storage_up {}\n\
             # HELP jiban_storage_errors_total Requests to the attachment store that failed on this node.\n\
             # TYPE jiban_storage_errors_total counter\njiban_storage_errors_total {}\n\
             # HELP jiban_storage_orphans_deleted_total Stored objects with no attachment row that this node's housekeeping deleted.\n\
             # TYPE jiban_storage_orphans_deleted_total counter\njiban_storage_orphans_deleted_total {}\n",
            u8::from(self.is_up()),
            self.errors.load(Ordering::Relaxed),
            self.orphans_deleted.load(Ordering::Relaxed),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_urls_parse_or_say_why_not() {
        assert_eq!(
            Location::parse(DEFAULT_STORAGE_URL),
            Ok(Location::Folder(PathBuf::from("./data/attachments")))
        );
        assert_eq!(
            Location::parse("s3://files?endpoint=http://127.0.0.1:9000/&region=cn-north-1"),
            Ok(Location::S3 {
                bucket: "files".into(),
                endpoint: Some("http://127.0.0.1:9000".into()),
                region: Some("cn-north-1".into()),
            })
        );
        for bad in [
            "ftp://x",
            "file://",
            "s3://",
            "s3://b/path",
            "s3://b?endpoint=ftp://x",
            "s3://b?secret=x",
        ] {
            assert!(Location::parse(bad).is_err(), "{bad}");
        }
    }
}
