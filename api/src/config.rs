//! Configuration (DESIGN.md section 8): environment variables, over an optional TOML file
//! named by `JIBAN_CONFIG`, over defaults that serve a laptop.
//!
//! | variable | TOML key | default |
//! |---|---|---|
//! | `JIBAN_DATABASE_URL` | `database_url` | `sqlite://./data/jiban.db` |
//! | `JIBAN_BIND` | `bind` | `127.0.0.1:8080` |
//! | `JIBAN_JWT_SECRET` | `jwt_secret` | generated once, kept in the data folder |
//! | `JIBAN_ADMIN_PASSWORD` | `admin_password` | generated and printed once |
//! | `JIBAN_LOG_FORMAT` | `log_format` | `text` (`json` for production) |
//! | `JIBAN_POOL_SIZE` | `pool_size` | 8 |
//! | `JIBAN_PUBLIC_URL` | `public_url` | `http://<bind>` |
//! | `JIBAN_AUTH_CACHE_SECONDS` | `auth_cache_seconds` | 30 |
//! | `JIBAN_SESSION_DAYS` | `session_days` | 30 (1 to 365): a login's refresh chain ends then |
//! | `JIBAN_RATE_LIMIT_PER_MINUTE` | `rate_limit_per_minute` | 120 writes per user per node (0: off; at most 100000) |
//! | `JIBAN_SMTP_URL` | `smtp_url` | unset: no mail is sent, alerts stay queued |
//! | `JIBAN_SMTP_CA_FILE` | `smtp_ca_file` | unset: the webpki (Mozilla) roots only |
//! | `JIBAN_MAIL_FROM` | `mail_from` | `jiban@localhost` |
//! | `JIBAN_MAIL_MAX_ATTEMPTS` | `mail_max_attempts` | 8 (1 to 100) |
//! | `JIBAN_ENTERPRISE_TICKET_URL` | `enterprise_ticket_url` | unset: links use the public URL |
//! | `JIBAN_ALERTS` | `alerts` | `on` (`off`: `jiban serve` runs no scanner or sender) |
//! | `JIBAN_SCAN_INTERVAL_SECONDS` | `scan_interval_seconds` | 30 (1 to 3600) |
//! | `JIBAN_SEND_INTERVAL_SECONDS` | `send_interval_seconds` | 5 (1 to 3600) |
//! | `JIBAN_SCORE_WEIGHTS` | `score_weights` | `10/50/40`: the composite score's percentages of 响应率, 解决率 and 满意率 (DESIGN.md section 6), adding up to 100 |
//! | `JIBAN_WEBHOOK_MAX_ATTEMPTS` | `webhook_max_attempts` | 10 (1 to 100): failed deliveries of one webhook row before it is dead |
//! | `JIBAN_WEBHOOK_ALLOW_PRIVATE` | `webhook_allow_private` | `false` (`true`: webhooks may reach loopback, private and link-local addresses; for tests and closed networks) |
//! | `JIBAN_STORAGE_URL` | `storage_url` | `file://./data/attachments`; or `s3://bucket?endpoint=…&region=…` (credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`) |
//! | `JIBAN_ATTACHMENT_MAX_BYTES` | `attachment_max_bytes` | 20971520 (20 MiB; 1 to 1 GiB): the largest file accepted |
//! | `JIBAN_ATTACHMENTS_PER_TICKET` | `attachments_per_ticket` | 100 (1 to 10000) |
//! | `JIBAN_ATTACHMENT_TEMP_DIR` | `attachment_temp_dir` | the system's temporary folder: where uploads are spooled |
//! | `JIBAN_ATTACHMENT_ORPHAN_GRACE_SECONDS` | `attachment_orphan_grace_seconds` | 3600: how old a stored object with no row must be before housekeeping deletes it |
//!
//! Secrets (the JWT secret, the admin password, the database URL, which may hold a
//! password, and the SMTP password) are [`Secret`]s: their `Debug` prints `***`, and they
//! have no `Display`.
//!
//! `JIBAN_SMTP_URL` is parsed here into [`SmtpSettings`], so that a bad URL stops start-up
//! with its variable's name (and never its password):
//!
//! | form | connection | default port |
//! |---|---|---|
//! | `smtp://host[:port]` | plain, no TLS (a relay on localhost or a trusted network) | 25 |
//! | `smtp://host[:port]?tls=required` | STARTTLS, refused if the server does not offer it | 587 |
//! | `smtps://host[:port]` | TLS from the first byte (implicit TLS) | 465 |
//!
//! Each may carry `user:password@` before the host, percent-encoded (`%40` for `@`).

use std::fmt;
use std::path::{Path, PathBuf};

use lettre::message::Mailbox;
use serde::Deserialize;

