//! The daemon's configuration: typed TOML with embedded defaults.
//!
//! Every key is optional; unknown keys are rejected with their file position (never silently
//! ignored). Values are validated here, before anything uses them, so `gatewayd check` and a
//! SIGHUP reload see exactly the errors `gatewayd run` would.

mod duration;
mod load;
mod validate;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use ipnet::IpNet;
use serde::Deserialize;

pub use duration::ConfigDuration;
pub(crate) use load::line_col;
pub use load::{load_config, ConfigError, ConfigSource};

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub proxy: ProxyConfig,
    pub admin: AdminConfig,
    pub state: StateConfig,
    pub upstream: UpstreamConfig,
    pub intercept: InterceptConfig,
    pub timeouts: TimeoutConfig,
    pub limits: LimitConfig,
    pub log: LogConfig,
}

/// The explicit proxy port that browsers, curl and PAC files point at.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProxyConfig {
    pub listen: SocketAddr,
    /// Source ranges allowed to use the proxy without authenticating.
    pub allow_sources: Vec<IpNet>,
    /// A users file (TOML) enabling Basic proxy authentication.
    pub users_file: Option<PathBuf>,
    /// What to do with a CONNECT tunnel that carries neither TLS nor HTTP.
    pub non_tls_connect: NonTlsConnect,
}

/// A CONNECT tunnel whose first bytes are neither a TLS ClientHello nor HTTP/1.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum NonTlsConnect {
    /// Close it: traffic that cannot be inspected does not pass (the default).
    Refuse,
    /// Forward the bytes unchanged.
    Tunnel,
}

/// The admin listener: health, metrics, API and dashboard.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    pub listen: SocketAddr,
}

/// Where the gateway keeps its CA, tokens, statuses and spool.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateConfig {
    pub dir: PathBuf,
}

/// How the gateway reaches origin servers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamConfig {
    /// PEM files whose certificates are trusted besides the public roots.
    pub extra_roots: Vec<PathBuf>,
    /// "host:port" → "addr:port": connect there instead of resolving the host (like curl's
    /// --connect-to). TLS still verifies the original host name.
    pub connect_to: BTreeMap<String, String>,
    pub pool_idle_timeout: ConfigDuration,
    pub pool_max_idle_per_host: usize,
}

/// What is intercepted, tunnelled untouched, or refused at CONNECT time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InterceptConfig {
    /// Host patterns never decrypted (pinned apps, banking, health): tunnelled byte for byte.
    pub do_not_inspect: Vec<String>,
    /// Host patterns refused outright: every request gets the block page.
    pub block: Vec<String>,
    /// How many hosts' minted leaves are kept in memory.
    pub leaf_cache_size: usize,
}

/// Every timeout the gateway applies to a peer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimeoutConfig {
    /// Time for a client to send a complete request head.
    pub header_read: ConfigDuration,
    /// Time for a client to complete the TLS handshake after CONNECT.
    pub handshake: ConfigDuration,
    /// A connection with no bytes either way for this long is closed.
    pub idle: ConfigDuration,
    /// Time to reach an upstream: resolution, TCP and TLS.
    pub connect: ConfigDuration,
    /// Time for an upstream to start its response.
    pub response_head: ConfigDuration,
    /// On shutdown, how long open connections may finish before they are cut.
    pub shutdown_drain: ConfigDuration,
}

/// Sizes and counts that bound memory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitConfig {
    /// Largest request head accepted from a client.
    pub max_header_bytes: usize,
    /// Most client connections open at once, across the proxy port.
    pub max_connections: usize,
}

/// How the daemon logs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A tracing filter such as `info` or `gatewayd=debug,info`; RUST_LOG overrides it.
    pub level: String,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 3128)),
            allow_sources: Vec::new(),
            users_file: None,
            non_tls_connect: NonTlsConnect::Refuse,
        }
    }
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9090)),
        }
    }
}

impl Default for StateConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("./warden-state"),
        }
    }
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        Self {
            extra_roots: Vec::new(),
            connect_to: BTreeMap::new(),
            pool_idle_timeout: ConfigDuration::secs(90),
            pool_max_idle_per_host: 64,
        }
    }
}

impl Default for InterceptConfig {
    fn default() -> Self {
        Self {
            do_not_inspect: Vec::new(),
            block: Vec::new(),
            leaf_cache_size: ca::DEFAULT_LEAF_CACHE_CAPACITY,
        }
    }
}

impl Default for TimeoutConfig {
    fn default() -> Self {
        Self {
            header_read: ConfigDuration::secs(30),
            handshake: ConfigDuration::secs(10),
            idle: ConfigDuration::secs(300),
            connect: ConfigDuration::secs(10),
            response_head: ConfigDuration::secs(120),
            shutdown_drain: ConfigDuration::secs(30),
        }
    }
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self {
            max_header_bytes: 64 * 1024,
            max_connections: 20_000,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}
