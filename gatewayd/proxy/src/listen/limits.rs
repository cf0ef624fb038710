//! Fair shares of the proxy port: how many connections one client address may hold
//! (`limits.max_connections_per_source`, checked at accept) and how many CONNECT tunnels and
//! plain-HTTP requests one authenticated user may have open (`max_connections_per_user`,
//! checked once the user is known), so that one client cannot take every connection slot.
//!
//! Counts live in small maps keyed by address or user name; an entry disappears when its
//! count returns to zero, so the maps never grow past the open connections. A slot must be
//! given back exactly once, by dropping its [`Slot`].

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

/// The per-source and per-user counters of one gateway.
#[derive(Default)]
pub struct ConnectionLimits {
    pub per_source: Arc<Counter<IpAddr>>,
    pub per_user: Arc<Counter<String>>,
}

/// Open slots per key.
pub struct Counter<K> {
    counts: Mutex<HashMap<K, usize>>,
}

impl<K> Default for Counter<K> {
    fn default() -> Self {
        Self {
            counts: Mutex::new(HashMap::new()),
        }
    }
}

/// One taken slot; dropping it gives the slot back.
pub struct Slot<K: Eq + Hash> {
    counter: Arc<Counter<K>>,
    key: Option<K>,
}

impl<K: Eq + Hash> Counter<K> {
    fn counts(&self) -> MutexGuard<'_, HashMap<K, usize>> {
        // A map of plain counters: a panic elsewhere cannot leave it torn.
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes a slot for `key` unless it already holds `limit`.
    pub fn try_take(self: &Arc<Self>, key: K, limit: usize) -> Option<Slot<K>>
    where
        K: Clone,
    {
        let mut counts = self.counts();
        let count = counts.entry(key.clone()).or_insert(0);
        if *count >= limit {
            return None;
        }
        *count += 1;
        Some(Slot {
            counter: self.clone(),
            key: Some(key),
        })
    }

    #[cfg(test)]
    fn open(&self, key: &K) -> usize {
        self.counts().get(key).copied().unwrap_or(0)
    }
}

impl<K: Eq + Hash> Drop for Slot<K> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let mut counts = self.counter.counts();
        if let Some(count) = counts.get_mut(&key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_limit_and_no_more_and_others_are_unaffected() {
        let counter: Arc<Counter<String>> = Arc::default();
        let a1 = counter.try_take("a".into(), 2).expect("first");
        let _a2 = counter.try_take("a".into(), 2).expect("second");
        assert!(counter.try_take("a".into(), 2).is_none(), "over the limit");
        let _b = counter.try_take("b".into(), 2).expect("another key");
        drop(a1);
        let _a3 = counter.try_take("a".into(), 2).expect("a slot came back");
        assert_eq!(counter.open(&"a".to_string()), 2);
        drop(_a3);
        drop(_a2);
        assert!(counter.counts().get("a").is_none(), "empty entries go away");
    }
}