pub const CONFIG_VAR: &str = "JIBAN_CONFIG";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/jiban.db";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_POOL_SIZE: u32 = 8;
/// How long a node trusts its cached copy of a user (role, department, stations, active).
/// Deactivation must stop access tokens within 60 s on every node (DESIGN.md section 7).
pub const DEFAULT_AUTH_CACHE_SECONDS: u64 = 30;
pub const MAX_AUTH_CACHE_SECONDS: u64 = 60;
/// A login's chain of refresh tokens ends this many days after the login, however often
/// it was refreshed.
pub const DEFAULT_SESSION_DAYS: u32 = 30;
pub const MAX_SESSION_DAYS: u32 = 365;
/// Authenticated writes per user per minute on one node (`crate::ratelimit`). Two a second
/// sustained, with a minute's allowance as a burst: more than a person clicks through a
/// busy client app or an enterprise system files in a normal run (a batch of tickets, a
/// dozen actions on each), while a client stuck in a retry loop is stopped within a
/// minute.
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = 120;
/// Above this a limit stops nothing a node could serve; a larger value is a typo.
pub const MAX_RATE_LIMIT_PER_MINUTE: u32 = 100_000;
/// HS256 keys shorter than the hash output (32 bytes) weaken it (RFC 7518 section 3.2).
pub const MIN_JWT_SECRET_LEN: usize = 32;
pub const DEFAULT_MAIL_FROM: &str = "jiban@localhost";
/// Permanent (5xx) rejections of one outbox row before it is `dead` (DESIGN.md section 5).
pub const DEFAULT_MAIL_MAX_ATTEMPTS: u32 = 8;
pub const MAX_MAIL_MAX_ATTEMPTS: u32 = 100;
/// Failed deliveries of one webhook row before it is `dead` (DESIGN.md section 5). With the
/// outbox's backoff (30 s doubling to 15 minutes) ten tries span about an hour and a
/// quarter: a receiver restarted or redeployed in that time misses nothing, and one down
/// longer waits for the admin's retry.
pub const DEFAULT_WEBHOOK_MAX_ATTEMPTS: u32 = 10;
pub const MAX_WEBHOOK_MAX_ATTEMPTS: u32 = 100;
/// The largest attachment (issue 11): 20 MiB, a scanned licence or a phone's photo with
/// room to spare.
pub const DEFAULT_ATTACHMENT_MAX_BYTES: u64 = 20 * 1024 * 1024;
pub const MAX_ATTACHMENT_MAX_BYTES: u64 = 1024 * 1024 * 1024;
/// Files per ticket (issue 11).
pub const DEFAULT_ATTACHMENTS_PER_TICKET: u64 = 100;
pub const MAX_ATTACHMENTS_PER_TICKET: u64 = 10_000;
/// An object with no row is an upload that died between the store and the database, or
/// one still in flight: an hour is far longer than any upload takes.
pub const DEFAULT_ATTACHMENT_ORPHAN_GRACE_SECONDS: u64 = 3600;
pub const DEFAULT_SCAN_INTERVAL_SECONDS: u64 = 30;
pub const DEFAULT_SEND_INTERVAL_SECONDS: u64 = 5;
/// An hour: a longer poll would let a 预警 warning arrive after its deadline.
pub const MAX_INTERVAL_SECONDS: u64 = 3600;
/// SMTP submission ports: RFC 5321 (relay), RFC 6409 (STARTTLS submission), RFC 8314
/// (implicit TLS submission).
pub const SMTP_PORT: u16 = 25;
pub const SMTP_STARTTLS_PORT: u16 = 587;
pub const SMTPS_PORT: u16 = 465;

/// A value that must never reach a log: no `Display`, and `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: Secret,
    pub bind: String,
    pub jwt_secret: Option<Secret>,
    pub admin_password: Option<Secret>,
    pub log_format: LogFormat,
    pub pool_size: u32,
    pub public_url: Option<String>,
    pub auth_cache_seconds: u64,
    pub session_days: u32,
    /// Writes per user per minute on this node; 0: no limit.
    pub rate_limit_per_minute: u32,
    /// `None`: no mail server; the server starts and notifications wait in the outbox.
    pub smtp: Option<SmtpSettings>,
    /// Extra roots for the mail server's certificate, read and checked at load.
    pub smtp_ca: Option<CaFile>,
    pub mail_from: Mailbox,
    pub mail_max_attempts: u32,
    pub enterprise_ticket_url: Option<TicketUrlTemplate>,
    /// Whether `jiban serve` runs the deadline scanner and the mail sender.
    pub alerts: bool,
    pub scan_interval_seconds: u64,
    pub send_interval_seconds: u64,
    /// The composite score's weights (DESIGN.md section 6).
    pub score_weights: jiban_domain::stats::Weights,
    /// Failed deliveries of one webhook row before it is dead.
    pub webhook_max_attempts: u32,
    /// Whether webhooks may reach loopback, private, link-local and other non-public
    /// addresses (`crate::webhook::address`); off but for tests and closed networks.
    pub webhook_allow_private: bool,
    /// Where attachments are stored (`crate::storage`).
    pub storage: crate::storage::Location,
    pub attachment_max_bytes: u64,
    pub attachments_per_ticket: u64,
    /// `None`: the system's temporary folder.
    pub attachment_temp_dir: Option<PathBuf>,
    pub attachment_orphan_grace_seconds: u64,
}

/// How the connection to the mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// No TLS at all (`smtp://`): only for a relay on the same host or a trusted network.
    Plain,
    /// STARTTLS, required (`smtp://…?tls=required`): a server that does not offer it is
    /// refused before any credentials or mail are sent.
    StartTls,
    /// TLS from the first byte (`smtps://`, RFC 8314).
    ImplicitTls,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpCredentials {
    pub user: String,
    pub password: Secret,
}

/// `JIBAN_SMTP_URL`, parsed (the forms are in the module's documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    /// A name or an IP address (IPv6 without brackets); TLS checks the certificate
    /// against it.
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub credentials: Option<SmtpCredentials>,
}

