//! A short-lived memory of proxy credentials that already passed argon2, so a keep-alive
//! client (or a browser sending the same `Proxy-Authorization` on every request) is not
//! re-hashed each time.
//!
//! Entries are keyed by a keyed digest (SHA-256 over a per-process random key and the header
//! value): the cache never holds a password or a digest that could be checked offline against
//! guesses without the key. It must never outlive its users file: it belongs to one
//! `UserDirectory`, which is rebuilt when the file changes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::Identity;

/// How long a verified credential is trusted without hashing it again.
pub const TTL: Duration = Duration::from_secs(60);
/// The most credentials remembered; beyond it expired entries go, then the oldest.
const LIMIT: usize = 4096;

type Key = [u8; 32];

pub struct VerifiedCache {
    key: [u8; 32],
    ttl: Duration,
    entries: Mutex<HashMap<Key, (Identity, Instant)>>,
}

impl VerifiedCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            key: rand::random(),
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn digest(&self, header: &str) -> Key {
        let mut hasher = Sha256::new();
        hasher.update(self.key);
        hasher.update(header.as_bytes());
        hasher.finalize().into()
    }

    /// The identity a still-fresh verification of exactly this header value established.
    pub fn get(&self, header: &str) -> Option<Identity> {
        let key = self.digest(header);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(&key) {
            Some((identity, at)) if at.elapsed() < self.ttl => Some(identity.clone()),
            Some(_) => {
                entries.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Remembers a header value that verified as `identity`.
    pub fn insert(&self, header: &str, identity: Identity) {
        let key = self.digest(header);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= LIMIT {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
        }
        if entries.len() >= LIMIT {
            if let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(k, _)| *k)
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(key, (identity, Instant::now()));
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_the_cache_stays_bounded() {
        let cache = VerifiedCache::new(Duration::from_millis(50));
        let alice = Identity {
            user: "alice".into(),
            ..Identity::anonymous()
        };
        cache.insert("Basic a", alice.clone());
        assert_eq!(cache.get("Basic a"), Some(alice.clone()));
        assert_eq!(cache.get("Basic b"), None);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get("Basic a"), None, "expired");
        let long = VerifiedCache::new(TTL);
        for i in 0..LIMIT + 10 {
            long.insert(&format!("Basic {i}"), alice.clone());
        }
        assert_eq!(long.len(), LIMIT);
        assert!(long.get(&format!("Basic {}", LIMIT + 9)).is_some());
    }
}
