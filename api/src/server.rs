//! `jiban serve` and `jiban migrate` (DESIGN.md section 8).
//!
//! Start-up, in order: configuration, logs, the pool, migrations (under an advisory lock
//! on PostgreSQL), reference data, the first admin, the JWT secret, then the HTTP server.
//! Once bound it prints `jiban listening on http://ADDR` on stdout (with `JIBAN_BIND=…:0`
//! that is how a caller learns the port). SIGTERM or SIGINT stop it gracefully: no new
//! connections, requests in flight finish (up to 30 s).

use std::fs::OpenOptions;
use std::io::{self, Read as _, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpServer, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiban_persistence::{DbUrl, Pool, PoolConfig, build_pool, migrate};

use crate::auth::PrincipalCache;
use crate::auth::jwt::Keys;
use crate::auth::password::PasswordWorkers;
use crate::config::{Config, MIN_JWT_SECRET_LEN, Secret};
use crate::db::Db;
use crate::mail::Mailer;
use crate::metrics::Metrics;
use crate::ratelimit::WriteLimiter;
use crate::rules::RulesCache;
use crate::state::AppState;
use crate::usecase::bootstrap::{self, ADMIN_USERNAME, Admin};
use crate::workers;
use tokio::sync::watch;

/// Requests in flight get this long to finish after SIGTERM.
const SHUTDOWN_TIMEOUT_SECONDS: u64 = 30;
/// The generated JWT secret's file in the data folder.
const JWT_SECRET_FILE: &str = "jwt_secret";
/// How long a node keeps the rules (calendar, SLA table, categories) before reading them
/// again: an admin's edit reaches the other nodes within this.
const RULES_CACHE_SECONDS: u64 = 10;

/// A start-up failure: logged, and the process exits non-zero.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(String),
    #[error("database: {0}")]
    Database(String),
    #[error("JWT secret: {0}")]
    Secret(String),
    #[error("cannot listen on {bind}: {error}")]
    Bind { bind: String, error: io::Error },
    #[error("server: {0}")]
    Server(io::Error),
}

/// Runs `jiban serve` to the end.
pub fn serve(config: Config) -> ExitCode {
    crate::telemetry::init(config.log_format);
    match start(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "jiban serve stopped");
            ExitCode::FAILURE
        }
    }
}

/// Runs `jiban migrate`: applies pending migrations and says how many.
pub fn migrate_only(config: Config) -> ExitCode {
    crate::telemetry::init(config.log_format);
    let applied = open_pool(&config, 1).and_then(|pool| run_migrations(&pool));
    match applied {
        Ok(n) => {
            println!("jiban: applied {n} migrations");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!(error = %e, "jiban migrate failed");
            ExitCode::FAILURE
        }
    }
}

pub fn open_pool(config: &Config, size: u32) -> Result<Pool, StartError> {
    let url: DbUrl = config.database_url.expose().parse().map_err(
        |e: jiban_persistence::conn::UnsupportedUrl| {
            StartError::Config(format!("JIBAN_DATABASE_URL: {e}"))
        },
    )?;
    tracing::info!(backend = ?url.backend(), "connecting to the database");
    build_pool(
        &url,
        &PoolConfig {
            max_size: size,
            ..PoolConfig::default()
        },
    )
    .map_err(|e| StartError::Database(e.to_string()))
}

pub fn run_migrations(pool: &Pool) -> Result<usize, StartError> {
    let mut conn = pool
        .get()
        .map_err(|e| StartError::Database(e.to_string()))?;
    let applied =
        migrate::run_pending(&mut conn).map_err(|e| StartError::Database(e.to_string()))?;
    tracing::info!(applied, "migrations are current");
    Ok(applied)
}

