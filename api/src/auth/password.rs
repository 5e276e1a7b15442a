//! Passwords: argon2id with the crate's defaults (OWASP's recommended m=19 MiB, t=2, p=1),
//! stored as PHC strings. Hashing is CPU work: callers run it on the blocking pool and
//! outside any database transaction.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use std::sync::OnceLock;

/// The argon2id PHC string of `password`, with a fresh random salt.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    Ok(Argon2::default()
        .hash_password(password.as_bytes())?
        .to_string())
}

/// Whether `password` matches the stored PHC string. A malformed stored hash matches
/// nothing.
pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spends the time of one verification against a hash nobody has, so that a login for an
/// unknown username takes as long as one with a wrong password (no username probing by
/// timing).
pub fn verify_nobody(password: &str) {
    static NOBODY: OnceLock<String> = OnceLock::new();
    let stored = NOBODY.get_or_init(|| hash("no user has this password").unwrap_or_default());
    let _ = verify(password, stored);
}

/// A password for the first admin when none is configured: 24 characters from an
/// alphabet without look-alikes (no 0/O, 1/l/I), about 137 bits.
pub fn generate() -> Result<String, getrandom::Error> {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes)?;
    // 256 is not a multiple of 57: the bias (at most 1/256 per character) costs far less
    // than a bit of the 137.
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let a = hash("correct horse battery").unwrap();
        let b = hash("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "a fresh salt each time");
        assert!(verify("correct horse battery", &a));
        assert!(!verify("wrong horse battery", &a));
        assert!(!verify("anything", "not a phc string"));
    }

    #[test]
    fn generated_passwords_differ() {
        let (a, b) = (generate().unwrap(), generate().unwrap());
        assert_eq!(a.chars().count(), 24);
        assert_ne!(a, b);
    }
}
