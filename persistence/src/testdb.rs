//! A fresh, migrated database per test, on either backend, dropped afterwards. Tests run
//! in parallel and share nothing: no global database, no `#[serial]`.
//!
//! - [`TestDb::sqlite`]: a new file in a temporary folder.
//! - [`TestDb::postgres`]: a new schema `t_<hex>` in the database named by
//!   `JIBAN_TEST_DATABASE_URL`, every pooled connection pointed at it with `search_path`,
//!   dropped with `CASCADE`. Without the variable it returns `None` after saying so on
//!   stderr (so the PostgreSQL half of a test passes without running), except under `CI`,
//!   where it panics: CI must never skip it.
//!
//! [`both_backends!`](crate::both_backends) writes the two `#[test]`s for one body.

use std::io::Write as _;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::conn::{Backend, DbUrl, Pool, PoolConfig, PooledConn, build_pool};
use crate::migrate;

pub const URL_VAR: &str = "JIBAN_TEST_DATABASE_URL";

pub struct TestDb {
    pool: Pool,
    url: DbUrl,
    /// Held for its `Drop`: the folder or the schema goes with the database.
    _storage: Storage,
}

#[expect(dead_code, reason = "held for its Drop, never read")]
enum Storage {
    Sqlite(tempfile::TempDir),
    Postgres(PgSchema),
}

/// A fresh, empty schema in the PostgreSQL database named by `JIBAN_TEST_DATABASE_URL`,
/// dropped with `CASCADE` when this is dropped. The unit every PostgreSQL test stands on:
/// [`TestDb::postgres`] migrates one; the end-to-end tests hand one to the server, which
/// migrates it itself.
pub struct PgSchema {
    admin_url: String,
    name: String,
}

impl PgSchema {
    /// `None` when `JIBAN_TEST_DATABASE_URL` is unset outside CI, after saying so on stderr;
    /// panics when it is unset under `CI` (CI must never skip), or when the server does
    /// not answer.
    pub fn create(prefix: &str) -> Option<PgSchema> {
        let Some(admin_url) = std::env::var(URL_VAR).ok().filter(|u| !u.is_empty()) else {
            if std::env::var_os("CI").is_some() {
                panic!("{URL_VAR} is unset under CI: the PostgreSQL tests must run there");
            }
            // Straight to stderr: the test harness captures eprintln! of passing tests.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: PostgreSQL variant did not run, set {URL_VAR} \
                 (e.g. postgres://postgres@127.0.0.1:5432/test)"
            );
            return None;
        };
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&admin_url)
            .unwrap_or_else(|e| panic!("{URL_VAR} is set but PostgreSQL does not answer: {e}"));
        admin
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .expect("create the test schema");
        Some(PgSchema { admin_url, name })
    }

    /// A URL whose every connection works in this schema (libpq's
    /// `options=-c search_path=<schema>`), including connections opened later by a pool.
    pub fn url(&self) -> String {
        with_search_path(&self.admin_url, &self.name)
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Adds libpq's `options=-c search_path=<schema>` to a URL.
fn with_search_path(url: &str, schema: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-csearch_path%3D{schema}")
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let name = &self.name;
        let dropped = PgConnection::establish(&self.admin_url)
            .map_err(|e| e.to_string())
            .and_then(|mut c| {
                c.batch_execute(&format!("DROP SCHEMA {name} CASCADE"))
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = dropped {
            let _ = writeln!(std::io::stderr(), "could not drop test schema {name}: {e}");
        }
    }
}

/// Enough for the concurrency tests' 16 threads to hold a connection each.
fn pool_config() -> PoolConfig {
    PoolConfig {
        max_size: 16,
        min_idle: 1,
        ..PoolConfig::default()
    }
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = DbUrl::Sqlite(dir.path().join("jiban.db"));
        Self::migrated(url, Storage::Sqlite(dir))
    }

    /// `None` when `JIBAN_TEST_DATABASE_URL` is unset outside CI (see [`PgSchema::create`]).
    pub fn postgres() -> Option<TestDb> {
        let schema = PgSchema::create("t")?;
        let url = DbUrl::Postgres(schema.url());
        Some(Self::migrated(url, Storage::Postgres(schema)))
    }

    fn migrated(url: DbUrl, storage: Storage) -> TestDb {
        let pool = build_pool(&url, &pool_config()).expect("test pool");
        let db = TestDb {
            pool,
            url,
            _storage: storage,
        };
        migrate::run_pending(&mut db.conn()).expect("migrations");
        db
    }

    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    /// The URL of this database, e.g. to start the `jiban` binary against it.
    pub fn url(&self) -> &DbUrl {
        &self.url
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    pub fn conn(&self) -> PooledConn {
        self.pool.get().expect("a test connection")
    }
}

/// Writes one `#[test]` per backend for a body taking `&TestDb`, as
/// `<name>::sqlite` and `<name>::postgres`:
///
/// ```
/// use diesel::prelude::*;
/// use jiban_persistence::both_backends;
/// use jiban_persistence::schema::categories;
///
/// both_backends!(categories_are_there, |db| {
///     let n: i64 = categories::table.count().get_result(&mut *db.conn()).unwrap();
///     assert_eq!(n, 11);
/// });
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! both_backends {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn body($db: &$crate::testdb::TestDb) $body

            #[test]
            fn sqlite() {
                body(&$crate::testdb::TestDb::sqlite());
            }

            #[test]
            fn postgres() {
                if let Some(db) = $crate::testdb::TestDb::postgres() {
                    body(&db);
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_path_is_added_as_a_libpq_option() {
        assert_eq!(
            with_search_path("postgres://u@h/db", "t_1"),
            "postgres://u@h/db?options=-csearch_path%3Dt_1"
        );
        assert_eq!(
            with_search_path("postgres://u@h/db?sslmode=disable", "t_1"),
            "postgres://u@h/db?sslmode=disable&options=-csearch_path%3Dt_1"
        );
    }

    #[test]
    fn postgres_schemas_are_private_and_dropped() {
        let Some(a) = TestDb::postgres() else { return };
        let b = TestDb::postgres().expect("second schema");
        let schema_of = |db: &TestDb| -> String {
            #[derive(QueryableByName)]
            struct S {
                #[diesel(sql_type = diesel::sql_types::Text)]
                s: String,
            }
            diesel::sql_query("SELECT current_schema()::text AS s")
                .get_result::<S>(&mut *db.conn())
                .unwrap()
                .s
        };
        let (sa, sb) = (schema_of(&a), schema_of(&b));
        assert!(sa.starts_with("t_") && sb.starts_with("t_") && sa != sb);
        let admin_url = std::env::var(URL_VAR).unwrap();
        drop(a);
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let left = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM information_schema.schemata WHERE schema_name = '{sa}'"
        ))
        .get_result::<N>(&mut PgConnection::establish(&admin_url).unwrap())
        .unwrap();
        assert_eq!(left.n, 0, "the schema is dropped with its TestDb");
    }

    #[test]
    fn sqlite_files_are_private() {
        let (a, b) = (TestDb::sqlite(), TestDb::sqlite());
        assert_ne!(a.url(), b.url());
    }
}
