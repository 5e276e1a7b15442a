//! Logging in and refreshing (DESIGN.md section 7): argon2id passwords, login throttling
//! counted in the database, refresh tokens rotated on use with reuse detection.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use jiban_domain::values::UserId;
use jiban_persistence::repo::auth as tokens;
use jiban_persistence::repo::users;
use jiban_persistence::{DbConnection, write_tx};

use crate::auth::jwt::{ACCESS_TOKEN_SECONDS, Keys};
use crate::auth::{REFRESH_TOKEN_DAYS, new_refresh_token, password, refresh_token_hash};
use crate::problem::ApiError;

/// Failed logins are counted over this window (a success clears the account's count).
pub const THROTTLE_WINDOW: Duration = Duration::minutes(15);
/// Failures per account in the window before 429: slows password guessing on one account.
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
/// Failures per client address in the window before 429: slows spraying one password over
/// many accounts. Higher, since an office may share one address.
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;

/// What a successful login or refresh answers.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

fn account_key(username: &str) -> String {
    format!("account:{username}")
}

fn address_key(address: IpAddr) -> String {
    format!("address:{address}")
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

/// Checks the password of `username` and issues tokens. Every failure answers the same
/// 401 `invalid_credentials`, whether the user is unknown, the password wrong or the
/// account deactivated, and takes the same time; failures are counted per account and per
/// client address, and past the limits the answer is 429 with `Retry-After`.
pub fn login(
    conn: &mut DbConnection,
    keys: &Keys,
    username: &str,
    password_given: &str,
    address: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<TokenPair, ApiError> {
    let account = account_key(username);
    let address = address.map(address_key);
    let mut wait = retry_after(conn, &account, MAX_FAILURES_PER_ACCOUNT, now)?;
    if let Some(address) = &address {
        wait = wait.max(retry_after(conn, address, MAX_FAILURES_PER_ADDRESS, now)?);
    }
    if let Some(seconds) = wait {
        // Not counted as a failure, and the password is not even checked: a blocked
        // client learns nothing, and cannot extend its own block forever.
        return Err(ApiError::too_many_attempts(seconds));
    }

    let credentials = users::credentials(conn, username)?;
    let verified = match &credentials {
        Some(c) => password::verify(password_given, &c.password_hash),
        None => {
            password::verify_nobody(password_given);
            false
        }
    };
    let user = match credentials {
        Some(c) if verified && c.active => c.id,
        Some(_) if verified => {
            // A deactivated account with the right password is not a guess: not counted.
            return Err(invalid_credentials());
        }
        _ => {
            write_tx(conn, |c| -> Result<(), ApiError> {
                let mut keys = vec![account.as_str()];
                keys.extend(address.as_deref());
                tokens::record_failure(c, &keys, now)?;
                // Housekeeping rides on failures: rows past the window no longer count.
                tokens::prune_failures(c, now - THROTTLE_WINDOW)?;
                Ok(())
            })?;
            return Err(invalid_credentials());
        }
    };

    let refresh_token = new_refresh_token()?;
    let hash = refresh_token_hash(&refresh_token);
    write_tx(conn, |c| -> Result<(), ApiError> {
        tokens::clear_failures(c, &account)?;
        tokens::insert_refresh_token(
            c,
            uuid::Uuid::new_v4(),
            user,
            &hash,
            now + Duration::days(REFRESH_TOKEN_DAYS),
            now,
        )?;
        Ok(())
    })?;
    Ok(TokenPair {
        access_token: keys.issue(user, now),
        refresh_token,
        expires_in: ACCESS_TOKEN_SECONDS,
    })
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
    Deactivated,
}

/// Trades a refresh token for a new access token and a new refresh token; the old one
/// stops working (rotation).
pub fn refresh(
    conn: &mut DbConnection,
    keys: &Keys,
    presented: &str,
    now: DateTime<Utc>,
) -> Result<TokenPair, ApiError> {
    let hash = refresh_token_hash(presented);
    let refresh_token = new_refresh_token()?;
    let new_hash = refresh_token_hash(&refresh_token);
    let new_id = uuid::Uuid::new_v4();
    // A refusal is an Ok(Err) so that the revocations it made are committed.
    let outcome = write_tx(conn, |c| -> Result<Result<UserId, Refused>, ApiError> {
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
        let active = users::find(c, old.user_id)?.is_some_and(|u| u.active);
        if !active {
            tokens::revoke_refresh_token(c, old.id, now)?;
            return Ok(Err(Refused::Deactivated));
        }
        tokens::insert_refresh_token(
            c,
            new_id,
            old.user_id,
            &new_hash,
            now + Duration::days(REFRESH_TOKEN_DAYS),
            now,
        )?;
        if !tokens::rotate_refresh_token(c, old.id, new_id, now)? {
            // Another request rotated it between our read and our write: a second copy
            // of the token is in use. Treat it as reuse.
            tokens::revoke_refresh_token(c, new_id, now)?;
            revoke_successors(c, old.id, now)?;
            return Ok(Err(Refused::Reused));
        }
        Ok(Ok(old.user_id))
    })?;
    match outcome {
        Ok(user) => Ok(TokenPair {
            access_token: keys.issue(user, now),
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
