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
//!
//! Secrets (the JWT secret, the admin password, the database URL, which may hold a
//! password) are [`Secret`]s: their `Debug` prints `***`, and they have no `Display`.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub const CONFIG_VAR: &str = "JIBAN_CONFIG";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/jiban.db";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_POOL_SIZE: u32 = 8;
/// How long a node trusts its cached copy of a user (role, department, stations, active).
/// Deactivation must stop access tokens within 60 s on every node (DESIGN.md section 7).
pub const DEFAULT_AUTH_CACHE_SECONDS: u64 = 30;
pub const MAX_AUTH_CACHE_SECONDS: u64 = 60;
/// HS256 keys shorter than the hash output (32 bytes) weaken it (RFC 7518 section 3.2).
pub const MIN_JWT_SECRET_LEN: usize = 32;

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
        let public_url = var("JIBAN_PUBLIC_URL")
            .or(file.public_url)
            .map(|u| u.trim_end_matches('/').to_owned());
        Ok(Config {
            database_url: Secret(database_url),
            bind,
            jwt_secret,
            admin_password,
            log_format,
            pool_size,
            public_url,
            auth_cache_seconds,
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
        assert!(c.jwt_secret.is_none() && c.admin_password.is_none());
        assert_eq!(c.data_dir(), PathBuf::from("./data"));
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let c = load(&[
            ("JIBAN_JWT_SECRET", "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t"),
            ("JIBAN_ADMIN_PASSWORD", "hunter2hunter2"),
            ("JIBAN_DATABASE_URL", "postgres://u:pw123@h/db"),
        ])
        .unwrap();
        let debug = format!("{c:?}");
        for secret in ["s3cr3t", "hunter2", "pw123"] {
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
        ] {
            match load(&[(name, value)]) {
                Err(ConfigError::Invalid { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}={value}: {other:?}"),
            }
        }
    }
}
