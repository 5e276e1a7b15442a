//! Logging in, refreshing, logging out and changing one's password (DESIGN.md section 7):
//! argon2id passwords verified on the password workers, login throttling counted in the
//! database, refresh tokens rotated on use with reuse detection, grouped in sessions.
//!
//! A login uses the database twice, briefly, and never while argon2 runs: first one
//! transaction checks the throttle, records the attempt as a failure (both under a lock on
//! the attempt's keys, so fifty concurrent guesses cannot all pass the check) and reads the
//! password hash; then the password is verified on the workers, holding no connection;
//! then a second transaction forgets the recorded failure if the password was right and
//! stores the new session.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use jiban_domain::values::UserId;
use jiban_persistence::repo::auth::{self as tokens, Session};
use jiban_persistence::repo::users::{self, Credentials};
use jiban_persistence::{DbConnection, write_tx};

use crate::auth::jwt::{ACCESS_TOKEN_SECONDS, Keys};
use crate::auth::{REFRESH_TOKEN_DAYS, new_refresh_token, refresh_token_hash};
use crate::problem::ApiError;
use crate::state::AppState;

/// Failed logins are counted over this window (a success clears its pair's count).
pub const THROTTLE_WINDOW: Duration = Duration::minutes(15);
/// Failures per (account, client address) pair in the window before 429: slows guessing
/// one account's password from one place, and only there, so a stranger's failures do not
/// lock the real user out when they log in from elsewhere.
pub const MAX_FAILURES_PER_PAIR: i64 = 5;
/// Failures per client address in the window before 429: slows spraying one password over
/// many accounts. Higher, since an office may share one address.
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;
/// Wrong current passwords per user in the window before `POST /v1/me/password` answers
/// 429: a stolen access token must not become a password oracle.
pub const MAX_FAILURES_PER_PASSWORD_CHANGE: i64 = 5;

/// What a successful login or refresh answers.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

