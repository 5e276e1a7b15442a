//! The rules every ticket command reads (calendar, SLA table, dispatch map), cached per
//! node so a create costs no extra query.
//!
//! An admin's edit on this node drops the cache at once; other nodes reload within
//! [`RulesCache::ttl`]. Deadlines already set never move with an edit (DESIGN.md section
//! 4), so a node that computes one deadline with the previous table during those seconds
//! does what it would have done just before the edit.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jiban_domain::ticket::Rules;
use jiban_persistence::repo::reference;
use jiban_persistence::{DbConnection, StoreError};

pub struct RulesCache {
    ttl: Duration,
    loaded: RwLock<Option<(Instant, Arc<Rules>)>>,
}

impl RulesCache {
    pub fn new(ttl: Duration) -> RulesCache {
        RulesCache {
            ttl,
            loaded: RwLock::new(None),
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The rules, loaded from the database when the copy is older than the TTL.
    pub fn get(&self, conn: &mut DbConnection) -> Result<Arc<Rules>, StoreError> {
        if let Some((at, rules)) = &*self.loaded.read().unwrap_or_else(|e| e.into_inner())
            && at.elapsed() < self.ttl
        {
            return Ok(rules.clone());
        }
        let rules = Arc::new(reference::load_rules(conn)?);
        *self.loaded.write().unwrap_or_else(|e| e.into_inner()) =
            Some((Instant::now(), rules.clone()));
        Ok(rules)
    }

    /// Forgets the copy: the next command reads the rules afresh.
    pub fn invalidate(&self) {
        *self.loaded.write().unwrap_or_else(|e| e.into_inner()) = None;
    }
}
