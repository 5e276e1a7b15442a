//! Access tokens: HS256 JWTs of 15 minutes (DESIGN.md section 7).
//!
//! The algorithm is pinned (a token naming `none` or RS256 is refused before any key is
//! tried), and `iss`, `aud`, `sub`, `iat`, `nbf` and `exp` must all be present and valid.
//! The token names only the user (`sub`): role, department and stations come from the
//! node's principal cache, so a change to them applies within the cache's lifetime
//! instead of the token's.

use chrono::{DateTime, Utc};
use jiban_domain::values::UserId;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// Who issues access tokens.
pub const ISSUER: &str = "jiban";
/// Who they are for: this API, and nothing else signed with the same secret.
pub const AUDIENCE: &str = "jiban-api";
/// 15 minutes.
pub const ACCESS_TOKEN_SECONDS: i64 = 15 * 60;
/// Clock skew tolerated between nodes, for `exp`, `nbf` and `iat`.
pub const LEEWAY_SECONDS: i64 = 30;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: String,
    iat: i64,
    nbf: i64,
    exp: i64,
    /// The session (chain of refresh tokens) the token was issued in, so that
    /// `POST /v1/me/password` can keep the caller's own session and end the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<uuid::Uuid>,
}

/// What a valid access token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub user: UserId,
    pub session: Option<uuid::Uuid>,
}

/// The signing key and the pinned validation rules.
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

/// Why a token was refused; the client only learns "invalid token".
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("token refused: {0}")]
    Refused(#[from] jsonwebtoken::errors::Error),
    #[error("token issued in the future")]
    IssuedInFuture,
    #[error("token subject is not a user id")]
    BadSubject,
}

impl Keys {
    pub fn new(secret: &[u8]) -> Keys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS as u64;
        Keys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// A signed access token for `user`, valid from `now` for [`ACCESS_TOKEN_SECONDS`].
    pub fn issue(&self, user: UserId, session: uuid::Uuid, now: DateTime<Utc>) -> String {
        let iat = now.timestamp();
        let claims = Claims {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: user.to_string(),
            iat,
            nbf: iat,
            exp: iat + ACCESS_TOKEN_SECONDS,
            sid: Some(session),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing with an in-memory key does not fail")
    }

    /// The user a token was issued to, if the token is acceptable now. `exp` and `nbf`
    /// are checked by jsonwebtoken against the system clock; `iat` (required by the
    /// claims type) must not lie in the future either.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Verified, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)?;
        if data.claims.iat > now.timestamp() + LEEWAY_SECONDS {
            return Err(TokenError::IssuedInFuture);
        }
        let user = data
            .claims
            .sub
            .parse::<UserId>()
            .map_err(|_| TokenError::BadSubject)?;
        Ok(Verified {
            user,
            session: data.claims.sid,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_and_others_do_not() {
        let keys = Keys::new(b"0123456789abcdef0123456789abcdef");
        let user = UserId::from_uuid(uuid::Uuid::new_v4());
        let now = Utc::now();
        let session = uuid::Uuid::new_v4();
        let token = keys.issue(user, session, now);
        let verified = keys.verify(&token, now).unwrap();
        assert_eq!((verified.user, verified.session), (user, Some(session)));

        let other = Keys::new(b"another-secret-another-secret-xx");
        assert!(other.verify(&token, now).is_err(), "another secret");
        let expired = keys.issue(user, session, now - chrono::Duration::hours(1));
        assert!(keys.verify(&expired, now).is_err(), "expired");
        assert!(keys.verify("garbage", now).is_err());
    }
}
