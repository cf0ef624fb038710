//! A bounded cache of minted leaves keyed by normalised host, minting each host once even
//! when many connections ask for it at the same moment.
//!
//! The cache lock is held only to find or insert a slot; minting happens under the slot's own
//! lock, so concurrent requests for one host wait for a single mint while other hosts proceed.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};

use lru::LruCache;
use rustls::sign::CertifiedKey;
use time::{Duration, OffsetDateTime};

use crate::{CaError, LeafIssuer, ServerIdentity};

/// Default number of hosts whose leaves are kept.
pub const DEFAULT_LEAF_CACHE_CAPACITY: usize = 10_000;

/// A leaf is minted again once it has less than this left to live, so no client ever sees
/// one that is about to expire.
const RENEW_BEFORE: Duration = Duration::days(1);

type Slot = Arc<Mutex<Option<(Arc<CertifiedKey>, OffsetDateTime)>>>;

/// Minted leaves by host, bounded, least recently used evicted first.
pub struct LeafCache {
    issuer: LeafIssuer,
    slots: Mutex<LruCache<ServerIdentity, Slot>>,
}

impl LeafCache {
    pub fn new(issuer: LeafIssuer, capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        Self {
            issuer,
            slots: Mutex::new(LruCache::new(capacity)),
        }
    }

    /// The issuer behind the cache.
    pub fn issuer(&self) -> &LeafIssuer {
        &self.issuer
    }

    /// Number of hosts currently cached.
    pub fn len(&self) -> usize {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// True when no leaf is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The leaf for `identity`, minted now if it is not cached or is close to expiry.
    /// Returns whether this call minted it.
    pub fn leaf_for(
        &self,
        identity: &ServerIdentity,
    ) -> Result<(Arc<CertifiedKey>, bool), CaError> {
        let slot = {
            // A poisoned lock only means another thread panicked mid-lookup; the LRU is
            // still structurally sound, so keep serving.
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            match slots.get(identity) {
                Some(slot) => slot.clone(),
                None => {
                    let slot: Slot = Arc::default();
                    slots.put(identity.clone(), slot.clone());
                    slot
                }
            }
        };
        let mut entry = slot.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((leaf, not_after)) = entry.as_ref() {
            if *not_after - OffsetDateTime::now_utc() > RENEW_BEFORE {
                return Ok((leaf.clone(), false));
            }
        }
        let (leaf, not_after) = self.issuer.mint(identity)?;
        *entry = Some((leaf.clone(), not_after));
        Ok((leaf, true))
    }
}
