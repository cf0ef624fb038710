//! Circuit breakers shared by every replica (`[aigw.shared] redis`): a deployment's failures
//! within the window and when it is open until live on Redis, so that the failures of all
//! replicas count together and a breaker one replica opened is open on all of them. One Lua
//! script per operation, on the deployment's two keys (one hash tag).
//!
//! Never: make a deployment unusable because Redis is (an error answers `None` and the
//! caller keeps its own per-process breaker), or wait longer than `[aigw.shared] timeout`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use config::{AigwBreaker, AigwShared};

use super::Pool;
use crate::fallback::breaker::Gate;

/// The shared state of every deployment's breaker.
pub struct SharedBreakers {
    pool: Pool,
    prefix: String,
    failures: u64,
    window_ms: u64,
    cooldown_ms: u64,
    script: redis::Script,
    next_id: AtomicU64,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl SharedBreakers {
    /// Shared breakers when `shared` names a Redis; `Ok(None)` otherwise.
    pub fn from_config(shared: &AigwShared, breaker: &AigwBreaker) -> Result<Option<Self>, String> {
        let Some(url) = &shared.redis else {
            return Ok(None);
        };
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Ok(Some(Self {
            // A few connections: breakers are asked once per attempt, briefly.
            pool: Pool::new(url, shared.timeout.0, (shared.pool / 4).max(2))?,
            prefix: shared.key_prefix.clone(),
            failures: u64::from(breaker.failures.max(1)),
            window_ms: ms(breaker.window.0),
            cooldown_ms: ms(breaker.cooldown.0),
            script: redis::Script::new(include_str!("breaker.lua")),
            next_id: AtomicU64::new(rand::random::<u64>() >> 12),
        }))
    }

    fn run(&self, deployment: &str, op: &str, probe: bool, now: u64) -> Option<Vec<u64>> {
        let tag = deployment
            .replace('%', "%25")
            .replace('{', "%7B")
            .replace('}', "%7D");
        let base = format!("{}:{{breaker:{tag}}}", self.prefix);
        let mut inv = self.script.prepare_invoke();
        inv.key(format!("{base}:h")).key(format!("{base}:f"));
        inv.arg(now)
            .arg(op)
            .arg(self.window_ms)
            .arg(self.failures)
            .arg(self.cooldown_ms)
            .arg(u8::from(probe))
            .arg(self.next_id.fetch_add(1, Relaxed));
        match self.pool.run(|c| inv.invoke::<Vec<u64>>(c)) {
            Ok(answer) => Some(answer),
            Err(error) => {
                tracing::debug!(target: "aigw::fallback", %error, "shared breaker unavailable; this replica's own is used");
                None
            }
        }
    }

    /// The shared gate of `deployment`; `None` when Redis did not answer.
    pub fn check(&self, deployment: &str) -> Option<Gate> {
        self.check_at(deployment, now_ms())
    }

    pub(crate) fn check_at(&self, deployment: &str, now: u64) -> Option<Gate> {
        let answer = self.run(deployment, "check", false, now)?;
        Some(match answer.first() {
            Some(1) => Gate::Probe,
            Some(2) => Gate::Open {
                retry_in: Duration::from_millis(answer.get(1).copied().unwrap_or(0)),
            },
            _ => Gate::Closed,
        })
    }

    /// The deployment answered: closed on every replica.
    pub fn success(&self, deployment: &str) {
        self.run(deployment, "success", false, now_ms());
    }

    /// The deployment failed; `Some(true)` when this failure opened it.
    pub fn failure(&self, deployment: &str, gate: Gate) -> Option<bool> {
        self.failure_at(deployment, gate, now_ms())
    }

    pub(crate) fn failure_at(&self, deployment: &str, gate: Gate, now: u64) -> Option<bool> {
        let answer = self.run(deployment, "failure", gate == Gate::Probe, now)?;
        Some(answer.first() == Some(&1))
    }
}
