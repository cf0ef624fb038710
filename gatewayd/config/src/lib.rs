//! The daemon's configuration: typed TOML with embedded defaults.
//!
//! Every key is optional; unknown keys are rejected with their file position (never silently
//! ignored). Values are validated here, before anything uses them, so `gatewayd check` and a
//! SIGHUP reload see exactly the errors `gatewayd run` would.

pub mod address_class;
mod ai_keys;
mod aigw;
mod aigw_access;
mod aigw_budgets;
mod aigw_chat;
mod aigw_routes;
mod aigw_shared;
mod coaching;
mod duration;
mod egress;
mod inference;
mod load;
mod siem;
mod telemetry;
mod tenants;
mod validate;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use ipnet::IpNet;
use serde::Deserialize;

pub use ai_keys::{AiKeysConfig, MAX_GUIDANCE_CHARS};
pub use aigw::{
    is_date, AigwConfig, AigwIdentity, AigwModel, AigwOnMatch, AigwPrice, AigwProvider,
    AigwResponseDlp, AigwTls, ProviderKind, MAX_PRICE_USD,
};
pub use aigw_budgets::{AigwBudget, AigwLimit, AigwScope, BudgetWindow, MAX_BUDGET_USD};
pub use aigw_chat::{block_page_link as aigw_chat_link, AigwChat};
pub use aigw_routes::{
    flatten as flatten_route, target_ref, AigwBreaker, AigwRoute, AigwRouteTarget, RouteStrategy,
    TargetRef, MAX_ROUTE_ATTEMPTS, MAX_ROUTE_TARGETS,
};
pub use aigw_shared::{AigwShared, OnRedisDown};
pub use coaching::CoachingConfig;
pub use duration::ConfigDuration;
use egress::forbidden_network;
pub use egress::{EgressConfig, PortRange};
pub use events::{SpoolFsync, SpoolWhenFull};
pub use inference::InferenceConfig;
pub use load::line_col;
pub use load::{load_config, ConfigError, ConfigSource};
pub use schema::ClickHouseConfig;
pub use siem::{SiemConfig, SiemFormat, SiemKind, SiemSink, SiemStream};
pub use telemetry::{OtlpConfig, OtlpHeaders, TelemetryConfig};
pub use tenants::{AppTenant, TenantsConfig, MAX_TENANT_IDS};

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub proxy: ProxyConfig,
    pub admin: AdminConfig,
    pub state: StateConfig,
    pub upstream: UpstreamConfig,
    pub egress: EgressConfig,
    pub intercept: InterceptConfig,
    pub timeouts: TimeoutConfig,
    pub limits: LimitConfig,
    pub log: LogConfig,
    pub policies: PoliciesConfig,
    pub inspect: InspectConfig,
    pub clickhouse: ClickHouseConfig,
    pub events: EventsConfig,
    pub retention: RetentionConfig,
    pub geoip: GeoIpConfig,
    pub identity: IdentityConfig,
    pub tunnel: TunnelConfig,
    pub keys: KeysConfig,
    pub aigw: AigwConfig,
    pub coaching: CoachingConfig,
    pub telemetry: TelemetryConfig,
    /// Tenant control per catalog app: the organisation's own accounts (`[tenants.<app>]`).
    pub tenants: TenantsConfig,
    /// The AI key inventory and block-with-guidance (`[ai_keys]`).
    pub ai_keys: AiKeysConfig,
    /// SIEM export: syslog, Splunk HEC, signed webhooks (`[[siem.sinks]]`).
    pub siem: SiemConfig,
    /// The on-box model the AI gateway's `local` provider serves (`[inference]`).
    pub inference: InferenceConfig,
}

/// The provider key store (`gatewayd keys ...`): where its master key comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeysConfig {
    /// `env:NAME`, `file:PATH` (0600) or `systemd:NAME` (a systemd credential). Never the
    /// key itself: the config file is not a place for it.
    pub master_key: String,
}

impl Default for KeysConfig {
    fn default() -> Self {
        Self {
            master_key: "env:WARDEN_MASTER_KEY".to_string(),
        }
    }
}

/// The event writer: batching, and the spool that keeps events while ClickHouse is down.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// Write transaction records at all (off: only the structured log line remains).
    pub enabled: bool,
    /// Records buffered between the log phase and the writer.
    pub queue_size: usize,
    /// A batch is inserted when it has this many records ...
    pub batch_size: usize,
    /// ... or when this much time has passed.
    pub flush_interval: ConfigDuration,
    pub insert_timeout: ConfigDuration,
    /// Largest size of the on-disk spool.
    pub spool_max_bytes: u64,
    pub spool_fsync: SpoolFsync,
    pub spool_when_full: SpoolWhenFull,
}

