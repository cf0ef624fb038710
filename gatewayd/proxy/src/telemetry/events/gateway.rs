//! Events of the gateway as a whole: configuration reloads, and the agent port's counts
//! (the `devices` crate reports them through its host; its own logs stay there).

use std::fmt::Display;

use devices::agent_port::PortEvent;

use super::InternalEvent;
use crate::telemetry::{Metrics, ReloadOutcome};

/// A new configuration is in force.
pub struct ConfigReloaded<'a> {
    pub version: u64,
    /// The snapshot parts built anew (`policy`, or `policy, upstream`).
    pub rebuilt: &'static str,
    pub policy: &'a dyn Display,
    pub apps: usize,
}

impl InternalEvent for ConfigReloaded<'_> {
    fn emit(self, metrics: &Metrics) {
        tracing::info!(version = self.version, rebuilt = self.rebuilt, policy = %self.policy, apps = self.apps, "configuration reloaded");
        metrics.config_reloads.with(ReloadOutcome::Applied).add(1);
    }
}

/// A reload refused: the last good configuration stays.
pub struct ConfigReloadRefused<'a> {
    pub error: &'a dyn Display,
}

impl InternalEvent for ConfigReloadRefused<'_> {
    fn emit(self, metrics: &Metrics) {
        tracing::error!(error = %self.error, "configuration reload refused; keeping the last good configuration");
        metrics.config_reloads.with(ReloadOutcome::Refused).add(1);
    }
}

/// Something the agent port counted.
pub struct AgentPortCounted(pub PortEvent);

impl InternalEvent for AgentPortCounted {
    fn emit(self, metrics: &Metrics) {
        let counter = match self.0 {
            PortEvent::Refused => &metrics.agent_refused,
            PortEvent::Handshake => &metrics.agent_handshakes,
            PortEvent::Stream => &metrics.agent_streams,
            PortEvent::Enrolled => &metrics.devices_enrolled,
        };
        counter.add(1);
    }
}