impl SmtpSettings {
    /// The reason for a refusal never quotes the URL, which may hold a password.
    pub fn parse(raw: &str) -> Result<SmtpSettings, String> {
        let url = url::Url::parse(raw.trim()).map_err(|e| format!("not a URL ({e})"))?;
        let scheme = url.scheme();
        if scheme != "smtp" && scheme != "smtps" {
            return Err(format!("the scheme {scheme:?} is not smtp or smtps"));
        }
        let host = match url.host() {
            Some(url::Host::Domain(name)) if !name.is_empty() => name.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err("it names no host".into()),
        };
        if !matches!(url.path(), "" | "/") {
            return Err("it has a path; use smtp://host:port".into());
        }
        if url.fragment().is_some() {
            return Err("it has a #fragment".into());
        }
        let mut security = match scheme {
            "smtps" => SmtpSecurity::ImplicitTls,
            _ => SmtpSecurity::Plain,
        };
        let mut seen_tls = false;
        for (key, value) in url.query_pairs() {
            match (key.as_ref(), value.as_ref()) {
                ("tls", _) if seen_tls => return Err("tls is given twice".into()),
                ("tls", _) if scheme == "smtps" => {
                    return Err("smtps:// is always TLS; drop ?tls=".into());
                }
                ("tls", "required") => {
                    seen_tls = true;
                    security = SmtpSecurity::StartTls;
                }
                ("tls", other) => return Err(format!("tls={other:?}: the only value is required")),
                (other, _) => {
                    return Err(format!("unknown parameter {other:?}: only tls=required"));
                }
            }
        }
        let port = url.port().unwrap_or(match security {
            SmtpSecurity::Plain => SMTP_PORT,
            SmtpSecurity::StartTls => SMTP_STARTTLS_PORT,
            SmtpSecurity::ImplicitTls => SMTPS_PORT,
        });
        if port == 0 {
            return Err("port 0 is not a port".into());
        }
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            ("", Some(_)) => return Err("it has a password but no user".into()),
            (_, None) => return Err("it has a user but no password".into()),
            (user, Some(password)) => Some(SmtpCredentials {
                user: percent_decode(user).ok_or("the user is not valid percent-encoded UTF-8")?,
                password: Secret(
                    percent_decode(password)
                        .ok_or("the password is not valid percent-encoded UTF-8")?,
                ),
            }),
        };
        if credentials.is_some() && security == SmtpSecurity::Plain && !is_loopback(&host) {
            return Err(
                "a password over smtp:// would cross the network unencrypted; use \
                        ?tls=required or smtps://"
                    .into(),
            );
        }
        Ok(SmtpSettings {
            host,
            port,
            security,
            credentials,
        })
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn percent_decode(raw: &str) -> Option<String> {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// `JIBAN_SMTP_CA_FILE`: the file's path and its PEM text, checked at load to hold at least
/// one certificate that rustls accepts as a root.
#[derive(Clone, PartialEq, Eq)]
pub struct CaFile {
    pub path: PathBuf,
    pub pem: Vec<u8>,
}

impl fmt::Debug for CaFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaFile")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl CaFile {
    pub fn read(path: &Path) -> Result<CaFile, String> {
        let pem =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        crate::mail::root_certificates(&pem).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(CaFile {
            path: path.to_path_buf(),
            pem,
        })
    }
}

/// `JIBAN_ENTERPRISE_TICKET_URL`: where an enterprise opens a ticket in its own client
/// app, with `{id}` (the ticket's UUID) and/or `{number}` (its ticket number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketUrlTemplate(String);

impl TicketUrlTemplate {
    pub const ID: &'static str = "{id}";
    pub const NUMBER: &'static str = "{number}";

    pub fn parse(raw: &str) -> Result<TicketUrlTemplate, String> {
        let raw = raw.trim();
        if !raw.contains(Self::ID) && !raw.contains(Self::NUMBER) {
            return Err("it has neither {id} nor {number}".into());
        }
        let lower = raw.to_ascii_lowercase();
        let after_scheme = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"));
        if !after_scheme.is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/')) {
            return Err("use an http:// or https:// URL with a host".into());
        }
        // Placeholders belong in the path, query or fragment: never in the host or port.
        let sample_number = "jb-sample-number";
        let sample = TicketUrlTemplate(raw.to_owned()).render(uuid::Uuid::nil(), sample_number);
        if sample.contains(['{', '}']) {
            return Err("only {id} and {number} may stand in braces".into());
        }
        let url = url::Url::parse(&sample).map_err(|e| format!("not a URL ({e})"))?;
        let host = url.host_str().unwrap_or_default();
        if !matches!(url.scheme(), "http" | "https")
            || host.is_empty()
            || host.contains(sample_number)
            || host.contains(&uuid::Uuid::nil().to_string())
        {
            return Err("use an http:// or https:// URL with a fixed host".into());
        }
        Ok(TicketUrlTemplate(raw.to_owned()))
    }

