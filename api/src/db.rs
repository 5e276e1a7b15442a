//! Running synchronous diesel work from async handlers: a pooled connection on actix's
//! blocking thread pool (`web::block`), so a slow query never stalls a worker's event loop
//! (DEPENDENCIES.md: `MultiConnection` is synchronous).
//!
//! Requests queue for the pool in order of arrival: a fair semaphore with a permit per
//! connection is taken (asynchronously) before a blocking thread asks the pool. r2d2's own
//! wait promises no order (a connection given back wakes one waiter, and a request
//! arriving at that moment may take it first), and every request waiting in it holds a
//! blocking thread. In line at the semaphore a request holds nothing; with the service
//! CPU-bound this gave more creates per second and a lower p99 (docs/BENCHMARKS.md, "Who
//! waits, and where"). The workers (scanner, sender, housekeeping) take their few
//! connections directly.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use jiban_persistence::{DbConnection, Pool, StoreError};
use tokio::sync::Semaphore;

use crate::problem::ApiError;

#[derive(Clone)]
pub struct Db {
    pool: Pool,
    /// One permit per pooled connection, handed out first come, first served.
    turns: Arc<Semaphore>,
    /// How long a request waits in line before it answers 503: the pool's connection
    /// timeout.
    wait: Duration,
}

impl Db {
    pub fn new(pool: Pool) -> Db {
        let wait = pool.connection_timeout();
        Db::waiting(pool, wait)
    }

    fn waiting(pool: Pool, wait: Duration) -> Db {
        let turns = Arc::new(Semaphore::new(pool.max_size() as usize));
        Db { pool, turns, wait }
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Runs `f` with a pooled connection on the blocking pool, in the order the requests
    /// asked. A request that cannot have a connection within the pool's connection timeout
    /// (its wait in line included) answers 503.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<ApiError> + Send + 'static,
    {
        let turn = match tokio::time::timeout(self.wait, self.turns.clone().acquire_owned()).await {
            Ok(Ok(turn)) => turn,
            Ok(Err(_closed)) => unreachable!("the semaphore is never closed"),
            Err(_elapsed) => {
                return Err(StoreError::Unavailable(format!(
                    "no database connection free within {} ms",
                    self.wait.as_millis()
                ))
                .into());
            }
        };
        let pool = self.pool.clone();
        web::block(move || {
            let _turn = turn; // given back when the connection is
            let mut conn = pool.get().map_err(StoreError::from)?;
            f(&mut conn).map_err(Into::into)
        })
        .await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiban_persistence::{DbUrl, PoolConfig, build_pool};
    use std::sync::mpsc;
    use std::time::Instant;

    /// A pool of one connection with a generous timeout (its first connection creates the
    /// database, which can take seconds on a loaded CI machine) and a line that waits
    /// `wait`.
    fn one_connection(wait: Duration) -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let url = DbUrl::Sqlite(dir.path().join("jiban.db"));
        let pool = build_pool(
            &url,
            &PoolConfig {
                max_size: 1,
                min_idle: 1,
                connection_timeout: Duration::from_secs(60),
            },
        )
        .unwrap();
        (dir, Db::waiting(pool, wait))
    }

    /// A request holding the only connection once this returns; it lets go when `release`
    /// is sent to.
    async fn hold(db: &Db) -> (mpsc::Sender<()>, actix_web::rt::task::JoinHandle<()>) {
        let (release, released) = mpsc::channel::<()>();
        let (holding, held) = tokio::sync::oneshot::channel::<()>();
        let db = db.clone();
        let holder = actix_web::rt::spawn(async move {
            db.run(move |_| -> Result<(), StoreError> {
                holding.send(()).unwrap();
                let _ = released.recv();
                Ok(())
            })
            .await
            .unwrap();
        });
        held.await.unwrap();
        (release, holder)
    }

    /// A request that cannot have a connection within the pool's timeout, its wait in
    /// line included, answers 503 instead of waiting on.
    #[actix_web::test]
    async fn a_request_that_waits_too_long_answers_503() {
        let (_dir, db) = one_connection(Duration::from_millis(300));
        let (release, holder) = hold(&db).await;
        let asked = Instant::now();
        let answer = db
            .run(|_| -> Result<(), StoreError> { Ok(()) })
            .await
            .unwrap_err();
        assert_eq!(
            answer.status(),
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE
        );
        // Answered after its wait in line, not after the pool's own minute.
        assert!(
            asked.elapsed() < Duration::from_secs(30),
            "{:?}",
            asked.elapsed()
        );
        release.send(()).unwrap();
        holder.await.unwrap();
        // The line moves on once the connection is back.
        db.run(|_| -> Result<(), StoreError> { Ok(()) })
            .await
            .unwrap();
    }
}
