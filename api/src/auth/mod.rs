//! Authentication (DESIGN.md section 7; docs/API.md, "Authentication").
//!
//! - [`jwt`]: 15-minute HS256 access tokens naming only the user.
//! - [`password`]: argon2id hashes.
//! - [`PrincipalCache`]: each node's copy of who a user is to the rules (role, department,
//!   enterprise, stations, active), refreshed from the database at most every
//!   `JIBAN_AUTH_CACHE_SECONDS` (30) per user. Authenticating a request thus costs no
//!   database round trip in steady state, and a deactivation or a change of stations
//!   reaches every node within that time (the node that made the change drops its copy at
//!   once).
//! - [`Authenticated`]: the extractor handlers use; it yields the domain's [`Actor`], and
//!   takes a write from the caller's allowance ([`crate::ratelimit`]).
//! - Refresh tokens: 32 random bytes, stored as their SHA-256, rotated on use
//!   ([`crate::usecase::auth`]).

pub mod jwt;
pub mod password;

use std::collections::HashMap;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use jiban_domain::values::{Role, UserId};
use jiban_domain::{Actor, User};
use jiban_persistence::repo::users::{self, Principal};
use sha2::{Digest, Sha256};

use crate::problem::ApiError;
use crate::state::AppState;

/// A refresh token lives 30 days (rotated on each use), and never past its session's end
/// (`JIBAN_SESSION_DAYS`).
pub const REFRESH_TOKEN_DAYS: i64 = 30;

/// A new refresh token: 32 random bytes, base64url without padding (43 characters).
pub fn new_refresh_token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(format!("getrandom: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// What is stored of a refresh token: its SHA-256, hex. A stolen database does not yield
/// usable tokens; 256 random bits need no salt or slow hash.
pub fn refresh_token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Each node's cache of principals, keyed by user id. See the module documentation.
pub struct PrincipalCache {
    ttl: Duration,
    entries: RwLock<HashMap<UserId, (Principal, Instant)>>,
}

impl PrincipalCache {
    pub fn new(ttl: Duration) -> PrincipalCache {
        PrincipalCache {
            ttl,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// A copy younger than the time to live.
    pub fn get(&self, id: UserId) -> Option<Principal> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        entries
            .get(&id)
            .filter(|(_, fetched)| fetched.elapsed() < self.ttl)
            .map(|(principal, _)| principal.clone())
    }

    pub fn put(&self, principal: Principal) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        entries.insert(principal.user.id, (principal, Instant::now()));
    }

    /// Forgets a user, after this node changed it (deactivated, stations changed).
    pub fn invalidate(&self, id: UserId) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        entries.remove(&id);
    }

    /// The principal of `id`: the cached copy, or a fresh one from the database.
    pub async fn load(
        &self,
        db: &crate::db::Db,
        id: UserId,
    ) -> Result<Option<Principal>, ApiError> {
        if let Some(principal) = self.get(id) {
            return Ok(Some(principal));
        }
        let principal = db.run(move |conn| users::principal(conn, id)).await?;
        if let Some(principal) = &principal {
            self.put(principal.clone());
        }
        Ok(principal)
    }
}

/// The authenticated caller, as the rules see it. Extracting it answers 401 (with
/// `WWW-Authenticate: Bearer`) when the `Authorization: Bearer` token is missing, is not
/// acceptable, or names a user that does not exist or is deactivated; and 429
/// `too_many_requests` when the request is a write past the caller's rate limit.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Actor, pub Option<uuid::Uuid>);

impl Authenticated {
    /// The user behind the request (an access token always names one).
    pub fn user(&self) -> &User {
        match &self.0 {
            Actor::User(user) => user,
            Actor::System => unreachable!("access tokens name users"),
        }
    }

    pub fn id(&self) -> UserId {
        self.user().id
    }

    /// The session the access token was issued in (`None` for tokens from before
    /// sessions were named).
    pub fn session(&self) -> Option<uuid::Uuid> {
        self.1
    }

    pub fn role(&self) -> Role {
        self.user().role
    }

    /// 403 `not_permitted` unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role()) {
            Ok(())
        } else {
            Err(ApiError::not_permitted())
        }
    }

    /// 403 unless the caller is an admin.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        self.require(&[Role::Admin])
    }

    pub fn into_actor(self) -> Actor {
        self.0
    }
}

impl Deref for Authenticated {
    type Target = Actor;
    fn deref(&self) -> &Actor {
        &self.0
    }
}

impl FromRequest for Authenticated {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        let write = crate::ratelimit::counts(req.method());
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("AppState is not registered"))?;
            let token = token?;
            let verified = state.keys.verify(&token, Utc::now()).map_err(|e| {
                tracing::debug!(error = %e, "access token refused");
                ApiError::invalid_token("the access token is invalid or expired")
            })?;
            match state.principals.load(&state.db, verified.user).await? {
                Some(principal) if principal.active => {
                    if let (true, Some(limiter)) = (write, &state.write_limiter) {
                        limiter.take(principal.user.id).map_err(|retry_after| {
                            ApiError::too_many_requests(retry_after, limiter.per_minute())
                        })?;
                    }
                    Ok(Authenticated(Actor::User(principal.user), verified.session))
                }
                _ => Err(ApiError::invalid_token("the account is deactivated or gone").into()),
            }
        })
    }
}

/// The token of `Authorization: Bearer <token>` (the scheme is case-insensitive, RFC 7235).
fn bearer_token(req: &HttpRequest) -> Result<String, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Err(ApiError::unauthorized(
            "missing_token",
            "send an access token: Authorization: Bearer <token>",
        ));
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::invalid_token("the Authorization header is not text"))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_owned())
        }
        _ => Err(ApiError::invalid_token(
            "the Authorization header must read Bearer <token>",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, b) = (new_refresh_token().unwrap(), new_refresh_token().unwrap());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        let h = refresh_token_hash(&a);
        assert_eq!(h.len(), 64);
        assert_eq!(h, refresh_token_hash(&a));
        assert_ne!(h, refresh_token_hash(&b));
    }

    #[test]
    fn the_cache_forgets_after_its_lifetime() {
        let principal = Principal {
            user: User {
                id: UserId::from_uuid(uuid::Uuid::new_v4()),
                role: Role::Officer,
                department_id: None,
                enterprise_id: None,
                stationed_at: Vec::new(),
            },
            active: true,
        };
        let id = principal.user.id;
        let cache = PrincipalCache::new(Duration::from_secs(60));
        cache.put(principal.clone());
        assert_eq!(cache.get(id), Some(principal.clone()));
        cache.invalidate(id);
        assert_eq!(cache.get(id), None);
        let zero = PrincipalCache::new(Duration::ZERO);
        zero.put(principal);
        assert_eq!(
            zero.get(id),
            None,
            "a zero lifetime never serves from the cache"
        );
    }
}
