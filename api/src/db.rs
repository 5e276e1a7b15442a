//! Running synchronous diesel work from async handlers: a pooled connection on actix's
//! blocking thread pool (`web::block`), so a slow query never stalls a worker's event loop
//! (DEPENDENCIES.md: `MultiConnection` is synchronous).

use actix_web::web;
use jiban_persistence::{DbConnection, Pool, StoreError};

use crate::problem::ApiError;

#[derive(Clone)]
pub struct Db {
    pool: Pool,
}

impl Db {
    pub fn new(pool: Pool) -> Db {
        Db { pool }
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Runs `f` with a pooled connection on the blocking pool. A pool that cannot hand
    /// out a connection in time answers 503.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<ApiError> + Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get().map_err(StoreError::from)?;
            f(&mut conn).map_err(Into::into)
        })
        .await?
    }
}
