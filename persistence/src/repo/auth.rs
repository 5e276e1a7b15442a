//! Sessions and login throttling, kept in the database so that every node sees the same
//! state (DESIGN.md section 2, "Several nodes … keep login throttling in the database").

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use jiban_domain::values::UserId;

use crate::conn::DbConnection;
use crate::error::StoreError;
use crate::schema::{login_attempts, refresh_tokens};
use crate::types::{DbInstant, DbUuid};

// ---------------------------------------------------------------------------------------
// Refresh tokens
// ---------------------------------------------------------------------------------------

/// A refresh token as stored: only its hash, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    pub id: uuid::Uuid,
    pub user_id: UserId,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The token that replaced this one when it was used (rotation).
    pub replaced_by: Option<uuid::Uuid>,
    /// The login this token descends from: every token of one chain shares it.
    pub session_id: uuid::Uuid,
    /// When that login happened: the chain's absolute lifetime counts from here.
    pub session_started_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
struct Row {
    id: DbUuid,
    user_id: DbUuid,
    expires_at: DbInstant,
    revoked_at: Option<DbInstant>,
    replaced_by: Option<DbUuid>,
    session_id: DbUuid,
    session_started_at: DbInstant,
}

impl From<Row> for RefreshTokenRecord {
    fn from(r: Row) -> Self {
        RefreshTokenRecord {
            id: r.id.0,
            user_id: UserId::from_uuid(r.user_id.0),
            expires_at: r.expires_at.get(),
            revoked_at: r.revoked_at.map(DbInstant::get),
            replaced_by: r.replaced_by.map(|u| u.0),
            session_id: r.session_id.0,
            session_started_at: r.session_started_at.get(),
        }
    }
}

/// A session: the chain of refresh tokens that one login starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    pub id: uuid::Uuid,
    pub started_at: DateTime<Utc>,
}

pub fn insert_refresh_token(
    conn: &mut DbConnection,
    id: uuid::Uuid,
    user: UserId,
    session: Session,
    token_hash: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(DbUuid(id)),
            refresh_tokens::session_id.eq(DbUuid(session.id)),
            refresh_tokens::session_started_at.eq(DbInstant::from(session.started_at)),
            refresh_tokens::user_id.eq(DbUuid(user.as_uuid())),
            refresh_tokens::token_hash.eq(token_hash),
            refresh_tokens::expires_at.eq(DbInstant::from(expires_at)),
            refresh_tokens::created_at.eq(DbInstant::from(now)),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find_refresh_token(
    conn: &mut DbConnection,
    token_hash: &str,
) -> Result<Option<RefreshTokenRecord>, StoreError> {
    Ok(refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(RefreshTokenRecord::from))
}

/// Revokes `old` as replaced by `new`, unless it is revoked already; returns whether this
/// call did it. Two requests racing with one token: only one wins, the other is reuse.
pub fn rotate_refresh_token(
    conn: &mut DbConnection,
    old: uuid::Uuid,
    new: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let updated = diesel::update(
        refresh_tokens::table
            .find(DbUuid(old))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set((
        refresh_tokens::revoked_at.eq(Some(DbInstant::from(now))),
        refresh_tokens::replaced_by.eq(Some(DbUuid(new))),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Revokes one token (if it is not revoked yet).
pub fn revoke_refresh_token(
    conn: &mut DbConnection,
    id: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let updated = diesel::update(
        refresh_tokens::table
            .find(DbUuid(id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(DbInstant::from(now))))
    .execute(conn)?;
    Ok(updated == 1)
}

/// The token that replaced `id`, if any.
pub fn refresh_token_successor(
    conn: &mut DbConnection,
    id: uuid::Uuid,
) -> Result<Option<uuid::Uuid>, StoreError> {
    let successor: Option<Option<DbUuid>> = refresh_tokens::table
        .find(DbUuid(id))
        .select(refresh_tokens::replaced_by)
        .first(conn)
        .optional()?;
    Ok(successor.flatten().map(|u| u.0))
}

/// Revokes every live token of one session (logout); returns how many.
pub fn revoke_session(
    conn: &mut DbConnection,
    session: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::session_id.eq(DbUuid(session)))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(DbInstant::from(now))))
    .execute(conn)?)
}

/// Revokes every live refresh token of a user except those of `keep` (the session that
/// changed its own password); returns how many.
pub fn revoke_other_sessions(
    conn: &mut DbConnection,
    user: UserId,
    keep: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(DbUuid(user.as_uuid())))
            .filter(refresh_tokens::session_id.ne(DbUuid(keep)))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(DbInstant::from(now))))
    .execute(conn)?)
}

