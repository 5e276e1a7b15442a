//! The write rate limit (issue 8, point 9; DESIGN.md section 7: abuse limits answer 429
//! with `Retry-After`): at most `JIBAN_RATE_LIMIT_PER_MINUTE` writes per user per minute,
//! on each node.
//!
//! What counts: every authenticated `POST`, `PUT`, `PATCH` and `DELETE`, counted where the
//! [`crate::auth::Authenticated`] extractor admits the caller, before the handler runs; so
//! a refused write writes nothing. Reads (`GET`, `HEAD`, `OPTIONS`) never count, nor do the
//! anonymous auth routes (token, refresh, logout), which have their own throttle.
//!
//! A token bucket per user: it holds up to a minute's allowance and refills at the
//! per-minute rate, so a client may burst a full minute's writes and then go on at the
//! rate. A full bucket is the same as no bucket, so a user idle for a minute is forgotten:
//! a sweep at most once a minute drops every full bucket, and memory holds only the users
//! who wrote in the last two minutes.
//!
//! Per node, in memory: with several nodes behind a balancer each allows the limit, so a
//! user may write up to nodes × limit a minute. That is enough to stop a runaway client
//! without a shared store; the database's own counters (login throttling) serve where an
//! exact cluster-wide count matters.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::http::Method;
use jiban_domain::values::UserId;

/// How often idle users are forgotten; also the time after which an idle bucket is full.
const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// Whether a request with this method counts against the write limit.
pub fn counts(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

/// Per-user token buckets (see the module documentation).
pub struct WriteLimiter {
    per_minute: u32,
    inner: Mutex<Buckets>,
}

struct Buckets {
    by_user: HashMap<UserId, Bucket>,
    swept_at: Instant,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated_at: Instant,
}

impl WriteLimiter {
    /// `None` when `per_minute` is 0: no limit.
    pub fn new(per_minute: u32) -> Option<WriteLimiter> {
        Self::starting_at(per_minute, Instant::now())
    }

    fn starting_at(per_minute: u32, now: Instant) -> Option<WriteLimiter> {
        (per_minute > 0).then(|| WriteLimiter {
            per_minute,
            inner: Mutex::new(Buckets {
                by_user: HashMap::new(),
                swept_at: now,
            }),
        })
    }

    pub fn per_minute(&self) -> u32 {
        self.per_minute
    }

    /// Takes one write from `user`'s allowance, or says in how many whole seconds (at
    /// least 1) the next one is allowed.
    pub fn take(&self, user: UserId) -> Result<(), u64> {
        self.take_at(user, Instant::now())
    }

    fn take_at(&self, user: UserId, now: Instant) -> Result<(), u64> {
        let capacity = f64::from(self.per_minute);
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if now.saturating_duration_since(inner.swept_at) >= SWEEP_INTERVAL {
            inner
                .by_user
                .retain(|_, bucket| self.refilled(*bucket, now) < capacity);
            inner.swept_at = now;
        }
        let bucket = inner.by_user.entry(user).or_insert(Bucket {
            tokens: capacity,
            updated_at: now,
        });
        let tokens = self.refilled(*bucket, now);
        if tokens >= 1.0 {
            *bucket = Bucket {
                tokens: tokens - 1.0,
                updated_at: now,
            };
            Ok(())
        } else {
            // A refused write takes nothing: retrying at the given time succeeds.
            *bucket = Bucket {
                tokens,
                updated_at: now,
            };
            let wait = (1.0 - tokens) / self.per_second();
            Err((wait.ceil() as u64).max(1))
        }
    }

    fn per_second(&self) -> f64 {
        f64::from(self.per_minute) / SWEEP_INTERVAL.as_secs_f64()
    }

    fn refilled(&self, bucket: Bucket, now: Instant) -> f64 {
        let elapsed = now
            .saturating_duration_since(bucket.updated_at)
            .as_secs_f64();
        (bucket.tokens + elapsed * self.per_second()).min(f64::from(self.per_minute))
    }

    /// Users currently remembered.
    pub fn tracked(&self) -> usize {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.by_user.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserId {
        UserId::from_uuid(uuid::Uuid::new_v4())
    }

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn zero_turns_the_limit_off() {
        assert!(WriteLimiter::new(0).is_none());
        assert_eq!(WriteLimiter::new(120).unwrap().per_minute(), 120);
    }

    #[test]
    fn a_minutes_allowance_then_retry_after_the_refill() {
        let t0 = Instant::now();
        let limiter = WriteLimiter::starting_at(5, t0).unwrap();
        let u = user();
        for i in 0..5 {
            assert_eq!(limiter.take_at(u, t0), Ok(()), "write {i}");
        }
        // 5 a minute refill one every 12 s.
        assert_eq!(limiter.take_at(u, t0), Err(12));
        assert_eq!(limiter.take_at(u, t0 + secs(2.5)), Err(10), "rounded up");
        assert_eq!(
            limiter.take_at(u, t0 + secs(11.9)),
            Err(1),
            "never less than 1 s"
        );
        assert_eq!(limiter.take_at(u, t0 + secs(12.0)), Ok(()), "refilled one");
        assert_eq!(limiter.take_at(u, t0 + secs(12.0)), Err(12));
        // Refused writes took nothing: after a full minute the whole allowance is back,
        // and no more.
        let later = t0 + secs(12.0 + 60.0);
        for i in 0..5 {
            assert_eq!(
                limiter.take_at(u, later),
                Ok(()),
                "write {i} after a minute"
            );
        }
        assert!(limiter.take_at(u, later).is_err());
    }

    #[test]
    fn users_are_counted_apart() {
        let t0 = Instant::now();
        let limiter = WriteLimiter::starting_at(2, t0).unwrap();
        let (a, b) = (user(), user());
        assert_eq!(limiter.take_at(a, t0), Ok(()));
        assert_eq!(limiter.take_at(a, t0), Ok(()));
        assert_eq!(limiter.take_at(a, t0), Err(30));
        assert_eq!(
            limiter.take_at(b, t0),
            Ok(()),
            "another user is not affected"
        );
        assert_eq!(limiter.take_at(b, t0), Ok(()));
        assert!(limiter.take_at(b, t0).is_err());
    }

    #[test]
    fn idle_users_are_forgotten() {
        let t0 = Instant::now();
        let limiter = WriteLimiter::starting_at(60, t0).unwrap();
        let idle: Vec<UserId> = (0..1000).map(|_| user()).collect();
        for u in &idle {
            limiter.take_at(*u, t0).unwrap();
        }
        assert_eq!(limiter.tracked(), 1000);
        // Within the minute nothing is swept, and a busy user uses its whole allowance.
        let busy = user();
        for _ in 0..60 {
            limiter.take_at(busy, t0 + secs(30.0)).unwrap();
        }
        assert_eq!(limiter.tracked(), 1001);
        // A minute on, every idle bucket is full again: forgotten at the next write. The
        // busy user's bucket has refilled only half-way: kept, with what it has used.
        let sweep = t0 + secs(60.0);
        limiter.take_at(busy, sweep).unwrap();
        assert_eq!(limiter.tracked(), 1, "only the busy user");
        for _ in 0..29 {
            limiter.take_at(busy, sweep).unwrap();
        }
        assert_eq!(limiter.take_at(busy, sweep), Err(1), "its count survived");
        // Forgetting loses nothing: a forgotten user starts with a full allowance, as it
        // would have had.
        assert_eq!(limiter.take_at(idle[0], sweep), Ok(()));
    }
}
