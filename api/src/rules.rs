//! The rules every ticket command reads (calendar, SLA table, dispatch map), cached per
//! node so a create costs no extra query.
//!
//! An admin's edit on this node drops the cache at once; other nodes reload within
//! [`RulesCache::ttl`]. Deadlines already set never move with an edit (DESIGN.md section
//! 4), so a node that computes one deadline with the previous table during those seconds
//! does what it would have done just before the edit.
//!
//! When the copy grows older than the TTL one request reloads it while the others go on
//! with the copy they have, so that the requests in flight at that moment do not all
//! queue for the same queries. A copy dropped by an edit is never served: until it is
//! read again every request reads it, and a load that began before the edit is not kept.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jiban_domain::ticket::Rules;
use jiban_persistence::repo::reference;
use jiban_persistence::{DbConnection, StoreError};

pub struct RulesCache {
    ttl: Duration,
    loaded: RwLock<Option<Loaded>>,
    /// A request is reloading an expired copy; the others serve that copy meanwhile.
    reloading: AtomicBool,
    /// Counts the edits: a load keeps its result only if none happened since it began.
    edits: AtomicU64,
}

struct Loaded {
    at: Instant,
    rules: Arc<Rules>,
}

impl RulesCache {
    pub fn new(ttl: Duration) -> RulesCache {
        RulesCache {
            ttl,
            loaded: RwLock::new(None),
            reloading: AtomicBool::new(false),
            edits: AtomicU64::new(0),
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The rules, loaded from the database when the copy is older than the TTL.
    pub fn get(&self, conn: &mut DbConnection) -> Result<Arc<Rules>, StoreError> {
        self.get_or_load(|| reference::load_rules(conn))
    }

    fn get_or_load(
        &self,
        load: impl FnOnce() -> Result<Rules, StoreError>,
    ) -> Result<Arc<Rules>, StoreError> {
        let edits = self.edits.load(Ordering::Acquire);
        let current = self
            .loaded
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|l| (l.at, l.rules.clone()));
        // Only the request that sets the flag reloads an expired copy.
        let _reloading = match current {
            Some((at, rules)) if at.elapsed() < self.ttl => return Ok(rules),
            Some((_, rules)) => {
                if self.reloading.swap(true, Ordering::AcqRel) {
                    return Ok(rules);
                }
                // Let go however the load ends, a panic included.
                Some(Reloading(&self.reloading))
            }
            None => None,
        };
        let loaded = load().map(Arc::new);
        if let Ok(rules) = &loaded {
            let mut slot = self.loaded.write().unwrap_or_else(|e| e.into_inner());
            // Checked under the lock `invalidate` takes: an edit since the load began
            // leaves the slot empty for the next request.
            if self.edits.load(Ordering::Acquire) == edits {
                *slot = Some(Loaded {
                    at: Instant::now(),
                    rules: rules.clone(),
                });
            }
        }
        loaded
    }

    /// Forgets the copy: the next command reads the rules afresh.
    pub fn invalidate(&self) {
        let mut slot = self.loaded.write().unwrap_or_else(|e| e.into_inner());
        self.edits.fetch_add(1, Ordering::AcqRel);
        *slot = None;
    }
}

/// Clears the reloading flag when dropped.
struct Reloading<'a>(&'a AtomicBool);

impl Drop for Reloading<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::{Barrier, mpsc};

    fn rules() -> Result<Rules, StoreError> {
        Ok(Rules::defaults())
    }

    /// When the copy expires under load, one request reloads it and the others answer
    /// with the copy they have instead of all running the same queries.
    #[test]
    fn an_expired_copy_is_reloaded_by_one_request() {
        let cache = RulesCache::new(Duration::from_millis(1));
        cache.get_or_load(rules).unwrap();
        std::thread::sleep(Duration::from_millis(5));
        let loads = AtomicUsize::new(0);
        let (started, loading) = mpsc::channel();
        let (finish, finished) = mpsc::channel::<()>();
        let others = Barrier::new(8);
        let (cache, loads) = (&cache, &loads);
        std::thread::scope(|s| {
            let reloader = s.spawn(move || {
                cache.get_or_load(|| {
                    loads.fetch_add(1, Ordering::Relaxed);
                    started.send(()).unwrap();
                    finished.recv().unwrap();
                    rules()
                })
            });
            loading.recv().unwrap();
            // While it loads, eight more requests arrive at once.
            let answers: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        others.wait();
                        cache.get_or_load(|| {
                            loads.fetch_add(1, Ordering::Relaxed);
                            rules()
                        })
                    })
                })
                .collect();
            for answer in answers {
                answer.join().unwrap().unwrap();
            }
            finish.send(()).unwrap();
            reloader.join().unwrap().unwrap();
        });
        assert_eq!(loads.load(Ordering::Relaxed), 1);
        // The next expiry is reloaded again.
        std::thread::sleep(Duration::from_millis(5));
        let reloaded = AtomicUsize::new(0);
        cache
            .get_or_load(|| {
                reloaded.fetch_add(1, Ordering::Relaxed);
                rules()
            })
            .unwrap();
        assert_eq!(reloaded.load(Ordering::Relaxed), 1);
    }

    /// An edit drops the copy at once: a load that began before it is not kept, so the
    /// next request reads the rules afresh.
    #[test]
    fn a_load_begun_before_an_edit_is_not_kept() {
        let cache = RulesCache::new(Duration::from_secs(600));
        cache
            .get_or_load(|| {
                cache.invalidate(); // the admin's edit lands while this load runs
                rules()
            })
            .unwrap();
        let loads = AtomicUsize::new(0);
        for _ in 0..2 {
            cache
                .get_or_load(|| {
                    loads.fetch_add(1, Ordering::Relaxed);
                    rules()
                })
                .unwrap();
        }
        assert_eq!(
            loads.load(Ordering::Relaxed),
            1,
            "read again once, then kept"
        );
    }

    /// A failed reload is reported, and the next request tries again.
    #[test]
    fn a_failed_reload_is_tried_again() {
        let cache = RulesCache::new(Duration::from_millis(1));
        cache.get_or_load(rules).unwrap();
        std::thread::sleep(Duration::from_millis(5));
        assert!(
            cache
                .get_or_load(|| Err(StoreError::Other("down".into())))
                .is_err()
        );
        let loads = AtomicUsize::new(0);
        cache
            .get_or_load(|| {
                loads.fetch_add(1, Ordering::Relaxed);
                rules()
            })
            .unwrap();
        assert_eq!(loads.load(Ordering::Relaxed), 1);
    }
}
