//! The request id (DESIGN.md section 7: every response carries `X-Request-Id`).
//!
//! A client's id is kept when it is a sane token, so a caller can follow its own id
//! through our logs; anything else is replaced by a new UUID, so logs never carry
//! attacker-chosen text of any length.

use actix_web::http::header::HeaderName;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");
pub const MAX_LEN: usize = 64;

tokio::task_local! {
    /// The id of the request this task serves; set by [`crate::middleware::observe`] around
    /// the whole handling of a request, so error rendering can read it.
    static CURRENT: String;
}

/// The id of the request being handled, if called within one.
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// Runs `fut` with `id` as the current request id.
pub async fn scope<F: std::future::Future>(id: String, fut: F) -> F::Output {
    CURRENT.scope(id, fut).await
}

/// The client's id if it is 1–64 characters of `A-Z a-z 0-9 - _ . :`, else a new UUID.
pub fn pick(given: Option<&[u8]>) -> String {
    match given {
        Some(raw) if is_sane(raw) => String::from_utf8_lossy(raw).into_owned(),
        _ => uuid::Uuid::new_v4().to_string(),
    }
}

fn is_sane(raw: &[u8]) -> bool {
    !raw.is_empty()
        && raw.len() <= MAX_LEN
        && raw
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_ids_are_kept_others_replaced() {
        assert_eq!(pick(Some(b"abc-123_x.y:z")), "abc-123_x.y:z");
        for bad in [
            &b""[..],
            b"has space",
            b"new\nline",
            &[b'a'; 65],
            "中文".as_bytes(),
        ] {
            let id = pick(Some(bad));
            assert!(uuid::Uuid::parse_str(&id).is_ok(), "{bad:?} -> {id}");
        }
        assert!(uuid::Uuid::parse_str(&pick(None)).is_ok());
        assert_eq!(pick(Some(&[b'a'; 64])).len(), 64);
    }
}