fn start(config: Config) -> Result<(), StartError> {
    let pool = open_pool(&config, config.pool_size)?;
    run_migrations(&pool)?;
    prepare_data(&pool, &config)?;
    let secret = jwt_secret(&config)?;

    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.bind));
    let rules = Arc::new(RulesCache::new(Duration::from_secs(RULES_CACHE_SECONDS)));
    let workers = Arc::new(workers::Stats::default());
    let settings = worker_settings(&config, &public_url);
    let storage = Arc::new(
        crate::storage::Storage::open(config.storage.clone())
            .map_err(|e| StartError::Config(format!("JIBAN_STORAGE_URL: {e}")))?,
    );
    tracing::info!(store = %config.storage.describe(), "attachment store");
    let temp_dir = config
        .attachment_temp_dir
        .clone()
        .unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&temp_dir).map_err(|e| {
        StartError::Config(format!(
            "JIBAN_ATTACHMENT_TEMP_DIR {}: {e}",
            temp_dir.display()
        ))
    })?;
    let state = web::Data::new(AppState {
        storage: storage.clone(),
        attachments: crate::attachment::Limits {
            max_bytes: config.attachment_max_bytes,
            per_ticket: config.attachments_per_ticket,
            temp_dir,
        },
        db: Db::new(pool.clone()),
        keys: Keys::new(secret.expose().as_bytes()),
        principals: PrincipalCache::new(Duration::from_secs(config.auth_cache_seconds)),
        passwords: PasswordWorkers::start(PasswordWorkers::default_size())
            .map_err(StartError::Server)?,
        session_days: config.session_days,
        metrics: Metrics::default(),
        write_limiter: WriteLimiter::new(config.rate_limit_per_minute),
        public_url,
        enterprise_ticket_url: settings.enterprise_ticket_url.clone(),
        rules: rules.clone(),
        workers: workers.clone(),
        score_weights: config.score_weights,
        webhook_allow_private: config.webhook_allow_private,
    });

    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(move || crate::app::app(state.clone()))
            .shutdown_timeout(SHUTDOWN_TIMEOUT_SECONDS)
            .bind(&config.bind)
            .map_err(|error| StartError::Bind {
                bind: config.bind.clone(),
                error,
            })?;
        let (stop, stopped) = watch::channel(false);
        let housekeeping = workers::spawn_housekeeping(
            pool.clone(),
            workers.clone(),
            workers::Orphans {
                storage,
                grace: Duration::from_secs(config.attachment_orphan_grace_seconds),
            },
            stopped.clone(),
            workers::HOUSEKEEPING_INTERVAL,
        );
        let mut handles = if config.alerts {
            let mailer = mailer(&config)?;
            workers::spawn(pool, rules, settings, mailer, workers, stopped)
        } else {
            tracing::info!("JIBAN_ALERTS=off: no deadline scanner and no mail sender on this node");
            workers.set_mode("off");
            Vec::new()
        };
        handles.push(housekeeping);
        for addr in server.addrs() {
            tracing::info!(%addr, "listening");
        }
        if let Some(addr) = server.addrs().first() {
            // The one line a supervisor or a test reads to learn the port.
            let mut out = io::stdout().lock();
            let _ = writeln!(out, "jiban listening on http://{addr}");
            let _ = out.flush();
        }
        // SIGTERM or SIGINT: the HTTP server drains first, then the workers finish what
        // they hold and give back the rest.
        let served = server.run().await.map_err(StartError::Server);
        let _ = stop.send(true);
        let stopping = async {
            for handle in handles {
                let _ = handle.await;
            }
        };
        if tokio::time::timeout(Duration::from_secs(SHUTDOWN_TIMEOUT_SECONDS), stopping)
            .await
            .is_err()
        {
            tracing::warn!(
                "the workers did not stop in time; their claims return when their leases end"
            );
        }
        served
    })
}

/// What the workers read from the configuration.
pub fn worker_settings(config: &Config, public_url: &str) -> workers::Settings {
    workers::Settings {
        public_url: public_url.to_owned(),
        enterprise_ticket_url: config
            .enterprise_ticket_url
            .as_ref()
            .map(|t| t.as_str().to_owned()),
        max_rejections: i32::try_from(config.mail_max_attempts).unwrap_or(i32::MAX),
        webhook_max_attempts: i32::try_from(config.webhook_max_attempts).unwrap_or(i32::MAX),
        webhook_allow_private: config.webhook_allow_private,
        scan_interval: Duration::from_secs(config.scan_interval_seconds),
        send_interval: Duration::from_secs(config.send_interval_seconds),
    }
}

/// The mailer, or `None` (with one warning) when no SMTP server is configured: the server
/// still starts and the mail waits in the outbox. Call inside the actix system.
pub fn mailer(config: &Config) -> Result<Option<Mailer>, StartError> {
    let Some(smtp) = &config.smtp else {
        tracing::warn!(
            "JIBAN_SMTP_URL is not set: alerts and notifications are recorded and their mail \
             waits in the outbox until a mail server is configured"
        );
        return Ok(None);
    };
    let ca = config.smtp_ca.as_ref().map(|c| c.pem.as_slice());
    Mailer::new(smtp, config.mail_from.clone(), ca)
        .map(Some)
        .map_err(|e| StartError::Config(e.to_string()))
}