/// How long data is kept.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    pub raw_days: u32,
    pub rollup_days: u32,
}

/// The MaxMind database that puts a country and city on every event.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct GeoIpConfig {
    pub database: Option<PathBuf>,
}

/// Identities for clients that do not authenticate: source ranges mapped to a site or user.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct IdentityConfig {
    pub sources: Vec<SourceIdentity>,
}

/// One source range and who is behind it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceIdentity {
    pub cidr: IpNet,
    pub user: String,
    #[serde(default)]
    pub groups: Vec<String>,
}

impl Default for EventsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            queue_size: 100_000,
            batch_size: 50_000,
            flush_interval: ConfigDuration(std::time::Duration::from_secs(1)),
            insert_timeout: ConfigDuration::secs(30),
            spool_max_bytes: 1024 * 1024 * 1024,
            spool_fsync: SpoolFsync::EveryBatch,
            spool_when_full: SpoolWhenFull::DropOldest,
        }
    }
}

impl EventsConfig {
    /// The values the events crate works with.
    pub fn options(&self) -> events::EventsOptions {
        events::EventsOptions {
            queue_size: self.queue_size,
            batch_size: self.batch_size,
            flush_interval: self.flush_interval.0,
            insert_timeout: self.insert_timeout.0,
            spool_max_bytes: self.spool_max_bytes,
            spool_fsync: self.spool_fsync,
            spool_when_full: self.spool_when_full,
        }
    }
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            raw_days: 30,
            rollup_days: 400,
        }
    }
}

/// Which policy and catalog files the security team maintains.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct PoliciesConfig {
    /// Policy files (TOML), evaluated in order as one policy. Empty: the embedded default.
    pub files: Vec<PathBuf>,
    /// Extra catalog files; an app with a shipped id replaces the shipped entry.
    pub catalog_files: Vec<PathBuf>,
    /// Ed25519 public keys (PEM) whose signed catalog bundles `gatewayd catalog update`
    /// installs. Empty: the catalog is only ever the shipped one (plus `catalog_files`).
    pub catalog_update_keys: Vec<PathBuf>,
    /// Shadow-AI discovery of AI traffic to hosts outside the catalog (`on` or `off`).
    pub discovery: Discovery,
}

/// Whether the proxy looks for AI traffic outside the catalog. Off, it reads nothing of a
/// request or response for it; on, it reads headers and the first chunk of each body.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Discovery {
    #[default]
    On,
    Off,
}

/// Request body inspection for DLP and audit.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InspectConfig {
    /// Largest request body buffered and scanned before it goes upstream.
    pub max_body_bytes: usize,
    /// What happens to a body that must be scanned but cannot be (too large, unreadable).
    pub on_unscannable: Unscannable,
    /// Time allowed to receive a body that must be scanned.
    pub body_timeout: ConfigDuration,
    /// Bytes all bodies being buffered for inspection may hold together (read at start).
    pub max_buffered_bytes: usize,
    /// The most of that budget one user (or, for anonymous and source-range identities, one
    /// client address) may hold at once, so one user cannot starve everyone else.
    pub max_buffered_bytes_per_user: usize,
    /// How long a body waits for that budget before it counts as unscannable.
    pub budget_wait: ConfigDuration,
}

/// The fate of a body a rule wants scanned when scanning is impossible.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Unscannable {
    /// Refuse the request (fail closed; the default).
    Block,
    /// Forward it and flag the event as unscanned.
    Allow,
}

