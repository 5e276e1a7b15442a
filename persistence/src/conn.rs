//! Connections: the backend is chosen from the URL scheme, pooled with r2d2, and every
//! SQLite connection is set up the same way.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, CustomizeConnection, ManageConnection, R2D2Connection};
use diesel::result::Error as DieselError;

use crate::error::StoreError;

/// One connection type over both backends, so each query is written once. Where the
/// backends differ (upserts, row locks, advisory locks) the code matches on the variant.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

impl DbConnection {
    pub fn backend(&self) -> Backend {
        match self {
            DbConnection::Pg(_) => Backend::Postgres,
            DbConnection::Sqlite(_) => Backend::Sqlite,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// A parsed database URL. Parsing it ourselves matters: `MultiConnection::establish`
/// tries the backends in order and SQLite accepts any string as a file name, so
/// `mysql://x` would silently become a file called `mysql:`.
#[derive(Clone, PartialEq, Eq)]
pub enum DbUrl {
    /// The whole URL, handed to libpq as it is (so `?sslmode=` and `?options=` work).
    Postgres(String),
    /// The database file.
    Sqlite(PathBuf),
}

/// A URL this crate cannot serve. Names only the scheme: the URL may hold a password.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "unsupported database URL (scheme {scheme:?}): use sqlite://<path> or postgres://… (postgresql://…)"
)]
pub struct UnsupportedUrl {
    pub scheme: String,
}

impl FromStr for DbUrl {
    type Err = UnsupportedUrl;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DbUrl::Postgres(url.to_owned()));
        }
        if let Some(path) = url.strip_prefix("sqlite://")
            && !path.is_empty()
        {
            return Ok(DbUrl::Sqlite(PathBuf::from(path)));
        }
        let scheme = url.split_once("://").map_or(url, |(s, _)| s);
        Err(UnsupportedUrl {
            scheme: scheme.chars().take(20).collect(),
        })
    }
}

impl fmt::Debug for DbUrl {
    /// Never prints a PostgreSQL URL: it may carry a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbUrl::Postgres(_) => f.write_str("DbUrl::Postgres(..)"),
            DbUrl::Sqlite(path) => write!(f, "DbUrl::Sqlite({path:?})"),
        }
    }
}

impl DbUrl {
    pub fn backend(&self) -> Backend {
        match self {
            DbUrl::Postgres(_) => Backend::Postgres,
            DbUrl::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// One unpooled connection of the URL's backend (without the SQLite pragmas; use the
    /// pool for those).
    pub fn establish(&self) -> ConnectionResult<DbConnection> {
        match self {
            DbUrl::Postgres(url) => PgConnection::establish(url).map(DbConnection::Pg),
            DbUrl::Sqlite(path) => {
                let path = path.to_str().ok_or_else(|| {
                    ConnectionError::InvalidConnectionUrl("SQLite path is not UTF-8".into())
                })?;
                SqliteConnection::establish(path).map(DbConnection::Sqlite)
            }
        }
    }
}

/// The r2d2 manager: like diesel's `ConnectionManager`, but it establishes the variant the
/// URL names instead of trying each backend in turn.
#[derive(Debug)]
pub struct Manager {
    url: DbUrl,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        self.url.establish().map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    /// A connection left inside a transaction (a panic, a broken transaction manager) is
    /// thrown away rather than handed to the next request.
    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

/// Set on every SQLite connection, since these are per connection, not per file:
/// - `busy_timeout` first, so a writer waits for the lock instead of failing at once
///   (switching to WAL needs the lock too);
/// - WAL lets readers go on while one writer writes; `synchronous = NORMAL` is durable
///   enough in WAL mode (a power cut may lose the last commits, never corrupt the file);
/// - `foreign_keys` is off by default in SQLite; never rely on a compile-time default.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; \
     PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = NORMAL; \
     PRAGMA foreign_keys = ON;";

/// Set on every PostgreSQL connection of the pool: no JIT compilation. The service's
/// statements return a page, a ticket or a month's sums in well under a millisecond of
/// execution, but PostgreSQL compiles any plan whose estimated cost passes `jit_above_cost`,
/// and a walk that stops early (a text search's window, a `LIMIT` over an index whose
/// filter the planner thinks selective) is costed for the whole table: at a million
/// tickets the search spent 15-20 ms of its 21 ms emitting code for 2 ms of work, and ran
/// 8 times slower than at 10,000 (docs/BENCHMARKS.md, issue 9). Nothing here runs long
/// enough for JIT to pay back.
const PG_SETTINGS: &str = "SET jit = off";

/// Per-connection settings, applied once when the pool opens a connection.
#[derive(Debug)]
struct Setup;

impl CustomizeConnection<DbConnection, r2d2::Error> for Setup {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        match conn {
            DbConnection::Sqlite(c) => c.batch_execute(SQLITE_PRAGMAS),
            DbConnection::Pg(c) => c.batch_execute(PG_SETTINGS),
        }
        .map_err(r2d2::Error::QueryError)
    }
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

/// Pool settings. The defaults are what measured best here (DEPENDENCIES.md): 8
/// connections, no ping on checkout.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    pub max_size: u32,
    /// Connections opened at start and kept open; `build_pool` fails when it cannot open
    /// them within `connection_timeout`, so a wrong URL is reported at start.
    pub min_idle: u32,
    pub connection_timeout: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_size: 8,
            min_idle: 1,
            connection_timeout: Duration::from_secs(10),
        }
    }
}

