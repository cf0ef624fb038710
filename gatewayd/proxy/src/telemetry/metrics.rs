//! Counters and gauges exported at `/metrics` in the Prometheus text format.
//!
//! Plain atomics owned by the gateway (no process-wide registry): each is bumped where the
//! thing it counts happens, and rendered on scrape.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

/// How a CONNECT tunnel was handled.
#[derive(Debug, Clone, Copy)]
pub enum TunnelKind {
    Intercepted,
    Bypassed,
    Blocked,
    Refused,
}

/// Every metric the gateway exports.
#[derive(Default)]
pub struct Metrics {
    pub connections_accepted: AtomicU64,
    pub connections_open: AtomicI64,
    pub connections_rejected_limit: AtomicU64,
    pub connections_denied_access: AtomicU64,
    pub tunnels_intercepted: AtomicU64,
    pub tunnels_bypassed: AtomicU64,
    pub tunnels_blocked: AtomicU64,
    pub tunnels_refused: AtomicU64,
    pub tls_handshake_failures: AtomicU64,
    pub leaves_minted: AtomicU64,
    pub requests_total: AtomicU64,
    pub requests_blocked: AtomicU64,
    pub upstream_errors: AtomicU64,
    pub upstream_certificate_invalid: AtomicU64,
    /// Destinations refused by the egress policy (any path: requests, tunnels, splices).
    pub egress_refused: AtomicU64,
    pub bytes_up: AtomicU64,
    pub bytes_down: AtomicU64,
    pub config_reloads: AtomicU64,
    pub config_reload_failures: AtomicU64,
    pub tunnel_handshakes: AtomicU64,
    pub tunnel_streams: AtomicU64,
    pub tunnel_refused: AtomicU64,
    pub devices_enrolled: AtomicU64,
    // Resource limits and upstream retries (issue 16).
    pub upstream_retries: AtomicU64,
    pub inspect_budget_exhausted: AtomicU64,
    pub inspect_buffered_bytes: AtomicI64,
    pub connections_rejected_source: AtomicU64,
    pub connections_rejected_user: AtomicU64,
}