/// Moves the start of every session of `user` (tests of `JIBAN_SESSION_DAYS`, which
/// cannot wait a month).
#[cfg(feature = "test-util")]
pub fn set_session_start(
    conn: &mut DbConnection,
    user: UserId,
    started_at: DateTime<Utc>,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        refresh_tokens::table.filter(refresh_tokens::user_id.eq(DbUuid(user.as_uuid()))),
    )
    .set(refresh_tokens::session_started_at.eq(DbInstant::from(started_at)))
    .execute(conn)?)
}

/// Revokes every live refresh token of a user; returns how many.
pub fn revoke_all_refresh_tokens(
    conn: &mut DbConnection,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(DbUuid(user.as_uuid())))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(DbInstant::from(now))))
    .execute(conn)?)
}

// ---------------------------------------------------------------------------------------
// Login attempts
// ---------------------------------------------------------------------------------------

/// The newest failed attempts of `key` since `since`, newest first, at most `limit`.
pub fn recent_failures(
    conn: &mut DbConnection,
    key: &str,
    since: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<DateTime<Utc>>, StoreError> {
    Ok(login_attempts::table
        .filter(login_attempts::key.eq(key))
        .filter(login_attempts::attempted_at.ge(DbInstant::from(since)))
        .select(login_attempts::attempted_at)
        .order(login_attempts::attempted_at.desc())
        .limit(limit)
        .load::<DbInstant>(conn)?
        .into_iter()
        .map(DbInstant::get)
        .collect())
}

/// Serialises the attempts on `keys` until the caller's transaction ends, so that a
/// count read after this and the row recorded after it are one step: of fifty concurrent
/// logins only the first `limit` pass. PostgreSQL: a transaction-scoped advisory lock per
/// key (in sorted order, so two callers cannot deadlock); SQLite: nothing to do, since
/// `write_tx`'s `BEGIN IMMEDIATE` already holds the one write lock.
pub fn lock_attempt_keys(conn: &mut DbConnection, keys: &[&str]) -> Result<(), StoreError> {
    let DbConnection::Pg(pg) = conn else {
        return Ok(());
    };
    let mut keys = keys.to_vec();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind::<diesel::sql_types::Text, _>(key)
            .execute(pg)?;
    }
    Ok(())
}

/// Records one failed attempt under each key; returns the rows' ids (a login records its
/// attempt before checking the password, and forgets it if the password was right).
pub fn record_failure(
    conn: &mut DbConnection,
    keys: &[&str],
    now: DateTime<Utc>,
) -> Result<Vec<uuid::Uuid>, StoreError> {
    let mut ids = Vec::with_capacity(keys.len());
    for key in keys {
        let id = uuid::Uuid::new_v4();
        diesel::insert_into(login_attempts::table)
            .values((
                login_attempts::id.eq(DbUuid(id)),
                login_attempts::key.eq(*key),
                login_attempts::attempted_at.eq(DbInstant::from(now)),
            ))
            .execute(conn)?;
        ids.push(id);
    }
    Ok(ids)
}

/// Deletes the attempts with these ids (a login that turned out not to be a failure).
pub fn forget_attempts(conn: &mut DbConnection, ids: &[uuid::Uuid]) -> Result<usize, StoreError> {
    let ids: Vec<DbUuid> = ids.iter().copied().map(DbUuid).collect();
    Ok(
        diesel::delete(login_attempts::table.filter(login_attempts::id.eq_any(ids)))
            .execute(conn)?,
    )
}

