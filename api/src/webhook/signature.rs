//! The signature of a webhook delivery (issue 10, point 4; docs/API.md, "Webhooks"):
//!
//! ```text
//! X-Jiban-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//! ```
//!
//! The key is the webhook's secret as the create answer showed it (its UTF-8 bytes, the
//! `whsec_` prefix included); the message is the decimal timestamp, a full stop, and the
//! body exactly as received. A receiver recomputes it, compares in constant time, and
//! refuses a timestamp too far from its clock ([`verify`] allows five minutes), so a
//! recorded delivery cannot be replayed later. Each try is signed afresh: a retry carries a
//! new `t` and the same `X-Jiban-Delivery`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// What every secret starts with, so that one pasted into the wrong place is recognisable.
pub const SECRET_PREFIX: &str = "whsec_";
/// How far a delivery's `t` may be from the receiver's clock in [`verify`].
pub const TOLERANCE_SECONDS: i64 = 300;

/// A new secret: [`SECRET_PREFIX`] and 32 random bytes in hex (256 bits, the HMAC's own
/// block of strength).
pub fn new_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{SECRET_PREFIX}{}", hex(&bytes)))
}

/// The hex HMAC-SHA256 of `"<t>.<body>"` under `secret`.
pub fn mac(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex(&mac.finalize().into_bytes())
}

/// The `X-Jiban-Signature` value for `body` sent at `t` (unix seconds).
pub fn header(secret: &str, t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", mac(secret, t, body))
}

/// Why a signature was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("the header is not t=<seconds>,v1=<hex>")]
    Malformed,
    #[error("the timestamp is too far from now")]
    Stale,
    #[error("the signature does not match")]
    Mismatch,
}

/// What a receiver does (docs/API.md shows the same in Python): parse `t` and every `v1`,
/// refuse a `t` more than [`TOLERANCE_SECONDS`] from `now`, and accept when one `v1`
/// equals the HMAC, compared in constant time. Unknown `k=v` parts are ignored, so a
/// future scheme can be added beside `v1`.
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64) -> Result<(), Invalid> {
    let mut t = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = Some(v.parse::<i64>().map_err(|_| Invalid::Malformed)?),
            Some(("v1", v)) => candidates.push(v),
            Some(_) => {}
            None => return Err(Invalid::Malformed),
        }
    }
    let t = t.ok_or(Invalid::Malformed)?;
    if candidates.is_empty() {
        return Err(Invalid::Malformed);
    }
    if (now - t).abs() > TOLERANCE_SECONDS {
        return Err(Invalid::Stale);
    }
    let mut expected = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    expected.update(t.to_string().as_bytes());
    expected.update(b".");
    expected.update(body);
    for candidate in candidates {
        if let Some(bytes) = unhex(candidate)
            && expected.clone().verify_slice(&bytes).is_ok()
        {
            return Ok(());
        }
    }
    Err(Invalid::Mismatch)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The MAC is HMAC-SHA256 under the secret's bytes over "<t>.<body>", hex; the
    /// primitive itself gives RFC 4231's test case 2.
    #[test]
    fn the_mac_is_hmac_sha256_of_t_dot_body() {
        let mut by_hand = HmacSha256::new_from_slice(b"whsec_k").unwrap();
        by_hand.update(b"1764748800.{\"event\":\"ticket.closed\"}");
        assert_eq!(
            mac("whsec_k", 1_764_748_800, br#"{"event":"ticket.closed"}"#),
            hex(&by_hand.finalize().into_bytes())
        );
        // RFC 4231 test case 2 through the same primitive.
        let mut rfc = HmacSha256::new_from_slice(b"Jefe").unwrap();
        rfc.update(b"what do ya want for nothing?");
        assert_eq!(
            hex(&rfc.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_receiver_verifies_what_we_sign() {
        let secret = new_secret().unwrap();
        assert!(secret.starts_with(SECRET_PREFIX));
        assert_eq!(secret.len(), SECRET_PREFIX.len() + 64);
        assert_ne!(secret, new_secret().unwrap());
        let body = "{\"event\":\"ticket.commented\",\"title\":\"厂区停电\"}".as_bytes();
        let t = 1_764_748_800;
        let h = header(&secret, t, body);
        assert!(h.starts_with(&format!("t={t},v1=")));
        assert_eq!(verify(&secret, &h, body, t + 10), Ok(()));
        assert_eq!(verify(&secret, &h, body, t - 299), Ok(()));
        assert_eq!(verify(&secret, &h, body, t + 301), Err(Invalid::Stale));
        assert_eq!(verify(&secret, &h, b"{}", t), Err(Invalid::Mismatch));
        assert_eq!(verify("whsec_other", &h, body, t), Err(Invalid::Mismatch));
        let forged = h.replace("t=1764748800", "t=1764748900");
        assert_eq!(
            verify(&secret, &forged, body, t + 100),
            Err(Invalid::Mismatch)
        );
        // Another scheme beside v1 is ignored; a second v1 may match.
        let rotated = format!("{h},v0=abc,v1=00");
        assert_eq!(verify(&secret, &rotated, body, t), Ok(()));
        for bad in ["", "t=1", "v1=00", "t=x,v1=00", "garbage"] {
            assert_eq!(
                verify(&secret, bad, body, t),
                Err(Invalid::Malformed),
                "{bad}"
            );
        }
    }
}