    /// The link for one ticket; the number is percent-encoded so it stays one path or
    /// query segment whatever it holds.
    pub fn render(&self, id: uuid::Uuid, number: &str) -> String {
        const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'_')
            .remove(b'.')
            .remove(b'~');
        self.0.replace(Self::ID, &id.to_string()).replace(
            Self::NUMBER,
            &percent_encoding::utf8_percent_encode(number, KEEP).to_string(),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a configuration file may hold: the same settings, lower-case, no others.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    database_url: Option<String>,
    bind: Option<String>,
    jwt_secret: Option<String>,
    admin_password: Option<String>,
    log_format: Option<String>,
    pool_size: Option<u32>,
    public_url: Option<String>,
    auth_cache_seconds: Option<u64>,
    session_days: Option<u32>,
    rate_limit_per_minute: Option<u32>,
    smtp_url: Option<String>,
    smtp_ca_file: Option<String>,
    mail_from: Option<String>,
    mail_max_attempts: Option<u32>,
    enterprise_ticket_url: Option<String>,
    alerts: Option<String>,
    scan_interval_seconds: Option<u64>,
    send_interval_seconds: Option<u64>,
    score_weights: Option<String>,
    webhook_max_attempts: Option<u32>,
    webhook_allow_private: Option<bool>,
    storage_url: Option<String>,
    attachment_max_bytes: Option<u64>,
    attachments_per_ticket: Option<u64>,
    attachment_temp_dir: Option<String>,
    attachment_orphan_grace_seconds: Option<u64>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {error}")]
    Read { path: String, error: String },
    #[error("the configuration file {path} is not valid: {error}")]
    Parse { path: String, error: String },
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl Config {
    /// From the process's environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::load(|name| std::env::var(name).ok())
    }

    /// From `var` (an environment lookup; tests pass a map). An empty variable counts as
    /// unset, so `JIBAN_JWT_SECRET=` does not configure an empty key.
    pub fn load(var: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let var = |name: &str| var(name).filter(|v| !v.is_empty());
        let file = match var(CONFIG_VAR) {
            Some(path) => read_file(Path::new(&path))?,
            None => File::default(),
        };
        let database_url = var("JIBAN_DATABASE_URL")
            .or(file.database_url)
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        let bind = var("JIBAN_BIND")
            .or(file.bind)
            .unwrap_or_else(|| DEFAULT_BIND.to_owned());
        let jwt_secret = var("JIBAN_JWT_SECRET").or(file.jwt_secret).map(Secret);
        if let Some(secret) = &jwt_secret
            && secret.expose().len() < MIN_JWT_SECRET_LEN
        {
            return Err(ConfigError::Invalid {
                name: "JIBAN_JWT_SECRET",
                reason: format!("use at least {MIN_JWT_SECRET_LEN} characters"),
            });
        }
        let admin_password = var("JIBAN_ADMIN_PASSWORD")
            .or(file.admin_password)
            .map(Secret);
        let log_format = match var("JIBAN_LOG_FORMAT").or(file.log_format).as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "JIBAN_LOG_FORMAT",
                    reason: format!("{other:?}: use text or json"),
                });
            }
        };
        let pool_size = match var("JIBAN_POOL_SIZE") {
            Some(raw) => parse_number("JIBAN_POOL_SIZE", &raw)?,
            None => file.pool_size.unwrap_or(DEFAULT_POOL_SIZE),
        };
        if !(1..=256).contains(&pool_size) {
            return Err(ConfigError::Invalid {
                name: "JIBAN_POOL_SIZE",
                reason: format!("{pool_size}: use 1 to 256"),
            });
        }
        let auth_cache_seconds = match var("JIBAN_AUTH_CACHE_SECONDS") {
            Some(raw) => parse_number("JIBAN_AUTH_CACHE_SECONDS", &raw)?,
            None => file
                .auth_cache_seconds
                .unwrap_or(DEFAULT_AUTH_CACHE_SECONDS),
        };
        if auth_cache_seconds > MAX_AUTH_CACHE_SECONDS {
            return Err(ConfigError::Invalid {
                name: "JIBAN_AUTH_CACHE_SECONDS",
                reason: format!(
                    "{auth_cache_seconds}: at most {MAX_AUTH_CACHE_SECONDS}, so that a \
                     deactivated user is locked out within a minute"
                ),
            });
        }
        let session_days = match var("JIBAN_SESSION_DAYS") {
            Some(raw) => parse_number("JIBAN_SESSION_DAYS", &raw)?,
            None => file.session_days.unwrap_or(DEFAULT_SESSION_DAYS),
        };
        if !(1..=MAX_SESSION_DAYS).contains(&session_days) {
            return Err(ConfigError::Invalid {
                name: "JIBAN_SESSION_DAYS",
                reason: format!("{session_days}: use 1 to {MAX_SESSION_DAYS}"),
            });
        }
        let rate_limit_per_minute = match var("JIBAN_RATE_LIMIT_PER_MINUTE") {
            Some(raw) => parse_number("JIBAN_RATE_LIMIT_PER_MINUTE", &raw)?,
            None => file
                .rate_limit_per_minute
                .unwrap_or(DEFAULT_RATE_LIMIT_PER_MINUTE),
        };
        if rate_limit_per_minute > MAX_RATE_LIMIT_PER_MINUTE {
            return Err(ConfigError::Invalid {
                name: "JIBAN_RATE_LIMIT_PER_MINUTE",
                reason: format!(
                    "{rate_limit_per_minute}: use 0 (no limit) to {MAX_RATE_LIMIT_PER_MINUTE}"
                ),
            });
        }
        let public_url = var("JIBAN_PUBLIC_URL")
            .or(file.public_url)
            .map(|u| u.trim_end_matches('/').to_owned());
        let smtp = var("JIBAN_SMTP_URL")
            .or(file.smtp_url)
            .map(|raw| SmtpSettings::parse(&raw))
            .transpose()
            .map_err(|reason| ConfigError::Invalid {
                name: "JIBAN_SMTP_URL",
                reason,
            })?;
        let smtp_ca = var("JIBAN_SMTP_CA_FILE")
            .or(file.smtp_ca_file)
            .map(|path| CaFile::read(Path::new(&path)))
            .transpose()
            .map_err(|reason| ConfigError::Invalid {
                name: "JIBAN_SMTP_CA_FILE",
                reason,
            })?;
        let mail_from_raw = var("JIBAN_MAIL_FROM")
            .or(file.mail_from)
            .unwrap_or_else(|| DEFAULT_MAIL_FROM.to_owned());
        let mail_from =
            mail_from_raw
                .trim()
                .parse::<Mailbox>()
                .map_err(|e| ConfigError::Invalid {
                    name: "JIBAN_MAIL_FROM",
                    reason: format!("{mail_from_raw:?} is not a mail address ({e})"),
                })?;
        let mail_max_attempts = match var("JIBAN_MAIL_MAX_ATTEMPTS") {
            Some(raw) => parse_number("JIBAN_MAIL_MAX_ATTEMPTS", &raw)?,
            None => file.mail_max_attempts.unwrap_or(DEFAULT_MAIL_MAX_ATTEMPTS),
        };
        if !(1..=MAX_MAIL_MAX_ATTEMPTS).contains(&mail_max_attempts) {
            return Err(ConfigError::Invalid {
                name: "JIBAN_MAIL_MAX_ATTEMPTS",
                reason: format!("{mail_max_attempts}: use 1 to {MAX_MAIL_MAX_ATTEMPTS}"),
            });
        }
        let enterprise_ticket_url = var("JIBAN_ENTERPRISE_TICKET_URL")
            .or(file.enterprise_ticket_url)
            .map(|raw| TicketUrlTemplate::parse(&raw))
            .transpose()
            .map_err(|reason| ConfigError::Invalid {
                name: "JIBAN_ENTERPRISE_TICKET_URL",
                reason,
            })?;
        let alerts = match var("JIBAN_ALERTS").or(file.alerts).as_deref() {
            None | Some("on") => true,
            Some("off") => false,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "JIBAN_ALERTS",
                    reason: format!("{other:?}: use on or off"),
                });
            }
        };
        let scan_interval_seconds = interval(
            "JIBAN_SCAN_INTERVAL_SECONDS",
            var("JIBAN_SCAN_INTERVAL_SECONDS"),
            file.scan_interval_seconds,
            DEFAULT_SCAN_INTERVAL_SECONDS,
        )?;
        let send_interval_seconds = interval(
            "JIBAN_SEND_INTERVAL_SECONDS",
            var("JIBAN_SEND_INTERVAL_SECONDS"),
            file.send_interval_seconds,
            DEFAULT_SEND_INTERVAL_SECONDS,
        )?;
        let score_weights = match var("JIBAN_SCORE_WEIGHTS").or(file.score_weights) {
            Some(raw) => raw
                .parse()
                .map_err(
                    |e: jiban_domain::stats::WeightsError| ConfigError::Invalid {
                        name: "JIBAN_SCORE_WEIGHTS",
                        reason: e.to_string(),
                    },
                )?,
            None => jiban_domain::stats::Weights::default(),
        };
        let webhook_max_attempts = match var("JIBAN_WEBHOOK_MAX_ATTEMPTS") {
            Some(raw) => parse_number("JIBAN_WEBHOOK_MAX_ATTEMPTS", &raw)?,
            None => file
                .webhook_max_attempts
                .unwrap_or(DEFAULT_WEBHOOK_MAX_ATTEMPTS),
        };
        if !(1..=MAX_WEBHOOK_MAX_ATTEMPTS).contains(&webhook_max_attempts) {
            return Err(ConfigError::Invalid {
                name: "JIBAN_WEBHOOK_MAX_ATTEMPTS",
                reason: format!("{webhook_max_attempts}: use 1 to {MAX_WEBHOOK_MAX_ATTEMPTS}"),
            });
        }
        let webhook_allow_private = match var("JIBAN_WEBHOOK_ALLOW_PRIVATE").as_deref() {
            None => file.webhook_allow_private.unwrap_or(false),
            Some("true") => true,
            Some("false") => false,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "JIBAN_WEBHOOK_ALLOW_PRIVATE",
                    reason: format!("{other:?}: use true or false"),
                });
            }
        };
        let storage = crate::storage::Location::parse(
            &var("JIBAN_STORAGE_URL")
                .or(file.storage_url)
                .unwrap_or_else(|| crate::storage::DEFAULT_STORAGE_URL.to_owned()),
        )
        .map_err(|reason| ConfigError::Invalid {
            name: "JIBAN_STORAGE_URL",
            reason,
        })?;
        let attachment_max_bytes = bounded(
            "JIBAN_ATTACHMENT_MAX_BYTES",
            var("JIBAN_ATTACHMENT_MAX_BYTES"),
            file.attachment_max_bytes,
            DEFAULT_ATTACHMENT_MAX_BYTES,
            1..=MAX_ATTACHMENT_MAX_BYTES,
        )?;
        let attachments_per_ticket = bounded(
            "JIBAN_ATTACHMENTS_PER_TICKET",
            var("JIBAN_ATTACHMENTS_PER_TICKET"),
            file.attachments_per_ticket,
            DEFAULT_ATTACHMENTS_PER_TICKET,
            1..=MAX_ATTACHMENTS_PER_TICKET,
        )?;
        let attachment_temp_dir = var("JIBAN_ATTACHMENT_TEMP_DIR")
            .or(file.attachment_temp_dir)
            .map(PathBuf::from);
        let attachment_orphan_grace_seconds = bounded(
            "JIBAN_ATTACHMENT_ORPHAN_GRACE_SECONDS",
            var("JIBAN_ATTACHMENT_ORPHAN_GRACE_SECONDS"),
            file.attachment_orphan_grace_seconds,
            DEFAULT_ATTACHMENT_ORPHAN_GRACE_SECONDS,
            0..=u64::from(u32::MAX),
        )?;
        Ok(Config {
            storage,
            attachment_max_bytes,
            attachments_per_ticket,
            attachment_temp_dir,
            attachment_orphan_grace_seconds,
            database_url: Secret(database_url),
            bind,
            jwt_secret,
            admin_password,
            log_format,
            pool_size,
            public_url,
            auth_cache_seconds,
            session_days,
            rate_limit_per_minute,
            smtp,
            smtp_ca,
            mail_from,
            mail_max_attempts,
            enterprise_ticket_url,
            alerts,
            scan_interval_seconds,
            send_interval_seconds,
            score_weights,
            webhook_max_attempts,
            webhook_allow_private,
        })
    }

    /// Where generated state (the JWT secret) is kept: the SQLite file's folder, or
    /// `./data` for PostgreSQL.
    pub fn data_dir(&self) -> PathBuf {
        match self.database_url.expose().strip_prefix("sqlite://") {
            Some(path) => match Path::new(path).parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
                _ => PathBuf::from("."),
            },
            None => PathBuf::from("./data"),
        }
    }
}

