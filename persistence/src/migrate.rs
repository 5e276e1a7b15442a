//! The migrations of `migrations/postgres` and `migrations/sqlite`, embedded in the
//! binary. Both folders hold the same step names; a test keeps it so.

use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::conn::{Backend, DbConnection, write_tx};
use crate::error::StoreError;

pub const POSTGRES: EmbeddedMigrations = embed_migrations!("../migrations/postgres");
pub const SQLITE: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");

/// One lock per schema: nodes migrating the same schema queue, while tests migrating
/// their own schemas do not wait on each other.
const PG_LOCK: &str = "SELECT pg_advisory_lock(hashtext('jiban.migrations.' || current_schema()))";
const PG_UNLOCK: &str =
    "SELECT pg_advisory_unlock(hashtext('jiban.migrations.' || current_schema()))";

type HarnessError = Box<dyn std::error::Error + Send + Sync>;

fn harness_error(e: HarnessError) -> StoreError {
    StoreError::Other(format!("migration failed: {e}"))
}

/// Applies the pending migrations and returns how many it applied, then computes what
/// SQL alone could not: the search grams of tickets filed before text search existed
/// ([`crate::tickets::backfill_search`]) and the statistics' facts of those written before
/// they were stored ([`crate::stats::backfill`]); nothing to do once done. Safe when several
/// nodes start at once: on PostgreSQL they queue on an advisory lock, on SQLite on the
/// write lock (`BEGIN IMMEDIATE`); whoever comes second finds nothing pending.
pub fn run_pending(conn: &mut DbConnection) -> Result<usize, StoreError> {
    match conn {
        DbConnection::Pg(_) => {
            conn.batch_execute(PG_LOCK)?;
            let applied = match conn {
                DbConnection::Pg(c) => c
                    .run_pending_migrations(POSTGRES)
                    .map(|v| v.len())
                    .map_err(harness_error),
                DbConnection::Sqlite(_) => unreachable!("matched above"),
            };
            let applied = applied.and_then(|n| backfill(conn).map(|_| n));
            // Unlock even when a migration failed; the session would hold it otherwise.
            let unlocked = conn.batch_execute(PG_UNLOCK);
            let applied = applied?;
            unlocked?;
            Ok(applied)
        }
        DbConnection::Sqlite(_) => {
            let applied = write_tx(conn, |conn| {
                let DbConnection::Sqlite(c) = conn else {
                    unreachable!("matched above")
                };
                // Inside our transaction each migration runs as a savepoint.
                c.run_pending_migrations(SQLITE)
                    .map(|v| v.len())
                    .map_err(harness_error)
            })?;
            backfill(conn)?;
            Ok(applied)
        }
    }
}

/// What SQL alone could not compute for the rows written before a migration: the search
/// grams and the statistics' facts.
fn backfill(conn: &mut DbConnection) -> Result<(), StoreError> {
    crate::tickets::backfill_search(conn)?;
    crate::stats::backfill(conn)?;
    Ok(())
}

/// How many migrations are not applied yet: `/readyz` answers ready only at 0.
pub fn pending_count(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let pending = match conn {
        DbConnection::Pg(c) => c.pending_migrations(POSTGRES).map(|v| v.len()),
        DbConnection::Sqlite(c) => c.pending_migrations(SQLITE).map(|v| v.len()),
    };
    pending.map_err(harness_error)
}

/// Reverts every applied migration, newest first. For tests.
pub fn revert_all(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let reverted = match conn {
        DbConnection::Pg(c) => c.revert_all_migrations(POSTGRES).map(|v| v.len()),
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE).map(|v| v.len()),
    };
    reverted.map_err(harness_error)
}