/// Builds the pool. For SQLite the file's folder is created, so `sqlite://./data/jiban.db`
/// works on a fresh clone.
pub fn build_pool(url: &DbUrl, config: &PoolConfig) -> Result<Pool, StoreError> {
    if let DbUrl::Sqlite(path) = url {
        create_parent_dir(path)?;
    }
    r2d2::Pool::builder()
        .max_size(config.max_size)
        .min_idle(Some(config.min_idle.min(config.max_size)))
        .connection_timeout(config.connection_timeout)
        // A ping per checkout is a round trip per request; a dead connection fails the
        // query instead, is dropped as broken, and the request is answered 503.
        .test_on_check_out(false)
        .connection_customizer(Box::new(Setup))
        .build(Manager { url: url.clone() })
        .map_err(StoreError::from)
}

fn create_parent_dir(path: &Path) -> Result<(), StoreError> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))),
        _ => Ok(()),
    }
}

/// Runs `f` in a write transaction: `BEGIN IMMEDIATE` on SQLite, a plain transaction on
/// PostgreSQL (which takes row locks per statement, e.g. `FOR UPDATE`).
///
/// Why IMMEDIATE: SQLite's default `BEGIN` starts as a reader and upgrades at the first
/// write; in WAL mode an upgrade from a stale snapshot fails at once with `SQLITE_BUSY`,
/// ignoring `busy_timeout`. Taking the write lock first makes concurrent writers queue.
///
/// Inside an open transaction this is a savepoint, so use cases compose.
pub fn write_tx<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<DieselError>,
{
    let outermost_sqlite = match conn {
        DbConnection::Sqlite(c) => <AnsiTransactionManager as TransactionManager<
            SqliteConnection,
        >>::transaction_manager_status_mut(c)
        .transaction_depth()?
        .is_none(),
        DbConnection::Pg(_) => false,
    };
    if !outermost_sqlite {
        return conn.transaction(f);
    }
    if let DbConnection::Sqlite(c) = conn {
        AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
    }
    // The rest is diesel's `TransactionManager::transaction`, on the enum.
    match f(conn) {
        Ok(value) => {
            <DbConnection as TransactionManager<DbConnection>>::commit_transaction(conn)?;
            Ok(value)
        }
        Err(user_error) => {
            match <DbConnection as TransactionManager<DbConnection>>::rollback_transaction(conn) {
                Ok(()) | Err(DieselError::BrokenTransactionManager) => Err(user_error),
                Err(rollback_error) => Err(rollback_error.into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::both_backends;
    use crate::testdb::TestDb;
    use diesel::sql_types::{BigInt, Text};

    #[test]
    fn url_schemes() {
        assert_eq!(
            "postgres://u@h/db".parse::<DbUrl>().unwrap(),
            DbUrl::Postgres("postgres://u@h/db".into())
        );
        assert_eq!(
            "postgresql://h/db".parse::<DbUrl>().unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            "sqlite://./data/jiban.db".parse::<DbUrl>().unwrap(),
            DbUrl::Sqlite("./data/jiban.db".into())
        );
        assert_eq!(
            "sqlite:///var/lib/jiban.db".parse::<DbUrl>().unwrap(),
            DbUrl::Sqlite("/var/lib/jiban.db".into())
        );
    }

    #[test]
    fn other_schemes_are_refused_naming_the_accepted_ones() {
        for url in [
            "mysql://root:secret@h/db",
            "jiban.db",
            "sqlite://",
            "sqlite:jiban.db",
            "",
        ] {
            let err = url.parse::<DbUrl>().unwrap_err();
            let msg = err.to_string();
            assert!(
                msg.contains("sqlite://") && msg.contains("postgres://"),
                "{msg}"
            );
            assert!(!msg.contains("secret"), "the message leaks the URL: {msg}");
        }
    }

    #[test]
    fn debug_hides_postgres_urls() {
        let url: DbUrl = "postgres://u:secret@h/db".parse().unwrap();
        assert!(!format!("{url:?}").contains("secret"));
    }

    #[test]
    fn sqlite_pool_creates_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/data/jiban.db");
        let url = DbUrl::Sqlite(path.clone());
        let pool = build_pool(&url, &PoolConfig::default()).unwrap();
        pool.get().unwrap();
        assert!(path.exists());
    }

    #[derive(QueryableByName)]
    struct Pragma {
        #[diesel(sql_type = Text)]
        journal_mode: String,
        #[diesel(sql_type = BigInt)]
        foreign_keys: i64,
        #[diesel(sql_type = BigInt)]
        busy_timeout: i64,
        #[diesel(sql_type = BigInt)]
        synchronous: i64,
    }

    #[test]
    fn every_sqlite_connection_gets_the_pragmas() {
        let db = TestDb::sqlite();
        // Hold several at once so the pool has to open new connections.
        let mut conns: Vec<_> = (0..3).map(|_| db.conn()).collect();
        for conn in &mut conns {
            let p: Pragma = diesel::sql_query(
                "SELECT (SELECT journal_mode FROM pragma_journal_mode) AS journal_mode, \
                        (SELECT foreign_keys FROM pragma_foreign_keys) AS foreign_keys, \
                        (SELECT timeout FROM pragma_busy_timeout) AS busy_timeout, \
                        (SELECT synchronous FROM pragma_synchronous) AS synchronous",
            )
            .get_result(&mut **conn)
            .unwrap();
            assert_eq!(p.journal_mode, "wal");
            assert_eq!(p.foreign_keys, 1);
            assert_eq!(p.busy_timeout, 5000);
            assert_eq!(p.synchronous, 1, "NORMAL");
        }
    }

    #[derive(QueryableByName)]
    struct Jit {
        #[diesel(sql_type = Text)]
        jit: String,
    }

    #[test]
    fn every_postgres_connection_runs_without_jit() {
        let Some(db) = TestDb::postgres() else { return };
        let mut conns: Vec<_> = (0..3).map(|_| db.conn()).collect();
        for conn in &mut conns {
            let j: Jit = diesel::sql_query("SELECT current_setting('jit') AS jit")
                .get_result(&mut **conn)
                .unwrap();
            assert_eq!(j.jit, "off");
        }
    }

    both_backends!(write_tx_commits_and_rolls_back, |db| {
        use crate::schema::calendar_years::dsl::*;
        let mut conn = db.conn();
        let at = crate::types::DbInstant::from(chrono::DateTime::UNIX_EPOCH);
        write_tx(&mut conn, |c| {
            diesel::insert_into(calendar_years)
                .values((year.eq(2025), loaded_at.eq(at)))
                .execute(c)
        })
        .unwrap();
        let failed: Result<(), StoreError> = write_tx(&mut conn, |c| {
            diesel::insert_into(calendar_years)
                .values((year.eq(2026), loaded_at.eq(at)))
                .execute(c)?;
            // Nested: a savepoint inside the outer transaction.
            write_tx(&mut *c, |c| {
                diesel::insert_into(calendar_years)
                    .values((year.eq(2027), loaded_at.eq(at)))
                    .execute(c)
            })?;
            Err(StoreError::Conflict("rolled back on purpose".into()))
        });
        assert!(failed.is_err());
        let years: Vec<i32> = calendar_years
            .select(year)
            .order(year)
            .load(&mut conn)
            .unwrap();
        assert_eq!(years, vec![2025]);
        assert!(!conn.is_broken(), "the connection is usable again");
    });

    both_backends!(write_tx_maps_unique_violations_to_conflict, |db| {
        use crate::schema::calendar_years::dsl::*;
        let mut conn = db.conn();
        let at = crate::types::DbInstant::from(chrono::DateTime::UNIX_EPOCH);
        let insert = |c: &mut DbConnection| -> Result<usize, StoreError> {
            Ok(diesel::insert_into(calendar_years)
                .values((year.eq(2025), loaded_at.eq(at)))
                .execute(c)?)
        };
        write_tx(&mut conn, insert).unwrap();
        assert!(matches!(
            write_tx(&mut conn, insert),
            Err(StoreError::Conflict(_))
        ));
    });
}
