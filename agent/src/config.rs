//! `agent run` settings: `<state>/agent.toml` (every key optional, unknown keys refused), with
//! command-line flags on top.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde::Deserialize;

/// The running agent's settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentConfig {
    /// The local proxy's address.
    pub listen: SocketAddr,
    /// When the gateway cannot be reached: `false` (default) refuses client connections,
    /// `true` lets them go direct, uninspected.
    pub fail_open: bool,
    /// Split tunnel: hosts (`intranet.corp`, `*.corp.example`) and address ranges
    /// (`10.0.0.0/8`) reached directly instead of through the gateway.
    pub direct: Vec<String>,
    /// Non-loopback clients allowed to use a non-loopback `listen` (never an open proxy).
    pub allow_sources: Vec<IpNet>,
    /// How often posture is collected again (and sent when it changed), in seconds.
    pub posture_interval_secs: u64,
    /// A JSON object of posture fields that override what the agent collects (facts an MDM
    /// or a management script knows better); re-read at every collection.
    pub posture_file: Option<PathBuf>,
    /// A signed posture envelope written by an MDM for this device, forwarded unchanged on
    /// connect and whenever it changes; only the gateway decides whether it counts.
    pub signed_posture_file: Option<PathBuf>,
    /// How long a client connection waits for the tunnel to come up before it is refused
    /// (or, with `fail_open`, sent direct), in milliseconds.
    pub connect_wait_ms: u64,
    /// Threads that relay client connections. One spends the least CPU per request; two
    /// let a burst of new connections (a page load opens dozens, each with its own TLS
    /// handshake to relay) use a second core instead of queueing behind one. Default:
    /// [`default_threads`].
    pub threads: usize,
}

/// Two relay threads on a machine with at least four cores the agent may use, else one: on
/// two cores a second thread's wake-ups cost more than the core it would add, which the
/// user's own programs need.
pub fn default_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    if cores >= 4 {
        2
    } else {
        1
    }
}

/// Most relay threads `threads` may ask for.
pub const MAX_THREADS: usize = 64;

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 3129)),
            fail_open: false,
            direct: Vec::new(),
            allow_sources: Vec::new(),
            posture_interval_secs: 30,
            posture_file: None,
            signed_posture_file: None,
            connect_wait_ms: 3000,
            threads: default_threads(),
        }
    }
}

impl AgentConfig {
    /// Reads `<state>/agent.toml` (defaults when absent).
    pub fn load(state_dir: &Path) -> anyhow::Result<Self> {
        let path = state_dir.join(crate::state::CONFIG);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(anyhow::anyhow!("{}: {e}", path.display())),
        }
    }

    /// Refuses settings that would make the agent an open proxy.
    pub fn validate(&self) -> anyhow::Result<()> {
        if !self.listen.ip().is_loopback() && self.allow_sources.is_empty() {
            anyhow::bail!(
                "listen {} is not loopback: set allow_sources in agent.toml so the agent is not an open proxy",
                self.listen
            );
        }
        if !(1..=MAX_THREADS).contains(&self.threads) {
            anyhow::bail!(
                "threads must be between 1 and {MAX_THREADS}, not {}",
                self.threads
            );
        }
        crate::split::SplitTunnel::parse(&self.direct).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(text: &str) -> anyhow::Result<AgentConfig> {
        let config: AgentConfig = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    #[test]
    fn defaults_follow_the_cores_and_listen_on_loopback() {
        let config = parse("").unwrap();
        assert_eq!(config.threads, default_threads());
        assert!((1..=2).contains(&config.threads));
        assert!(config.listen.ip().is_loopback());
        assert_eq!(parse("threads = 1").unwrap().threads, 1);
    }

    #[test]
    fn bad_settings_are_refused_with_the_reason() {
        let zero = parse("threads = 0").unwrap_err().to_string();
        assert!(zero.contains("threads must be between 1 and 64"), "{zero}");
        assert!(parse("threads = 65").is_err());
        let open = parse("listen = \"0.0.0.0:3129\"").unwrap_err().to_string();
        assert!(open.contains("allow_sources"), "{open}");
        let unknown = parse("thread = 2").unwrap_err().to_string();
        assert!(unknown.contains("unknown field"), "{unknown}");
    }
}