/// Forgets the failures of a key (a successful login clears its account's).
pub fn clear_failures(conn: &mut DbConnection, key: &str) -> Result<usize, StoreError> {
    Ok(diesel::delete(login_attempts::table.filter(login_attempts::key.eq(key))).execute(conn)?)
}

/// Deletes attempts older than `before`: they no longer count.
pub fn prune_failures(conn: &mut DbConnection, before: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        login_attempts::table.filter(login_attempts::attempted_at.lt(DbInstant::from(before))),
    )
    .execute(conn)?)
}

/// Deletes the refresh tokens that expired before `before`: none of them can be used again
/// (housekeeping, DESIGN.md section 8). A token still named as the successor of one that
/// has not expired is kept, for the chain's foreign key.
pub fn prune_refresh_tokens(
    conn: &mut DbConnection,
    before: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let cut = DbInstant::from(before);
    let live = diesel::alias!(refresh_tokens as live);
    let successors_of_live = live
        .filter(live.field(refresh_tokens::expires_at).ge(cut))
        .filter(live.field(refresh_tokens::replaced_by).is_not_null())
        .select(live.field(refresh_tokens::replaced_by));
    Ok(diesel::delete(
        refresh_tokens::table
            .filter(refresh_tokens::expires_at.lt(cut))
            .filter(refresh_tokens::id.nullable().ne_all(successors_of_live)),
    )
    .execute(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::both_backends;
    use crate::repo::users::{self, NewUser};
    use chrono::Duration;
    use jiban_domain::values::Role;

    fn user(conn: &mut DbConnection) -> UserId {
        let id = UserId::from_uuid(uuid::Uuid::new_v4());
        users::insert(
            conn,
            &NewUser {
                id,
                username: "wang",
                password_hash: "x",
                role: Role::Officer,
                display_name: "王",
                email: "wang@example.gov.cn",
                department_id: None,
                enterprise_id: None,
                now: Utc::now(),
            },
        )
        .unwrap();
        id
    }

    both_backends!(rotation_wins_once, |db| {
        let mut conn = db.conn();
        let now = Utc::now();
        let u = user(&mut conn);
        let (a, b, c) = (
            uuid::Uuid::new_v4(),
            uuid::Uuid::new_v4(),
            uuid::Uuid::new_v4(),
        );
        let exp = now + Duration::days(30);
        let s = Session {
            id: a,
            started_at: now,
        };
        insert_refresh_token(&mut conn, a, u, s, "ha", exp, now).unwrap();
        insert_refresh_token(&mut conn, b, u, s, "hb", exp, now).unwrap();
        assert!(rotate_refresh_token(&mut conn, a, b, now).unwrap());
        insert_refresh_token(&mut conn, c, u, s, "hc", exp, now).unwrap();
        assert!(
            !rotate_refresh_token(&mut conn, a, c, now).unwrap(),
            "second use"
        );
        let found = find_refresh_token(&mut conn, "ha").unwrap().unwrap();
        assert_eq!(found.replaced_by, Some(b));
        assert_eq!(found.session_id, a);
        assert_eq!(refresh_token_successor(&mut conn, a).unwrap(), Some(b));
        assert_eq!(revoke_all_refresh_tokens(&mut conn, u, now).unwrap(), 2);
        assert!(
            !revoke_refresh_token(&mut conn, c, now).unwrap(),
            "already revoked"
        );
    });

    both_backends!(sessions_are_revoked_whole, |db| {
        let mut conn = db.conn();
        let now = Utc::now();
        let u = user(&mut conn);
        let exp = now + Duration::days(30);
        let (s1, s2) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
        for (session, hash) in [(s1, "a1"), (s1, "a2"), (s2, "b1")] {
            let session = Session {
                id: session,
                started_at: now,
            };
            insert_refresh_token(&mut conn, uuid::Uuid::new_v4(), u, session, hash, exp, now)
                .unwrap();
        }
        assert_eq!(revoke_other_sessions(&mut conn, u, s2, now).unwrap(), 2);
        assert!(
            find_refresh_token(&mut conn, "b1")
                .unwrap()
                .unwrap()
                .revoked_at
                .is_none()
        );
        assert_eq!(revoke_session(&mut conn, s2, now).unwrap(), 1);
        assert!(
            find_refresh_token(&mut conn, "b1")
                .unwrap()
                .unwrap()
                .revoked_at
                .is_some()
        );
    });

    both_backends!(failures_count_within_the_window, |db| {
        let mut conn = db.conn();
        let now = Utc::now();
        for minutes in [20, 10, 5, 1] {
            record_failure(
                &mut conn,
                &["account:wang"],
                now - Duration::minutes(minutes),
            )
            .unwrap();
        }
        let recent =
            recent_failures(&mut conn, "account:wang", now - Duration::minutes(15), 10).unwrap();
        assert_eq!(recent.len(), 3);
        assert!(recent[0] > recent[2], "newest first");
        assert_eq!(
            prune_failures(&mut conn, now - Duration::minutes(15)).unwrap(),
            1
        );
        let ids = record_failure(&mut conn, &["account:wang", "address:x"], now).unwrap();
        assert_eq!(forget_attempts(&mut conn, &ids).unwrap(), 2);
        lock_attempt_keys(&mut conn, &["account:wang", "address:x"]).unwrap();
        assert_eq!(clear_failures(&mut conn, "account:wang").unwrap(), 3);
    });

    both_backends!(old_attempts_go_and_young_ones_stay, |db| {
        let mut conn = db.conn();
        let now = Utc::now();
        for minutes in [60, 16, 14, 0] {
            record_failure(
                &mut conn,
                &["address:10.0.0.1"],
                now - Duration::minutes(minutes),
            )
            .unwrap();
        }
        let window = now - Duration::minutes(15);
        assert_eq!(prune_failures(&mut conn, window).unwrap(), 2);
        assert_eq!(
            prune_failures(&mut conn, window).unwrap(),
            0,
            "twice is safe"
        );
        let left =
            recent_failures(&mut conn, "address:10.0.0.1", now - Duration::days(1), 10).unwrap();
        assert_eq!(
            left,
            vec![now, now - Duration::minutes(14)]
                .into_iter()
                .map(|t| DbInstant::from(t).get())
                .collect::<Vec<_>>()
        );
    });

    both_backends!(expired_refresh_tokens_go_and_live_ones_stay, |db| {
        let mut conn = db.conn();
        let now = Utc::now();
        let u = user(&mut conn);
        let id = |_| uuid::Uuid::new_v4();
        let [old, old_next, live, expired_successor, its_live_parent] = [0; 5].map(id);
        let day = Duration::days(1);
        let session = Session {
            id: uuid::Uuid::new_v4(),
            started_at: now - day * 31,
        };
        // A rotated chain, both expired: both go.
        insert_refresh_token(&mut conn, old, u, session, "h1", now - day, now - day * 31).unwrap();
        insert_refresh_token(
            &mut conn,
            old_next,
            u,
            session,
            "h2",
            now - day,
            now - day * 30,
        )
        .unwrap();
        assert!(rotate_refresh_token(&mut conn, old, old_next, now - day * 30).unwrap());
        // Not expired: stays.
        insert_refresh_token(&mut conn, live, u, session, "h3", now + day, now).unwrap();
        // Expired but the successor of a live token: kept for the foreign key.
        insert_refresh_token(&mut conn, its_live_parent, u, session, "h4", now + day, now).unwrap();
        insert_refresh_token(
            &mut conn,
            expired_successor,
            u,
            session,
            "h5",
            now - day,
            now,
        )
        .unwrap();
        assert!(rotate_refresh_token(&mut conn, its_live_parent, expired_successor, now).unwrap());

        assert_eq!(prune_refresh_tokens(&mut conn, now).unwrap(), 2);
        assert_eq!(
            prune_refresh_tokens(&mut conn, now).unwrap(),
            0,
            "twice is safe"
        );
        for (hash, kept) in [
            ("h1", false),
            ("h2", false),
            ("h3", true),
            ("h4", true),
            ("h5", true),
        ] {
            assert_eq!(
                find_refresh_token(&mut conn, hash).unwrap().is_some(),
                kept,
                "{hash}"
            );
        }
    });
}