/// Seeds the reference data and creates the first admin; prints a generated password on
/// stdout, once (it is never logged).
fn prepare_data(pool: &Pool, config: &Config) -> Result<(), StartError> {
    let mut conn = pool
        .get()
        .map_err(|e| StartError::Database(e.to_string()))?;
    let now = crate::now();
    let seeded = bootstrap::seed_reference(&mut conn, now)
        .map_err(|e| StartError::Database(e.to_string()))?;
    if !seeded.calendar_years.is_empty() || seeded.sla_classes > 0 {
        tracing::info!(years = ?seeded.calendar_years, sla_classes = seeded.sla_classes, "seeded reference data");
    }
    let admin = bootstrap::ensure_admin(&mut conn, config.admin_password.as_ref(), now)
        .map_err(|e| StartError::Database(e.to_string()))?;
    match admin {
        Admin::Existing => {}
        Admin::Created => {
            tracing::info!(
                username = ADMIN_USERNAME,
                "created the first admin with JIBAN_ADMIN_PASSWORD"
            );
        }
        Admin::CreatedWithPassword(password) => {
            tracing::warn!(
                username = ADMIN_USERNAME,
                "created the first admin with a generated password, printed on stdout once"
            );
            let mut out = io::stdout().lock();
            let _ = writeln!(
                out,
                "jiban: created user \"{ADMIN_USERNAME}\" with the generated password: {password}"
            );
            let _ = writeln!(
                out,
                "jiban: it is shown only this once; store it now (or set JIBAN_ADMIN_PASSWORD before the first start)"
            );
            let _ = out.flush();
        }
    }
    Ok(())
}

/// The configured secret, or one generated on first start and kept in the data folder.
fn jwt_secret(config: &Config) -> Result<Secret, StartError> {
    if let Some(secret) = &config.jwt_secret {
        return Ok(secret.clone());
    }
    let dir = config.data_dir();
    let path = dir.join(JWT_SECRET_FILE);
    let (secret, created) = load_or_create_secret(&path)
        .map_err(|e| StartError::Secret(format!("{}: {e}", path.display())))?;
    tracing::warn!(
        file = %path.display(),
        created,
        "JIBAN_JWT_SECRET is not set: using a secret kept in the data folder; \
         several nodes must share one configured JIBAN_JWT_SECRET, or tokens from one node \
         fail on the others"
    );
    Ok(secret)
}

/// Reads the secret at `path`, or creates it: 32 random bytes, base64url, readable by the
/// owner only (0600). Written to a temporary file and hard-linked into place, so two
/// processes starting at once agree on one secret and never read a half-written file.
fn load_or_create_secret(path: &Path) -> io::Result<(Secret, bool)> {
    if let Some(secret) = read_secret(path)? {
        return Ok((secret, false));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| io::Error::other(e.to_string()))?;
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    let temporary = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
    {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)?;
        file.write_all(secret.as_bytes())?;
        file.sync_all()?;
    }
    let linked = std::fs::hard_link(&temporary, path);
    std::fs::remove_file(&temporary)?;
    match linked {
        Ok(()) => Ok((Secret::new(secret), true)),
        // Another process won the race: use its secret.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => read_secret(path)?
            .map(|s| (s, false))
            .ok_or_else(|| io::Error::other("the secret file vanished")),
        Err(e) => Err(e),
    }
}

fn read_secret(path: &Path) -> io::Result<Option<Secret>> {
    let mut text = String::new();
    match std::fs::File::open(path) {
        Ok(mut file) => file.read_to_string(&mut text)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let text = text.trim();
    if text.len() < MIN_JWT_SECRET_LEN {
        return Err(io::Error::other(format!(
            "the stored secret is shorter than {MIN_JWT_SECRET_LEN} characters"
        )));
    }
    Ok(Some(Secret::new(text)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn the_secret_file_is_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join(JWT_SECRET_FILE);
        let (first, created) = load_or_create_secret(&path).unwrap();
        assert!(created);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (again, created) = load_or_create_secret(&path).unwrap();
        assert!(!created);
        assert_eq!(first, again);
        assert!(first.expose().len() >= MIN_JWT_SECRET_LEN);
        let left: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
    }
}