impl Default for InspectConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 10 * 1024 * 1024,
            on_unscannable: Unscannable::Block,
            body_timeout: ConfigDuration::secs(30),
            max_buffered_bytes: 256 * 1024 * 1024,
            max_buffered_bytes_per_user: 64 * 1024 * 1024,
            budget_wait: ConfigDuration::secs(2),
        }
    }
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
    /// Peers (load balancers) whose `X-Forwarded-For` names the real client.
    pub trusted_forwarders: Vec<IpNet>,
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
    /// How long a dashboard login lasts.
    pub session_ttl: ConfigDuration,
    /// The log explorer's time limit per query.
    pub query_timeout: ConfigDuration,
    /// The most rows the log explorer returns.
    pub query_max_rows: usize,
    /// The most bytes of one log explorer answer read from ClickHouse; more is cut off
    /// (the answer says it was truncated), so one query cannot fill the gateway's memory.
    pub query_max_bytes: usize,
    /// Log explorer queries running at once; one more is refused with 429.
    pub query_concurrency: usize,
    /// Admin connections open at once; one more is answered 503 and closed.
    pub max_connections: usize,
    /// Admin connections one client address may hold; one more is answered 429 and closed,
    /// so one source (a slowloris) cannot take the port from health checks and scrapers.
    pub max_connections_per_source: usize,
    /// A non-loopback `listen` must be asked for explicitly (the admin port serves plain HTTP).
    pub allow_remote: bool,
    /// Host names (besides `localhost`, IP literals and `public_url`'s host) the admin port
    /// answers to; any other `Host` is refused (DNS rebinding).
    pub allowed_hosts: Vec<String>,
    /// Where browsers reach the dashboard, e.g. behind a TLS reverse proxy; `https://` makes
    /// session cookies `Secure`.
    pub public_url: Option<String>,
}

/// Where the gateway keeps its CA, tokens, statuses and spool.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateConfig {
    pub dir: PathBuf,
}

/// How the gateway reaches origin servers.
#[derive(Debug, Clone, PartialEq, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimeoutConfig {
    /// Time for a client to send a complete request head.
    pub header_read: ConfigDuration,
    /// Time for a client to complete the TLS handshake after CONNECT.
    pub handshake: ConfigDuration,
    /// A connection with no bytes either way for this long is closed; so is a client
    /// connection that carried no request for this long (HTTP/2 PINGs do not count).
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
    /// Most connections one client address may hold open on the proxy port (trusted
    /// forwarders are exempt: they carry many clients).
    pub max_connections_per_source: usize,
    /// Most CONNECT tunnels and plain-HTTP requests one authenticated user may have open.
    pub max_connections_per_user: usize,
}

/// The agent tunnel port: device agents connect here with mTLS (device certificates) and
/// open one HTTP/2 CONNECT stream per client connection. It also serves enrollment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TunnelConfig {
    /// Where to listen; off when unset.
    pub listen: Option<SocketAddr>,
    /// How long a device certificate issued at enrollment is valid.
    pub device_cert_validity: ConfigDuration,
    /// Most agent connections open at once.
    pub max_connections: usize,
    /// Most concurrent CONNECT streams on one agent connection.
    pub max_streams_per_connection: u32,
    /// The one name the tunnel port's certificate carries, whatever SNI a client sends: the
    /// host agents dial (`agent enroll --gateway https://NAME:PORT`). Unset: `listen`'s
    /// address when it is a specific one, else this machine's host name.
    pub server_name: Option<String>,
    /// Connections without a device certificate (enrollment only) open at once.
    pub enroll_max_connections: usize,
    /// Enrollment requests being read or processed at once, gateway-wide; more are refused.
    pub enroll_max_in_flight: usize,
    /// Enrollment connections and requests one source address may start per minute (IPv6
    /// counted per /64).
    pub enroll_per_source_per_minute: u32,
    /// Ed25519 public keys (PEM `PUBLIC KEY` files) of MDMs whose signed posture documents
    /// the gateway accepts; posture is otherwise only what the device reports.
    pub mdm_keys: Vec<PathBuf>,
    /// How old a signed posture document may be (from its `issued_at`) and still count.
    pub signed_posture_max_age: ConfigDuration,
}

impl Default for TunnelConfig {
    fn default() -> Self {
        Self {
            listen: None,
            device_cert_validity: ConfigDuration::secs(90 * 24 * 3600),
            max_connections: 10_000,
            max_streams_per_connection: 1_000,
            server_name: None,
            enroll_max_connections: 128,
            enroll_max_in_flight: 16,
            enroll_per_source_per_minute: 30,
            mdm_keys: Vec::new(),
            signed_posture_max_age: ConfigDuration::secs(24 * 3600),
        }
    }
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
            trusted_forwarders: Vec::new(),
        }
    }
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9090)),
            session_ttl: ConfigDuration::secs(8 * 3600),
            query_timeout: ConfigDuration::secs(10),
            query_max_rows: 1000,
            query_max_bytes: 4 * 1024 * 1024,
            query_concurrency: 4,
            max_connections: 256,
            max_connections_per_source: 32,
            allow_remote: false,
            allowed_hosts: Vec::new(),
            public_url: None,
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
            max_connections_per_source: 512,
            max_connections_per_user: 256,
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