fn read_file(path: &Path) -> Result<File, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
        path: path.display().to_string(),
        error: e.to_string(),
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.display().to_string(),
        // toml's message quotes the offending line, which may hold a secret: keep where
        // and what, drop the quoted source (the lines drawn with `|`).
        error: e
            .to_string()
            .lines()
            .filter(|line| !line.contains('|') && !line.trim().is_empty())
            .collect::<Vec<_>>()
            .join(": "),
    })
}

/// A worker's polling interval: the environment, the file, or the default; 1 to 3600 s.
fn interval(
    name: &'static str,
    env: Option<String>,
    file: Option<u64>,
    default: u64,
) -> Result<u64, ConfigError> {
    let seconds = match env {
        Some(raw) => parse_number(name, &raw)?,
        None => file.unwrap_or(default),
    };
    if !(1..=MAX_INTERVAL_SECONDS).contains(&seconds) {
        return Err(ConfigError::Invalid {
            name,
            reason: format!("{seconds}: use 1 to {MAX_INTERVAL_SECONDS} seconds"),
        });
    }
    Ok(seconds)
}

/// A number from its variable, else the file, else the default, within `range`.
fn bounded(
    name: &'static str,
    raw: Option<String>,
    from_file: Option<u64>,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let value = match raw {
        Some(raw) => parse_number(name, &raw)?,
        None => from_file.unwrap_or(default),
    };
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::Invalid {
            name,
            reason: format!("{value}: use {} to {}", range.start(), range.end()),
        })
    }
}

