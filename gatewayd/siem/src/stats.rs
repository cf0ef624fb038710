//! Each sink's counters, exported at `/metrics` as `warden_siem_*{sink="NAME"}`.
//!
//! What this module must never do: put anything but the sink's configured name and a fixed
//! error kind in a label (no host, no URL, no message).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering::Relaxed};

/// Why the last delivery failed, as a fixed label value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Connect,
    Tls,
    Io,
    Status,
    Timeout,
    Spool,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 6] = [
        Self::Connect,
        Self::Tls,
        Self::Io,
        Self::Status,
        Self::Timeout,
        Self::Spool,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Tls => "tls",
            Self::Io => "io",
            Self::Status => "status",
            Self::Timeout => "timeout",
            Self::Spool => "spool",
        }
    }
}

/// One sink's counters.
#[derive(Default, Debug)]
pub struct SinkStats {
    /// Events the receiver accepted (replayed ones included).
    pub sent: AtomicU64,
    /// Events written to the sink's disk spool (receiver unreachable or slow).
    pub spooled: AtomicU64,
    /// Spooled events delivered later.
    pub replayed: AtomicU64,
    /// Events lost: the in-memory queue was full, or the full spool dropped its oldest.
    pub dropped: AtomicU64,
    /// Failed deliveries (a batch each).
    pub failures: AtomicU64,
    /// Events in the spool not yet delivered (gauge).
    pub spool_pending: AtomicU64,
    /// The last failure's kind, 1 + index in [`ErrorKind::ALL`]; 0 when none yet.
    pub last_error: AtomicU8,
}

impl SinkStats {
    pub fn failed(&self, kind: ErrorKind) {
        self.failures.fetch_add(1, Relaxed);
        let index = ErrorKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        self.last_error.store(index as u8 + 1, Relaxed);
    }

    pub fn last_error(&self) -> Option<ErrorKind> {
        let index = self.last_error.load(Relaxed);
        ErrorKind::ALL
            .get(usize::from(index).checked_sub(1)?)
            .copied()
    }
}

/// The Prometheus text of all sinks' counters.
pub fn render(sinks: &[(&str, &SinkStats)]) -> String {
    let mut out = String::new();
    if sinks.is_empty() {
        return out;
    }
    type Read = fn(&SinkStats) -> u64;
    let families: [(&str, &str, &str, Read); 6] = [
        (
            "warden_siem_sent_total",
            "counter",
            "Events a SIEM receiver accepted (replayed ones included).",
            |s| s.sent.load(Relaxed),
        ),
        (
            "warden_siem_spooled_total",
            "counter",
            "Events spooled to disk because the SIEM receiver was unreachable or failed.",
            |s| s.spooled.load(Relaxed),
        ),
        (
            "warden_siem_replayed_total",
            "counter",
            "Spooled events delivered later.",
            |s| s.replayed.load(Relaxed),
        ),
        (
            "warden_siem_dropped_total",
            "counter",
            "Events lost (queue full, or the full spool dropped its oldest). Alert on any.",
            |s| s.dropped.load(Relaxed),
        ),
        (
            "warden_siem_delivery_failures_total",
            "counter",
            "Failed deliveries to a SIEM receiver (one per batch).",
            |s| s.failures.load(Relaxed),
        ),
        (
            "warden_siem_spool_pending",
            "gauge",
            "Events in a SIEM sink's spool not yet delivered.",
            |s| s.spool_pending.load(Relaxed),
        ),
    ];
    for (name, kind, help, read) in families {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (sink, stats) in sinks {
            let _ = writeln!(out, "{name}{{sink=\"{sink}\"}} {}", read(stats));
        }
    }
    let name = "warden_siem_last_error";
    let _ = writeln!(out, "# HELP {name} The kind of a SIEM sink's last failed delivery (1), absent before any failure.\n# TYPE {name} gauge");
    for (sink, stats) in sinks {
        if let Some(kind) = stats.last_error() {
            let _ = writeln!(
                out,
                "{name}{{sink=\"{sink}\",kind=\"{}\"}} 1",
                kind.as_str()
            );
        }
    }
    out
}
