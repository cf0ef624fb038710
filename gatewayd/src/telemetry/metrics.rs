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
    pub bytes_up: AtomicU64,
    pub bytes_down: AtomicU64,
    pub config_reloads: AtomicU64,
    pub config_reload_failures: AtomicU64,
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
        let mut out = String::with_capacity(2048);
        let mut counter = |name: &str, help: &str, value: u64| {
            let _ = write!(
                out,
                "# HELP warden_{name} {help}\n# TYPE warden_{name} counter\nwarden_{name} {value}\n"
            );
        };
        counter(
            "connections_accepted_total",
            "Client connections accepted on the proxy port.",
            self.connections_accepted.load(Relaxed),
        );
        counter(
            "connections_rejected_limit_total",
            "Client connections refused because limits.max_connections was reached.",
            self.connections_rejected_limit.load(Relaxed),
        );
        counter(
            "connections_denied_access_total",
            "Clients refused for lacking proxy auth or an allowed source address.",
            self.connections_denied_access.load(Relaxed),
        );
        counter(
            "tunnels_intercepted_total",
            "CONNECT tunnels whose TLS was terminated and inspected.",
            self.tunnels_intercepted.load(Relaxed),
        );
        counter(
            "tunnels_bypassed_total",
            "CONNECT tunnels passed through untouched (do not inspect).",
            self.tunnels_bypassed.load(Relaxed),
        );
        counter(
            "tunnels_blocked_total",
            "CONNECT tunnels answered with a block page.",
            self.tunnels_blocked.load(Relaxed),
        );
        counter(
            "tunnels_refused_total",
            "CONNECT tunnels closed: malformed or non-TLS traffic, handshake timeouts.",
            self.tunnels_refused.load(Relaxed),
        );
        counter(
            "tls_handshake_failures_total",
            "Client TLS handshakes with the minted certificate that failed.",
            self.tls_handshake_failures.load(Relaxed),
        );
        counter(
            "leaves_minted_total",
            "Leaf certificates minted.",
            self.leaves_minted.load(Relaxed),
        );
        counter(
            "requests_total",
            "HTTP requests handled by the pipeline.",
            self.requests_total.load(Relaxed),
        );
        counter(
            "requests_blocked_total",
            "HTTP requests answered by the gateway instead of the upstream.",
            self.requests_blocked.load(Relaxed),
        );
        counter(
            "upstream_errors_total",
            "Requests that failed because the upstream could not be used.",
            self.upstream_errors.load(Relaxed),
        );
        counter(
            "upstream_certificate_invalid_total",
            "Upstream connections refused for an invalid certificate.",
            self.upstream_certificate_invalid.load(Relaxed),
        );
        counter(
            "bytes_up_total",
            "Request body bytes forwarded upstream.",
            self.bytes_up.load(Relaxed),
        );
        counter(
            "bytes_down_total",
            "Response body bytes returned to clients.",
            self.bytes_down.load(Relaxed),
        );
        counter(
            "config_reloads_total",
            "Successful configuration reloads.",
            self.config_reloads.load(Relaxed),
        );
        counter(
            "config_reload_failures_total",
            "Reloads refused because the new configuration was invalid.",
            self.config_reload_failures.load(Relaxed),
        );
        let _ = write!(
            out,
            "# HELP warden_connections_open Client connections open now.\n# TYPE warden_connections_open gauge\nwarden_connections_open {}\n",
            self.connections_open.load(Relaxed)
        );
        let _ = write!(
            out,
            "# HELP warden_leaf_cache_entries Hosts with a cached leaf certificate.\n# TYPE warden_leaf_cache_entries gauge\nwarden_leaf_cache_entries {leaf_cache_size}\n"
        );
        out
    }
}

/// The events path's counters in the Prometheus text format.
pub fn render_events(stats: &crate::events::EventStats) -> String {
    let mut out = String::with_capacity(1024);
    let rows = [
        (
            "events_queued_total",
            "counter",
            "Transaction records handed to the event writer.",
            stats.queued.load(Relaxed),
        ),
        (
            "events_inserted_total",
            "counter",
            "Records inserted into ClickHouse (including replayed ones).",
            stats.inserted.load(Relaxed),
        ),
        (
            "events_spooled_total",
            "counter",
            "Records written to the disk spool because an insert failed.",
            stats.spooled.load(Relaxed),
        ),
        (
            "events_replayed_total",
            "counter",
            "Spooled records inserted into ClickHouse later.",
            stats.replayed.load(Relaxed),
        ),
        (
            "events_dropped_total",
            "counter",
            "Records lost (full spool with drop_oldest, or spool failures). Alert on any.",
            stats.dropped.load(Relaxed),
        ),
        (
            "events_insert_failures_total",
            "counter",
            "Failed ClickHouse inserts.",
            stats.insert_failures.load(Relaxed),
        ),
        (
            "events_queue_overflows_total",
            "counter",
            "Records that waited because the queue was full.",
            stats.overflowed.load(Relaxed),
        ),
        (
            "events_spool_bytes",
            "gauge",
            "Bytes in the event spool.",
            stats.spool_bytes.load(Relaxed),
        ),
        (
            "events_spool_pending",
            "gauge",
            "Records in the spool not yet replayed.",
            stats.spool_pending.load(Relaxed),
        ),
    ];
    for (name, kind, help, value) in rows {
        let _ = write!(
            out,
            "# HELP warden_{name} {help}\n# TYPE warden_{name} {kind}\nwarden_{name} {value}\n"
        );
    }
    out
}