/// The step names (`2026-11-26-000001_reference`, …) of one backend's folder, in order.
pub fn step_names(backend: Backend) -> Vec<String> {
    fn names<DB: diesel::backend::Backend>(source: &EmbeddedMigrations) -> Vec<String>
    where
        EmbeddedMigrations: MigrationSource<DB>,
    {
        let migrations = MigrationSource::<DB>::migrations(source).expect("embedded migrations");
        migrations.iter().map(|m| m.name().to_string()).collect()
    }
    match backend {
        Backend::Postgres => names::<diesel::pg::Pg>(&POSTGRES),
        Backend::Sqlite => names::<diesel::sqlite::Sqlite>(&SQLITE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::both_backends;
    use diesel::prelude::*;
    use diesel::sql_types::Text;

    #[derive(QueryableByName, Debug, PartialEq, Eq)]
    struct Line {
        #[diesel(sql_type = Text)]
        line: String,
    }

    fn lines(conn: &mut DbConnection, sql: &str) -> Vec<String> {
        diesel::sql_query(sql)
            .load::<Line>(conn)
            .unwrap()
            .into_iter()
            .map(|l| l.line)
            .collect()
    }

    /// A normalized description of every table, column, index and constraint in the
    /// test's own schema (PostgreSQL) or file (SQLite).
    fn schema_dump(conn: &mut DbConnection) -> Vec<String> {
        let sql = match conn.backend() {
            Backend::Postgres => {
                "SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type \
                        || ' nullable=' || is_nullable || ' default=' || coalesce(column_default, '') AS line \
                   FROM information_schema.columns WHERE table_schema = current_schema() \
                 UNION ALL \
                 SELECT 'index ' || indexname || ' ' || indexdef \
                   FROM pg_indexes WHERE schemaname = current_schema() \
                 UNION ALL \
                 SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' \
                        || pg_get_constraintdef(oid) \
                   FROM pg_constraint WHERE connamespace = current_schema()::regnamespace \
                 UNION ALL \
                 SELECT 'object ' || relkind::text || ' ' || relname FROM pg_class \
                   WHERE relnamespace = current_schema()::regnamespace \
                 ORDER BY 1"
            }
            Backend::Sqlite => {
                "SELECT type || ' ' || name || ' ' || coalesce(sql, '') AS line \
                   FROM sqlite_master ORDER BY 1"
            }
        };
        lines(conn, sql)
    }

    both_backends!(up_down_up_gives_the_same_schema, |db| {
        let mut conn = db.conn();
        let migrated = schema_dump(&mut conn);
        assert!(
            migrated.iter().any(|l| l.contains("outbox")),
            "{migrated:#?}"
        );

        let steps = step_names(conn.backend()).len();
        assert_eq!(revert_all(&mut conn).unwrap(), steps);
        let empty = schema_dump(&mut conn);
        let left: Vec<_> = empty
            .iter()
            .filter(|l| !l.contains("__diesel_schema_migrations"))
            .collect();
        assert!(left.is_empty(), "down.sql left objects behind: {left:#?}");
        assert_eq!(pending_count(&mut conn).unwrap(), steps);

        assert_eq!(run_pending(&mut conn).unwrap(), steps);
        assert_eq!(schema_dump(&mut conn), migrated);
        assert_eq!(pending_count(&mut conn).unwrap(), 0);
        assert_eq!(run_pending(&mut conn).unwrap(), 0, "nothing left to apply");
    });

    #[test]
    fn both_folders_have_the_same_step_names() {
        let pg = step_names(Backend::Postgres);
        assert!(!pg.is_empty());
        assert_eq!(pg, step_names(Backend::Sqlite));
    }

    /// Every foreign key's columns lead some index: otherwise deleting or updating a
    /// parent row scans the child table, and joins on the key do too.
    fn unindexed_foreign_keys(conn: &mut DbConnection) -> Vec<String> {
        let sql = match conn.backend() {
            Backend::Postgres => {
                "SELECT c.conrelid::regclass::text || '.' || c.conname AS line \
                   FROM pg_constraint c \
                  WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace \
                    AND NOT EXISTS ( \
                        SELECT 1 FROM pg_index i \
                         WHERE i.indrelid = c.conrelid \
                           AND (SELECT array_agg(k ORDER BY k) FROM unnest( \
                                  (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(c.conkey)]) k) \
                             = (SELECT array_agg(k ORDER BY k) FROM unnest(c.conkey) k)) \
                  ORDER BY 1"
            }
            // Column by column: each column of the key sits at its position in an index.
            Backend::Sqlite => {
                "SELECT m.name || '.' || f.\"from\" AS line \
                   FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f \
                  WHERE m.type = 'table' \
                    AND NOT EXISTS ( \
                        SELECT 1 FROM pragma_index_list(m.name) il \
                          JOIN pragma_index_info(il.name) ii \
                         WHERE ii.seqno = f.seq AND ii.name = f.\"from\") \
                  ORDER BY 1"
            }
        };
        lines(conn, sql)
    }

    both_backends!(every_foreign_key_has_an_index, |db| {
        let mut conn = db.conn();
        assert_eq!(unindexed_foreign_keys(&mut conn), Vec::<String>::new());

        // The check itself finds one.
        conn.batch_execute(
            "CREATE TABLE fk_probe (id integer PRIMARY KEY, category text REFERENCES categories (code))",
        )
        .unwrap();
        let found = unindexed_foreign_keys(&mut conn);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("fk_probe."), "{found:?}");
    });

    both_backends!(categories_are_seeded, |db| {
        use crate::schema::categories::dsl::*;
        let mut conn = db.conn();
        let seeded: Vec<(String, String, Option<crate::types::DbUuid>)> = categories
            .select((code, name, department_id))
            .order(code)
            .load(&mut conn)
            .unwrap();
        let mut expected = vec![
            ("policy", "政策兑现"),
            ("financing", "融资"),
            ("land", "用地"),
            ("approval", "审批服务"),
            ("utilities", "水电气热"),
            ("enforcement", "执法检查"),
            ("safety", "安全生产"),
            ("labour", "用工"),
            ("logistics", "物流运输"),
            ("market", "市场准入"),
            ("other", "其他"),
        ];
        expected.sort();
        let seeded: Vec<(&str, &str)> = seeded
            .iter()
            .map(|(c, n, d)| {
                assert!(d.is_none(), "seeded categories are not mapped");
                (c.as_str(), n.as_str())
            })
            .collect();
        assert_eq!(seeded, expected);
    });

    // `schema.rs` is written by hand: select every column of every table so a name that
    // differs from the migrations fails here.
    both_backends!(schema_matches_the_database, |db| {
        use crate::schema::*;
        let mut conn = db.conn();
        macro_rules! select_all {
            ($($table:ident),* $(,)?) => {{
                let mut checked = Vec::new();
                $(
                    $table::table
                        .select($table::all_columns)
                        .limit(0)
                        .execute(&mut conn)
                        .unwrap_or_else(|e| panic!("{}: {e}", stringify!($table)));
                    checked.push(stringify!($table));
                )*
                checked
            }};
        }
        let checked = select_all!(
            departments,
            users,
            enterprises,
            enterprise_liaisons,
            categories,
            calendar_days,
            calendar_years,
            sla_policies,
            refresh_tokens,
            login_attempts,
            outbox,
            idempotency_keys,
            tickets,
            ticket_events,
            ticket_numbers,
            alerts,
            alert_recipients,
            visits,
            visit_tickets,
            ticket_search,
            ticket_stats,
            webhooks,
            webhook_events,
            attachments,
            ticket_co_handlers,
        );
        assert_eq!(checked, TABLES, "a table is missing from this test");
        // And no table in the database is missing from schema.rs.
        let sql = match conn.backend() {
            Backend::Postgres => {
                "SELECT table_name::text AS line FROM information_schema.tables \
                  WHERE table_schema = current_schema() ORDER BY 1"
            }
            Backend::Sqlite => {
                "SELECT name AS line FROM sqlite_master WHERE type = 'table' ORDER BY 1"
            }
        };
        let mut in_db: Vec<String> = lines(&mut conn, sql)
            .into_iter()
            .filter(|t| t != "__diesel_schema_migrations")
            // SQLite's FTS5 index of search grams and its shadow tables: raw SQL only.
            .filter(|t| !t.starts_with("ticket_search_grams"))
            .collect();
        in_db.sort();
        let mut in_schema: Vec<String> = TABLES.iter().map(|t| t.to_string()).collect();
        in_schema.sort();
        assert_eq!(in_db, in_schema);
    });

    both_backends!(nodes_starting_at_once_apply_each_migration_once, |db| {
        let steps = step_names(db.backend()).len();
        assert_eq!(revert_all(&mut db.conn()).unwrap(), steps);
        let applied: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| run_pending(&mut db.conn()).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(applied, steps);
        assert_eq!(pending_count(&mut db.conn()).unwrap(), 0);
    });
}
