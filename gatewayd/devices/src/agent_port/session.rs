//! Live agent connections: which device each belongs to, the posture it last reported (and
//! the last MDM-signed posture it forwarded), and the switch that closes it when the device is
//! revoked.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;
use policies::rules::Posture;
use tokio_util::sync::CancellationToken;

use super::signed_posture::SignedPosture;

impl DeviceSession {
    /// The posture policies see now, and whether it is signed: the MDM's document while it is
    /// younger than `max_age_secs`, else what the agent reported.
    pub fn posture_now(&self, now: i64, max_age_secs: i64) -> (Posture, bool) {
        match &**self.signed.load() {
            Some(signed) if signed.fresh(now, max_age_secs) => (signed.fields.clone(), true),
            _ => ((**self.posture.load()).clone(), false),
        }
    }
}

/// One agent connection with a verified device certificate.
pub struct DeviceSession {
    pub device_id: String,
    pub serial: String,
    /// What the agent last reported (empty until it does).
    pub posture: ArcSwap<Posture>,
    /// The last verified MDM-signed posture; it counts only while fresh (see [`Self::posture_now`]).
    pub signed: ArcSwap<Option<SignedPosture>>,
    /// Cancelled to close the connection (revocation, shutdown).
    pub closed: CancellationToken,
}

/// All live device connections, by device id.
#[derive(Default)]
pub struct Sessions {
    next: AtomicU64,
    live: Mutex<HashMap<u64, Arc<DeviceSession>>>,
}

impl Sessions {
    /// Registers a connection; the guard removes it when the connection ends.
    pub fn open(self: &Arc<Self>, session: Arc<DeviceSession>) -> SessionGuard {
        let id = self.next.fetch_add(1, Relaxed);
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, session);
        SessionGuard {
            sessions: self.clone(),
            id,
        }
    }

    /// Every live session.
    pub fn all(&self) -> Vec<Arc<DeviceSession>> {
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }
}

/// Removes its session from [`Sessions`] on drop.
pub struct SessionGuard {
    sessions: Arc<Sessions>,
    id: u64,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.sessions
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
    }
}