fn parse_number<T: std::str::FromStr>(name: &'static str, raw: &str) -> Result<T, ConfigError> {
    raw.trim().parse().map_err(|_| ConfigError::Invalid {
        name,
        reason: format!("{raw:?} is not a number"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_serve_a_laptop() {
        let c = load(&[]).unwrap();
        assert_eq!(c.database_url.expose(), DEFAULT_DATABASE_URL);
        assert_eq!(c.bind, DEFAULT_BIND);
        assert_eq!(c.pool_size, 8);
        assert_eq!(c.log_format, LogFormat::Text);
        assert_eq!(c.auth_cache_seconds, 30);
        assert_eq!(c.session_days, 30);
        assert_eq!(c.rate_limit_per_minute, 120);
        assert!(load(&[("JIBAN_SESSION_DAYS", "0")]).is_err());
        assert_eq!(
            load(&[("JIBAN_SESSION_DAYS", "7")]).unwrap().session_days,
            7
        );
        assert!(c.jwt_secret.is_none() && c.admin_password.is_none());
        assert_eq!(c.data_dir(), PathBuf::from("./data"));
        assert!(c.smtp.is_none() && c.smtp_ca.is_none());
        assert_eq!(c.mail_from.to_string(), DEFAULT_MAIL_FROM);
        assert_eq!(c.mail_max_attempts, 8);
        assert!(c.enterprise_ticket_url.is_none());
        assert!(c.alerts);
        assert_eq!((c.scan_interval_seconds, c.send_interval_seconds), (30, 5));
        assert_eq!(c.score_weights.to_string(), "10/50/40");
        assert_eq!(
            (c.webhook_max_attempts, c.webhook_allow_private),
            (10, false)
        );
    }

    #[test]
    fn webhook_settings_from_environment_and_file() {
        let c = load(&[
            ("JIBAN_WEBHOOK_MAX_ATTEMPTS", "3"),
            ("JIBAN_WEBHOOK_ALLOW_PRIVATE", "true"),
        ])
        .unwrap();
        assert_eq!((c.webhook_max_attempts, c.webhook_allow_private), (3, true));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jiban.toml");
        std::fs::write(
            &path,
            "webhook_max_attempts = 100\nwebhook_allow_private = true\n",
        )
        .unwrap();
        let file = [(CONFIG_VAR, path.to_str().unwrap())];
        let c = load(&file).unwrap();
        assert_eq!(
            (c.webhook_max_attempts, c.webhook_allow_private),
            (100, true)
        );
        let both = [file[0], ("JIBAN_WEBHOOK_ALLOW_PRIVATE", "false")];
        assert!(
            !load(&both).unwrap().webhook_allow_private,
            "the environment wins"
        );
    }

    #[test]
    fn score_weights_are_three_percentages_adding_up_to_100() {
        let c = load(&[("JIBAN_SCORE_WEIGHTS", "20/40/40")]).unwrap();
        assert_eq!(c.score_weights.to_string(), "20/40/40");
        for bad in ["20/50/40", "10/50", "a/b/c", "-10/60/50"] {
            match load(&[("JIBAN_SCORE_WEIGHTS", bad)]) {
                Err(ConfigError::Invalid { name, .. }) => {
                    assert_eq!(name, "JIBAN_SCORE_WEIGHTS", "{bad}")
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_rate_limit_from_environment_and_file() {
        for (value, expected) in [("0", 0), (" 5 ", 5), ("100000", 100_000)] {
            let c = load(&[("JIBAN_RATE_LIMIT_PER_MINUTE", value)]).unwrap();
            assert_eq!(c.rate_limit_per_minute, expected, "{value:?}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jiban.toml");
        std::fs::write(&path, "rate_limit_per_minute = 30\n").unwrap();
        let file = [(CONFIG_VAR, path.to_str().unwrap())];
        assert_eq!(load(&file).unwrap().rate_limit_per_minute, 30);
        let both = [file[0], ("JIBAN_RATE_LIMIT_PER_MINUTE", "0")];
        assert_eq!(
            load(&both).unwrap().rate_limit_per_minute,
            0,
            "the environment wins"
        );
        std::fs::write(&path, "rate_limit_per_minute = 100001\n").unwrap();
        match load(&file) {
            Err(ConfigError::Invalid { name, .. }) => {
                assert_eq!(name, "JIBAN_RATE_LIMIT_PER_MINUTE")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let c = load(&[
            ("JIBAN_JWT_SECRET", "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t"),
            ("JIBAN_ADMIN_PASSWORD", "hunter2hunter2"),
            ("JIBAN_DATABASE_URL", "postgres://u:pw123@h/db"),
            ("JIBAN_SMTP_URL", "smtps://mailer:sm%40tp-pw@mail.example"),
        ])
        .unwrap();
        let debug = format!("{c:?}");
        for secret in ["s3cr3t", "hunter2", "pw123", "sm@tp-pw", "sm%40tp-pw"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        assert_eq!(c.data_dir(), PathBuf::from("./data"));
    }

    #[test]
    fn file_then_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jiban.toml");
        std::fs::write(
            &path,
            "bind = \"0.0.0.0:9000\"\npool_size = 4\nlog_format = \"json\"\n\
             database_url = \"sqlite:///var/lib/jiban/jiban.db\"\n",
        )
        .unwrap();
        let c = load(&[
            (CONFIG_VAR, path.to_str().unwrap()),
            ("JIBAN_POOL_SIZE", "12"),
        ])
        .unwrap();
        assert_eq!(c.bind, "0.0.0.0:9000");
        assert_eq!(c.pool_size, 12, "the environment wins");
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.data_dir(), PathBuf::from("/var/lib/jiban"));

        std::fs::write(&path, "jwt_secret = \"x\"\nbogus = 1\n").unwrap();
        let err = load(&[(CONFIG_VAR, path.to_str().unwrap())]).unwrap_err();
        assert!(matches!(err, ConfigError::Parse { .. }), "{err}");
    }

    #[test]
    fn bad_values_are_refused_by_name() {
        for (name, value) in [
            ("JIBAN_POOL_SIZE", "0"),
            ("JIBAN_POOL_SIZE", "many"),
            ("JIBAN_LOG_FORMAT", "xml"),
            ("JIBAN_JWT_SECRET", "short"),
            ("JIBAN_AUTH_CACHE_SECONDS", "61"),
            ("JIBAN_SMTP_URL", "http://mail.example"),
            ("JIBAN_SMTP_CA_FILE", "/nonexistent/ca.pem"),
            ("JIBAN_MAIL_FROM", "not an address"),
            ("JIBAN_MAIL_FROM", "a@b\r\nBcc: evil@example.com"),
            ("JIBAN_MAIL_MAX_ATTEMPTS", "0"),
            ("JIBAN_MAIL_MAX_ATTEMPTS", "101"),
            ("JIBAN_MAIL_MAX_ATTEMPTS", "-1"),
            ("JIBAN_ENTERPRISE_TICKET_URL", "https://app.example/tickets"),
            ("JIBAN_ENTERPRISE_TICKET_URL", "javascript:alert('{id}')"),
            ("JIBAN_ENTERPRISE_TICKET_URL", "ftp://app.example/{id}"),
            (
                "JIBAN_ENTERPRISE_TICKET_URL",
                "https://app.example/{id}/{nr}",
            ),
            ("JIBAN_ENTERPRISE_TICKET_URL", "https:///{id}"),
            ("JIBAN_ENTERPRISE_TICKET_URL", "https://{number}.example/"),
            ("JIBAN_ENTERPRISE_TICKET_URL", "https://app.example:{id}/"),
            ("JIBAN_ALERTS", "yes"),
            ("JIBAN_ALERTS", "true"),
            ("JIBAN_SCAN_INTERVAL_SECONDS", "0"),
            ("JIBAN_SCAN_INTERVAL_SECONDS", "3601"),
            ("JIBAN_SEND_INTERVAL_SECONDS", "0"),
            ("JIBAN_SEND_INTERVAL_SECONDS", "soon"),
            ("JIBAN_RATE_LIMIT_PER_MINUTE", "-1"),
            ("JIBAN_RATE_LIMIT_PER_MINUTE", "off"),
            ("JIBAN_RATE_LIMIT_PER_MINUTE", "1.5"),
            ("JIBAN_RATE_LIMIT_PER_MINUTE", "100001"),
            ("JIBAN_WEBHOOK_MAX_ATTEMPTS", "0"),
            ("JIBAN_WEBHOOK_MAX_ATTEMPTS", "101"),
            ("JIBAN_WEBHOOK_ALLOW_PRIVATE", "yes"),
            ("JIBAN_WEBHOOK_ALLOW_PRIVATE", "1"),
        ] {
            match load(&[(name, value)]) {
                Err(ConfigError::Invalid { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}={value}: {other:?}"),
            }
        }
    }

    fn smtp(url: &str) -> Result<SmtpSettings, String> {
        SmtpSettings::parse(url)
    }

    #[test]
    fn smtp_urls_in_each_form() {
        let plain = smtp("smtp://mail.example").unwrap();
        assert_eq!(
            plain,
            SmtpSettings {
                host: "mail.example".into(),
                port: 25,
                security: SmtpSecurity::Plain,
                credentials: None,
            }
        );
        let starttls = smtp("smtp://mail.example?tls=required").unwrap();
        assert_eq!(
            (starttls.port, starttls.security),
            (587, SmtpSecurity::StartTls)
        );
        let implicit = smtp("smtps://mail.example/").unwrap();
        assert_eq!(
            (implicit.port, implicit.security),
            (465, SmtpSecurity::ImplicitTls)
        );
        let explicit = smtp("smtp://127.0.0.1:2525?tls=required").unwrap();
        assert_eq!(
            (explicit.host.as_str(), explicit.port, explicit.security),
            ("127.0.0.1", 2525, SmtpSecurity::StartTls)
        );
        let v6 = smtp("smtp://[::1]:2525").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 2525));
    }

    #[test]
    fn smtp_credentials_are_percent_decoded() {
        let s = smtp("smtps://jiban%40county.gov.cn:p%40ss%3Aw%2Frd%20%E5%AF%86@mail.example:4650")
            .unwrap();
        let credentials = s.credentials.unwrap();
        assert_eq!(credentials.user, "jiban@county.gov.cn");
        assert_eq!(credentials.password.expose(), "p@ss:w/rd 密");
        assert_eq!(s.port, 4650);
        // Plain SMTP with a password only to the same host.
        let local = smtp("smtp://u:pw@localhost:2525").unwrap();
        assert_eq!(local.credentials.unwrap().password.expose(), "pw");
    }

    #[test]
    fn bad_smtp_urls_are_refused_without_their_password() {
        for url in [
            "http://mail.example",
            "mailto:jiban@example.com",
            "smtp://",
            "smtp:///",
            "smtp://:25",
            "smtp:mail.example",
            "mail.example:25",
            "smtp://mail.example?tls=maybe",
            "smtp://mail.example?tls=",
            "smtp://mail.example?tls=required&tls=required",
            "smtp://mail.example?starttls=1",
            "smtps://mail.example?tls=required",
            "smtp://mail.example/inbox",
            "smtp://mail.example#x",
            "smtp://mail.example:0",
            "smtp://mail.example:99999",
            "smtp://user@mail.example?tls=required",
            "smtp://:secretpw@mail.example?tls=required",
            "smtp://user:secretpw@mail.example",
            "smtps://user:%FF%FEsecretpw@mail.example",
        ] {
            let reason = smtp(url).expect_err(url);
            assert!(!reason.contains("secretpw"), "{url}: {reason}");
            match load(&[("JIBAN_SMTP_URL", url)]) {
                Err(ConfigError::Invalid { name, reason }) => {
                    assert_eq!(name, "JIBAN_SMTP_URL");
                    assert!(!reason.contains("secretpw"), "{url}: {reason}");
                }
                other => panic!("{url}: {other:?}"),
            }
        }
    }

    #[test]
    fn mail_settings_from_environment_and_file() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::copy(
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ca.pem"),
            &ca,
        )
        .unwrap();
        let path = dir.path().join("jiban.toml");
        std::fs::write(
            &path,
            format!(
                "smtp_url = \"smtp://mail.example?tls=required\"\n\
                 smtp_ca_file = {:?}\n\
                 mail_from = \"即办 <jiban@county.gov.cn>\"\n\
                 mail_max_attempts = 3\n\
                 enterprise_ticket_url = \"https://app.example/t/{{number}}?id={{id}}\"\n\
                 alerts = \"off\"\n\
                 scan_interval_seconds = 60\n\
                 send_interval_seconds = 10\n",
                ca.to_str().unwrap()
            ),
        )
        .unwrap();
        let c = load(&[
            (CONFIG_VAR, path.to_str().unwrap()),
            ("JIBAN_SEND_INTERVAL_SECONDS", "2"),
        ])
        .unwrap();
        assert_eq!(c.smtp.unwrap().security, SmtpSecurity::StartTls);
        let ca_file = c.smtp_ca.unwrap();
        assert_eq!(ca_file.path, ca);
        assert!(!format!("{ca_file:?}").contains("BEGIN"), "{ca_file:?}");
        assert_eq!(c.mail_from.email.to_string(), "jiban@county.gov.cn");
        assert_eq!(c.mail_from.name.as_deref(), Some("即办"));
        assert_eq!(c.mail_max_attempts, 3);
        assert!(!c.alerts);
        assert_eq!(c.scan_interval_seconds, 60);
        assert_eq!(c.send_interval_seconds, 2, "the environment wins");
        let template = c.enterprise_ticket_url.unwrap();
        assert_eq!(
            template.render(uuid::Uuid::nil(), "JB/2026 001"),
            "https://app.example/t/JB%2F2026%20001?id=00000000-0000-0000-0000-000000000000"
        );

        let c = load(&[
            ("JIBAN_ALERTS", "on"),
            ("JIBAN_MAIL_MAX_ATTEMPTS", "100"),
            ("JIBAN_SCAN_INTERVAL_SECONDS", "3600"),
            ("JIBAN_SEND_INTERVAL_SECONDS", "1"),
            (
                "JIBAN_ENTERPRISE_TICKET_URL",
                "http://10.0.0.5:8000/#/ticket/{id}",
            ),
        ])
        .unwrap();
        assert!(c.alerts);
        assert_eq!(c.mail_max_attempts, 100);
        assert_eq!(
            (c.scan_interval_seconds, c.send_interval_seconds),
            (3600, 1)
        );
        assert_eq!(
            c.enterprise_ticket_url
                .unwrap()
                .render(uuid::Uuid::nil(), "x"),
            "http://10.0.0.5:8000/#/ticket/00000000-0000-0000-0000-000000000000"
        );
    }

    #[test]
    fn a_ca_file_must_hold_a_usable_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        for (what, content) in [
            ("empty", "".to_owned()),
            (
                "a key, no certificate",
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".to_owned(),
            ),
            (
                "damaged",
                "-----BEGIN CERTIFICATE-----\nMIIBlzCCAT6g\n-----END CERTIFICATE-----\n".to_owned(),
            ),
        ] {
            std::fs::write(&path, content).unwrap();
            match load(&[("JIBAN_SMTP_CA_FILE", path.to_str().unwrap())]) {
                Err(ConfigError::Invalid { name, .. }) => assert_eq!(name, "JIBAN_SMTP_CA_FILE"),
                other => panic!("{what}: {other:?}"),
            }
        }
        // Two certificates, one of them the fixture, with text around them.
        let fixture = include_str!("../tests/fixtures/ca.pem");
        std::fs::write(&path, format!("# county CA\n{fixture}\n{fixture}")).unwrap();
        let c = load(&[("JIBAN_SMTP_CA_FILE", path.to_str().unwrap())]).unwrap();
        assert_eq!(c.smtp_ca.unwrap().path, path);
    }
}
