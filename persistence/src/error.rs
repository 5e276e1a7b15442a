//! The storage layer's one error type. The api maps it: `NotFound` → 404, `Conflict` →
//! 409/412, `Unavailable` → 503, `Other` → a logged 500 whose body says nothing more.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    /// The row asked for does not exist (or is not in the caller's scope).
    #[error("not found")]
    NotFound,
    /// A uniqueness, reference or version rule refused the write; the text says which.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database cannot be reached or is busy: retrying later may work.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or a broken invariant, logged and answered as 500.
    #[error("database error: {0}")]
    Other(String),
}

impl From<DieselError> for StoreError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => StoreError::NotFound,
            DieselError::DatabaseError(kind, info) => match kind {
                DatabaseErrorKind::UniqueViolation
                | DatabaseErrorKind::ForeignKeyViolation
                | DatabaseErrorKind::SerializationFailure => {
                    StoreError::Conflict(info.message().to_owned())
                }
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => {
                    StoreError::Unavailable(info.message().to_owned())
                }
                // SQLite reports a lock held past busy_timeout only through its message.
                _ if info.message().contains("database is locked") => {
                    StoreError::Unavailable(info.message().to_owned())
                }
                _ => StoreError::Other(info.message().to_owned()),
            },
            DieselError::BrokenTransactionManager => StoreError::Unavailable(e.to_string()),
            other => StoreError::Other(other.to_string()),
        }
    }
}

impl From<diesel::r2d2::PoolError> for StoreError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

impl From<diesel::ConnectionError> for StoreError {
    fn from(e: diesel::ConnectionError) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_maps_to_not_found() {
        assert_eq!(
            StoreError::from(DieselError::NotFound),
            StoreError::NotFound
        );
    }

    #[test]
    fn rollback_is_other() {
        assert!(matches!(
            StoreError::from(DieselError::RollbackTransaction),
            StoreError::Other(_)
        ));
    }
}
