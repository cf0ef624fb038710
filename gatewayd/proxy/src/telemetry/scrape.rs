//! One scrape of `/metrics`: the gateway's metrics, the leaf cache's size, the proxy auth
//! guard's counters, the events path's counters and the OTLP exporter's (the `events` and
//! `otlp` crates keep their own; they are read here, at scrape time), all through the one
//! exposition writer.

use std::sync::atomic::Ordering::Relaxed;

use events::EventStats;
use otlp::{DropReason, ExportStats};

use super::exposition::{Exposition, Kind};
use super::Metrics;
use crate::identity::AuthGuard;

/// The whole `/metrics` text.
pub fn render(
    metrics: &Metrics,
    leaf_cache_entries: usize,
    auth: &AuthGuard,
    events: Option<&EventStats>,
    otlp: Option<&ExportStats>,
) -> String {
    let mut out = Exposition::default();
    metrics.render_into(&mut out);
    out.single(
        "warden_leaf_cache_entries",
        Kind::Gauge,
        "Hosts with a cached leaf certificate.",
        leaf_cache_entries as u64,
    );
    auth.render_metrics(&mut out);
    if let Some(stats) = events {
        render_events(stats, &mut out);
    }
    if let Some(stats) = otlp {
        render_otlp(stats, &mut out);
    }
    out.finish()
}

/// The events path's counters.
pub fn render_events(stats: &EventStats, out: &mut Exposition) {
    let rows = [
        (
            "warden_events_queued_total",
            Kind::Counter,
            "Transaction records handed to the event writer.",
            &stats.queued,
        ),
        (
            "warden_events_inserted_total",
            Kind::Counter,
            "Records inserted into ClickHouse (including replayed ones).",
            &stats.inserted,
        ),
        (
            "warden_events_spooled_total",
            Kind::Counter,
            "Records written to the disk spool because an insert failed.",
            &stats.spooled,
        ),
        (
            "warden_events_replayed_total",
            Kind::Counter,
            "Spooled records inserted into ClickHouse later.",
            &stats.replayed,
        ),
        (
            "warden_events_dropped_total",
            Kind::Counter,
            "Records lost (full spool with drop_oldest, or spool failures). Alert on any.",
            &stats.dropped,
        ),
        (
            "warden_events_insert_failures_total",
            Kind::Counter,
            "Failed ClickHouse inserts.",
            &stats.insert_failures,
        ),
        (
            "warden_events_queue_overflows_total",
            Kind::Counter,
            "Records that waited because the queue was full.",
            &stats.overflowed,
        ),
        (
            "warden_events_spool_bytes",
            Kind::Gauge,
            "Bytes in the event spool.",
            &stats.spool_bytes,
        ),
        (
            "warden_events_spool_pending",
            Kind::Gauge,
            "Records in the spool not yet replayed.",
            &stats.spool_pending,
        ),
    ];
    for (name, kind, help, value) in rows {
        out.single(name, kind, help, value.load(Relaxed));
    }
}

/// The OTLP trace exporter's counters (only when `telemetry.otlp` is enabled).
pub fn render_otlp(stats: &ExportStats, out: &mut Exposition) {
    out.single(
        "warden_otlp_spans_exported_total",
        Kind::Counter,
        "Spans the OTLP collector accepted.",
        stats.exported(),
    );
    out.labelled(
        "warden_otlp_spans_dropped_total",
        Kind::Counter,
        "Spans not exported: queue full (collector slow or down), export failed, or rejected by the collector. Traffic is never held for them.",
        "reason",
        DropReason::ALL.map(|r| (r.as_str(), stats.dropped(r))),
    );
    out.single(
        "warden_otlp_export_failures_total",
        Kind::Counter,
        "OTLP export requests that failed (connection, timeout, error status).",
        stats.failures(),
    );
}