impl Metrics {
    pub fn tunnel(&self, kind: TunnelKind) {
        let counter = match kind {
            TunnelKind::Intercepted => &self.tunnels_intercepted,
            TunnelKind::Bypassed => &self.tunnels_bypassed,
            TunnelKind::Blocked => &self.tunnels_blocked,
            TunnelKind::Refused => &self.tunnels_refused,
        };
        counter.fetch_add(1, Relaxed);
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self, leaf_cache_size: usize) -> String {
        let c = |v: &AtomicU64| v.load(Relaxed);
        let open = u64::try_from(self.connections_open.load(Relaxed)).unwrap_or(0);
        render_series(&[
            (
                "connections_accepted_total",
                COUNTER,
                "Client connections accepted on the proxy port.",
                c(&self.connections_accepted),
            ),
            (
                "connections_rejected_limit_total",
                COUNTER,
                "Client connections refused because limits.max_connections was reached.",
                c(&self.connections_rejected_limit),
            ),
            (
                "connections_denied_access_total",
                COUNTER,
                "Clients refused for lacking proxy auth or an allowed source address.",
                c(&self.connections_denied_access),
            ),
            (
                "tunnels_intercepted_total",
                COUNTER,
                "CONNECT tunnels whose TLS was terminated and inspected.",
                c(&self.tunnels_intercepted),
            ),
            (
                "tunnels_bypassed_total",
                COUNTER,
                "CONNECT tunnels passed through untouched (do not inspect).",
                c(&self.tunnels_bypassed),
            ),
            (
                "tunnels_blocked_total",
                COUNTER,
                "CONNECT tunnels answered with a block page.",
                c(&self.tunnels_blocked),
            ),
            (
                "tunnels_refused_total",
                COUNTER,
                "CONNECT tunnels closed: malformed or non-TLS traffic, handshake timeouts.",
                c(&self.tunnels_refused),
            ),
            (
                "tls_handshake_failures_total",
                COUNTER,
                "Client TLS handshakes with the minted certificate that failed.",
                c(&self.tls_handshake_failures),
            ),
            (
                "leaves_minted_total",
                COUNTER,
                "Leaf certificates minted.",
                c(&self.leaves_minted),
            ),
            (
                "requests_total",
                COUNTER,
                "HTTP requests handled by the pipeline.",
                c(&self.requests_total),
            ),
            (
                "requests_blocked_total",
                COUNTER,
                "HTTP requests answered by the gateway instead of the upstream.",
                c(&self.requests_blocked),
            ),
            (
                "upstream_errors_total",
                COUNTER,
                "Requests that failed because the upstream could not be used.",
                c(&self.upstream_errors),
            ),
            (
                "upstream_certificate_invalid_total",
                COUNTER,
                "Upstream connections refused for an invalid certificate.",
                c(&self.upstream_certificate_invalid),
            ),
            (
                "egress_refused_total",
                COUNTER,
                "Connections the egress policy refused (loopback, private, ports ...).",
                c(&self.egress_refused),
            ),
            (
                "bytes_up_total",
                COUNTER,
                "Request body bytes forwarded upstream.",
                c(&self.bytes_up),
            ),
            (
                "bytes_down_total",
                COUNTER,
                "Response body bytes returned to clients.",
                c(&self.bytes_down),
            ),
            (
                "config_reloads_total",
                COUNTER,
                "Successful configuration reloads.",
                c(&self.config_reloads),
            ),
            (
                "config_reload_failures_total",
                COUNTER,
                "Reloads refused because the new configuration was invalid.",
                c(&self.config_reload_failures),
            ),
            (
                "tunnel_handshakes_total",
                COUNTER,
                "TLS handshakes completed on the agent tunnel port (one per agent connection).",
                c(&self.tunnel_handshakes),
            ),
            (
                "tunnel_streams_total",
                COUNTER,
                "CONNECT streams opened by device agents over their tunnel connections.",
                c(&self.tunnel_streams),
            ),
            (
                "tunnel_refused_total",
                COUNTER,
                "Agent connections or streams refused: bad or revoked certificates, garbage, limits.",
                c(&self.tunnel_refused),
            ),
            (
                "devices_enrolled_total",
                COUNTER,
                "Devices enrolled through the tunnel port.",
                c(&self.devices_enrolled),
            ),
            (
                "upstream_retries_total",
                COUNTER,
                "Requests the upstream did not process (GOAWAY, REFUSED_STREAM, closed connection) sent again on a fresh connection.",
                c(&self.upstream_retries),
            ),
            (
                "inspect_budget_exhausted_total",
                COUNTER,
                "Bodies treated as unscannable because inspect.max_buffered_bytes was in use.",
                c(&self.inspect_budget_exhausted),
            ),
            (
                "connections_rejected_source_total",
                COUNTER,
                "Connections refused by limits.max_connections_per_source.",
                c(&self.connections_rejected_source),
            ),
            (
                "connections_rejected_user_total",
                COUNTER,
                "Tunnels and requests refused by limits.max_connections_per_user.",
                c(&self.connections_rejected_user),
            ),
            (
                "inspect_buffered_bytes",
                GAUGE,
                "Bytes of the inspection budget held by bodies being buffered now.",
                u64::try_from(self.inspect_buffered_bytes.load(Relaxed)).unwrap_or(0),
            ),
            (
                "connections_open",
                GAUGE,
                "Client connections open now.",
                open,
            ),
            (
                "leaf_cache_entries",
                GAUGE,
                "Hosts with a cached leaf certificate.",
                leaf_cache_size as u64,
            ),
        ])
    }
}

const COUNTER: &str = "counter";
const GAUGE: &str = "gauge";

/// `(name, type, help, value)` rows in the Prometheus text format, names prefixed `warden_`.
fn render_series(rows: &[(&str, &str, &str, u64)]) -> String {
    let mut out = String::with_capacity(rows.len() * 160);
    for (name, kind, help, value) in rows {
        let _ = write!(
            out,
            "# HELP warden_{name} {help}\n# TYPE warden_{name} {kind}\nwarden_{name} {value}\n"
        );
    }
    out
}

/// The events path's counters in the Prometheus text format.
pub fn render_events(stats: &events::EventStats) -> String {
    let c = |v: &AtomicU64| v.load(Relaxed);
    render_series(&[
        (
            "events_queued_total",
            COUNTER,
            "Transaction records handed to the event writer.",
            c(&stats.queued),
        ),
        (
            "events_inserted_total",
            COUNTER,
            "Records inserted into ClickHouse (including replayed ones).",
            c(&stats.inserted),
        ),
        (
            "events_spooled_total",
            COUNTER,
            "Records written to the disk spool because an insert failed.",
            c(&stats.spooled),
        ),
        (
            "events_replayed_total",
            COUNTER,
            "Spooled records inserted into ClickHouse later.",
            c(&stats.replayed),
        ),
        (
            "events_dropped_total",
            COUNTER,
            "Records lost (full spool with drop_oldest, or spool failures). Alert on any.",
            c(&stats.dropped),
        ),
        (
            "events_insert_failures_total",
            COUNTER,
            "Failed ClickHouse inserts.",
            c(&stats.insert_failures),
        ),
        (
            "events_queue_overflows_total",
            COUNTER,
            "Records that waited because the queue was full.",
            c(&stats.overflowed),
        ),
        (
            "events_spool_bytes",
            GAUGE,
            "Bytes in the event spool.",
            c(&stats.spool_bytes),
        ),
        (
            "events_spool_pending",
            GAUGE,
            "Records in the spool not yet replayed.",
            c(&stats.spool_pending),
        ),
    ])
}
