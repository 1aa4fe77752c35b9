//! The per-connection prepared-statement cache (asyncpg's `statement_cache_size`): SQL text to
//! the server-side prepared statement, least recently used evicted first. A hit saves the
//! Parse/Describe round trip, so a cached query is one round trip. An evicted statement is
//! closed on the server when its last user drops it (tokio-postgres sends `Close`).

use std::collections::HashMap;
use std::sync::Mutex;

use tokio_postgres::Statement;

struct Entry {
    statement: Statement,
    last_used: u64,
}

struct Inner {
    map: HashMap<Box<str>, Entry>,
    tick: u64,
}

/// An LRU map from SQL text to prepared statements. Lookups are a hash and a short,
/// uncontended lock; eviction (only on a miss, with the cache full) scans the entries, which
/// asyncpg's default of 100 keeps cheap.
pub(crate) struct StatementCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

impl StatementCache {
    pub(crate) fn new(capacity: usize) -> Self {
        StatementCache {
            capacity,
            inner: Mutex::new(Inner {
                map: HashMap::with_capacity(capacity.min(1024)),
                tick: 0,
            }),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn get(&self, sql: &str) -> Option<Statement> {
        if self.capacity == 0 {
            return None;
        }
        let mut inner = self.lock();
        inner.tick += 1;
        let tick = inner.tick;
        let entry = inner.map.get_mut(sql)?;
        entry.last_used = tick;
        Some(entry.statement.clone())
    }

    pub(crate) fn insert(&self, sql: &str, statement: Statement) {
        if self.capacity == 0 {
            return;
        }
        let mut inner = self.lock();
        inner.tick += 1;
        let tick = inner.tick;
        if inner.map.len() >= self.capacity && !inner.map.contains_key(sql) {
            let oldest = inner
                .map
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                inner.map.remove(&k);
            }
        }
        inner.map.insert(
            sql.into(),
            Entry {
                statement,
                last_used: tick,
            },
        );
    }

    pub(crate) fn remove(&self, sql: &str) {
        self.lock().map.remove(sql);
    }

    pub(crate) fn clear(&self) {
        self.lock().map.clear();
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().map.len()
    }
}