/// The part of a client address that throttling counts: an IPv4 address, or the /64 of
/// an IPv6 one (one subscriber gets a whole /64, so counting each address would give an
/// attacker 2^64 of them). IPv4-mapped IPv6 addresses count as their IPv4 address.
pub fn address_key(address: Option<IpAddr>) -> String {
    match address.map(|a| a.to_canonical()) {
        Some(IpAddr::V4(v4)) => format!("address:{v4}"),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("address:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        None => "address:unknown".to_owned(),
    }
}

/// The (account, address) pair's key.
pub fn pair_key(username: &str, address: &str) -> String {
    format!("pair:{username}|{address}")
}

fn password_change_key(user: UserId) -> String {
    format!("password:{user}")
}

/// Seconds until `key` may try again, if it has reached `limit` failures in the window:
/// until the `limit`-th newest failure leaves the window.
fn retry_after(
    conn: &mut DbConnection,
    key: &str,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<Option<u64>, ApiError> {
    let recent = tokens::recent_failures(conn, key, now - THROTTLE_WINDOW, limit)?;
    let Some(&boundary) = recent.get(usize::try_from(limit - 1).unwrap_or(usize::MAX)) else {
        return Ok(None);
    };
    let wait = (boundary + THROTTLE_WINDOW - now).num_milliseconds();
    // Rounded up: retrying after exactly Retry-After seconds must work.
    Ok(Some(u64::try_from((wait + 999) / 1000).unwrap_or(0).max(1)))
}

/// Inside a write transaction: 429 if any key has reached its limit, else one failure
/// recorded under each key (returned, to be forgotten if the attempt succeeds). The keys
/// are locked first, so the check and the record are one step.
fn reserve_attempt(
    conn: &mut DbConnection,
    limits: &[(&str, i64)],
    now: DateTime<Utc>,
) -> Result<Vec<uuid::Uuid>, ApiError> {
    let keys: Vec<&str> = limits.iter().map(|(key, _)| *key).collect();
    tokens::lock_attempt_keys(conn, &keys)?;
    let mut wait = None;
    for (key, limit) in limits {
        wait = wait.max(retry_after(conn, key, *limit, now)?);
    }
    if let Some(seconds) = wait {
        // Not counted as a failure, and the password is not even checked: a blocked
        // client learns nothing, and cannot extend its own block forever.
        return Err(ApiError::too_many_attempts(seconds));
    }
    Ok(tokens::record_failure(conn, &keys, now)?)
}

/// The first step of a login: the throttle, the attempt recorded, the stored hash.
pub struct LoginAttempt {
    pair: String,
    reserved: Vec<uuid::Uuid>,
    credentials: Option<Credentials>,
}

pub fn begin_login(
    conn: &mut DbConnection,
    username: &str,
    address: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<LoginAttempt, ApiError> {
    let address = address_key(address);
    let pair = pair_key(username, &address);
    write_tx(conn, |c| {
        let reserved = reserve_attempt(
            c,
            &[
                (pair.as_str(), MAX_FAILURES_PER_PAIR),
                (address.as_str(), MAX_FAILURES_PER_ADDRESS),
            ],
            now,
        )?;
        let credentials = users::credentials(c, username)?;
        Ok(LoginAttempt {
            pair: pair.clone(),
            reserved,
            credentials,
        })
    })
}

/// The last step of a login, once the password was verified (or not).
pub fn finish_login(
    conn: &mut DbConnection,
    attempt: LoginAttempt,
    verified: bool,
    session_days: u32,
    now: DateTime<Utc>,
) -> Result<(UserId, Session, String), ApiError> {
    match attempt.credentials {
        Some(c) if verified && c.active => {
            let refresh_token = new_refresh_token()?;
            let hash = refresh_token_hash(&refresh_token);
            let session = Session {
                id: uuid::Uuid::new_v4(),
                started_at: now,
            };
            write_tx(conn, |tx| -> Result<(), ApiError> {
                tokens::forget_attempts(tx, &attempt.reserved)?;
                tokens::clear_failures(tx, &attempt.pair)?;
                tokens::insert_refresh_token(
                    tx,
                    uuid::Uuid::new_v4(),
                    c.id,
                    session,
                    &hash,
                    refresh_expiry(session, session_days, now),
                    now,
                )?;
                Ok(())
            })?;
            Ok((c.id, session, refresh_token))
        }
        Some(_) if verified => {
            // A deactivated account with the right password is not a guess: not counted.
            tokens::forget_attempts(conn, &attempt.reserved)?;
            Err(invalid_credentials())
        }
        _ => {
            // The failure is recorded already. Housekeeping rides on failures: rows past
            // the window no longer count.
            tokens::prune_failures(conn, now - THROTTLE_WINDOW)?;
            Err(invalid_credentials())
        }
    }
}

/// Checks the password of `username` and issues tokens. Every failure answers the same
/// 401 `invalid_credentials`, whether the user is unknown, the password wrong or the
/// account deactivated, and takes the same time; failures are counted per (account,
/// address) pair and per address, and past the limits the answer is 429 with
/// `Retry-After`.
pub async fn login(
    state: &AppState,
    username: String,
    password: String,
    address: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<TokenPair, ApiError> {
    let attempt = state
        .db
        .run(move |conn| begin_login(conn, &username, address, now))
        .await?;
    let stored = attempt
        .credentials
        .as_ref()
        .map(|c| c.password_hash.clone());
    let verified = match state.passwords.verify(password, stored).await {
        Ok(verified) => verified,
        Err(e) => {
            // Not verified at all (the workers are saturated): not a failure either.
            let reserved = attempt.reserved;
            let _ = state
                .db
                .run(move |conn| tokens::forget_attempts(conn, &reserved))
                .await;
            return Err(e);
        }
    };
    let session_days = state.session_days;
    let (user, session, refresh_token) = state
        .db
        .run(move |conn| finish_login(conn, attempt, verified, session_days, now))
        .await?;
    Ok(TokenPair {
        access_token: state.keys.issue(user, session.id, now),
        refresh_token,
        expires_in: ACCESS_TOKEN_SECONDS,
    })
}

/// When a refresh token issued `now` in `session` expires: 30 days on, but never after
/// the session's end.
fn refresh_expiry(session: Session, session_days: u32, now: DateTime<Utc>) -> DateTime<Utc> {
    (now + Duration::days(REFRESH_TOKEN_DAYS)).min(session_end(session, session_days))
}

fn session_end(session: Session, session_days: u32) -> DateTime<Utc> {
    session.started_at + Duration::days(i64::from(session_days))
}

fn invalid_credentials() -> ApiError {
    ApiError::unauthorized("invalid_credentials", "wrong username or password")
}

/// Why a refresh token was refused (logged; the client sees one 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refused {
    Unknown,
    Revoked,
    /// A token already rotated was presented again: someone holds a copy. Its whole chain
    /// of successors is revoked, so both holders must log in again.
    Reused,
    Expired,
    /// The chain is older than `JIBAN_SESSION_DAYS`: log in again.
    SessionEnded,
    Deactivated,
}

/// Trades a refresh token for a new access token and a new refresh token; the old one
/// stops working (rotation).
pub fn refresh(
    conn: &mut DbConnection,
    keys: &Keys,
    presented: &str,
    session_days: u32,
    now: DateTime<Utc>,
) -> Result<TokenPair, ApiError> {
    let hash = refresh_token_hash(presented);
    let refresh_token = new_refresh_token()?;
    let new_hash = refresh_token_hash(&refresh_token);
    let new_id = uuid::Uuid::new_v4();
    // A refusal is an Ok(Err) so that the revocations it made are committed.
    let outcome = write_tx(
        conn,
        |c| -> Result<Result<(UserId, Session), Refused>, ApiError> {
            let Some(old) = tokens::find_refresh_token(c, &hash)? else {
                return Ok(Err(Refused::Unknown));
            };
            if old.revoked_at.is_some() {
                if old.replaced_by.is_some() {
                    revoke_successors(c, old.id, now)?;
                    return Ok(Err(Refused::Reused));
                }
                return Ok(Err(Refused::Revoked));
            }
            if old.expires_at <= now {
                return Ok(Err(Refused::Expired));
            }
            let session = Session {
                id: old.session_id,
                started_at: old.session_started_at,
            };
            if session_end(session, session_days) <= now {
                tokens::revoke_session(c, session.id, now)?;
                return Ok(Err(Refused::SessionEnded));
            }
            let active = users::find(c, old.user_id)?.is_some_and(|u| u.active);
            if !active {
                tokens::revoke_refresh_token(c, old.id, now)?;
                return Ok(Err(Refused::Deactivated));
            }
            tokens::insert_refresh_token(
                c,
                new_id,
                old.user_id,
                session,
                &new_hash,
                refresh_expiry(session, session_days, now),
                now,
            )?;
            if !tokens::rotate_refresh_token(c, old.id, new_id, now)? {
                // Another request rotated it between our read and our write: a second copy
                // of the token is in use. Treat it as reuse.
                tokens::revoke_refresh_token(c, new_id, now)?;
                revoke_successors(c, old.id, now)?;
                return Ok(Err(Refused::Reused));
            }
            Ok(Ok((old.user_id, session)))
        },
    )?;
    match outcome {
        Ok((user, session)) => Ok(TokenPair {
            access_token: keys.issue(user, session.id, now),
            refresh_token,
            expires_in: ACCESS_TOKEN_SECONDS,
        }),
        Err(reason) => {
            if reason == Refused::Reused {
                tracing::warn!("a rotated refresh token was presented again; its chain is revoked");
            } else {
                tracing::info!(?reason, "refresh token refused");
            }
            Err(ApiError::unauthorized(
                "invalid_refresh_token",
                "the refresh token is invalid, expired or already used; log in again",
            ))
        }
    }
}

/// Revokes every token that descends from `from` by rotation. A chain has at most one
/// live token (its newest); the walk is long only for a session refreshed for weeks, and
/// runs only when a token is reused.
fn revoke_successors(
    conn: &mut DbConnection,
    from: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let mut next = tokens::refresh_token_successor(conn, from)?;
    while let Some(id) = next {
        tokens::revoke_refresh_token(conn, id, now)?;
        next = tokens::refresh_token_successor(conn, id)?;
    }
    Ok(())
}

/// Logs out: revokes every token of the presented token's session (its chain, before and
/// after rotation). A token that is unknown, expired or already revoked is no error: the
/// answer is the same 204 (RFC 7009, section 2.2), so logging out twice is harmless and
/// the route tells nobody which tokens exist.
pub fn logout(
    conn: &mut DbConnection,
    presented: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let hash = refresh_token_hash(presented);
    write_tx(conn, |c| -> Result<(), ApiError> {
        if let Some(token) = tokens::find_refresh_token(c, &hash)? {
            tokens::revoke_session(c, token.session_id, now)?;
        }
        Ok(())
    })
}

fn wrong_current_password() -> ApiError {
    ApiError::invalid_field(
        "/current_password",
        "wrong_password",
        "the current password is not right",
    )
}

/// `POST /v1/me/password`: checks the current password (on the workers, holding no
/// connection; wrong guesses are throttled like logins), stores the new one and revokes
/// every other session of the user. The caller's own session, named by its access token,
/// keeps working; access tokens of the other sessions run out within 15 minutes.
pub async fn change_password(
    state: &AppState,
    user: UserId,
    current_session: Option<uuid::Uuid>,
    current_password: String,
    new_password: String,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let key = password_change_key(user);
    let (reserved, stored) = state
        .db
        .run(move |conn| {
            write_tx(conn, |c| {
                let reserved =
                    reserve_attempt(c, &[(key.as_str(), MAX_FAILURES_PER_PASSWORD_CHANGE)], now)?;
                let stored = users::password_hash(c, user)?.ok_or_else(ApiError::not_found)?;
                Ok::<_, ApiError>((reserved, stored))
            })
        })
        .await?;
    let verified = state.passwords.verify(current_password, Some(stored)).await;
    if !matches!(verified, Ok(true)) {
        if verified.is_err() {
            let _ = state
                .db
                .run(move |conn| tokens::forget_attempts(conn, &reserved))
                .await;
        }
        return Err(verified.err().unwrap_or_else(wrong_current_password));
    }
    let hash = state.passwords.hash(new_password).await?;
    state
        .db
        .run(move |conn| {
            write_tx(conn, |c| -> Result<(), ApiError> {
                tokens::forget_attempts(c, &reserved)?;
                let changes = users::UserChanges {
                    password_hash: Some(hash),
                    ..Default::default()
                };
                users::update(c, user, changes, now)?;
                match current_session {
                    Some(keep) => tokens::revoke_other_sessions(c, user, keep, now)?,
                    None => tokens::revoke_all_refresh_tokens(c, user, now)?,
                };
                Ok(())
            })
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_count_by_their_64() {
        let key = |s: &str| address_key(Some(s.parse().unwrap()));
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "address:2001:db8:1:2::/64");
        assert_eq!(
            key("2001:db8:1:2:ffff:ffff:ffff:ffff"),
            key("2001:db8:1:2::")
        );
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("203.0.113.7"), "address:203.0.113.7");
        assert_ne!(key("203.0.113.7"), key("203.0.113.8"));
        assert_eq!(key("::ffff:203.0.113.7"), key("203.0.113.7"), "IPv4-mapped");
        assert_eq!(address_key(None), "address:unknown");
    }

    #[test]
    fn a_chain_ends_with_its_session() {
        let now = Utc::now();
        let session = Session {
            id: uuid::Uuid::new_v4(),
            started_at: now - Duration::days(29),
        };
        assert_eq!(refresh_expiry(session, 30, now), now + Duration::days(1));
        let fresh = Session {
            id: session.id,
            started_at: now,
        };
        assert_eq!(
            refresh_expiry(fresh, 90, now),
            now + Duration::days(REFRESH_TOKEN_DAYS)
        );
    }
}
