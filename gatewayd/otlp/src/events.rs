//! What the exporter tells operators: typed events whose `emit` updates [`ExportStats`] (read
//! by `/metrics`) and writes the log line together. Warnings are rate-limited: a collector
//! that is down must not flood the logs any more than it may slow traffic.
//!
//! A span dropped because the queue was full is counted where it happens (inside the tracing
//! subscriber, where a log line could be lost or re-enter it) and reported by the exporter
//! task on its next tick.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most one warning per this long, with the count of what happened in between.
const WARN_EVERY: Duration = Duration::from_secs(30);

/// Why spans were not exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// The queue was full (the collector is slow or down, or the batch is in flight).
    QueueFull,
    /// The export that carried them failed (connection, timeout, an error status).
    ExportFailed,
    /// The collector accepted the request but rejected these spans (OTLP partial success).
    Rejected,
}

impl DropReason {
    pub const ALL: [DropReason; 3] = [Self::QueueFull, Self::ExportFailed, Self::Rejected];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::QueueFull => "queue_full",
            Self::ExportFailed => "export_failed",
            Self::Rejected => "rejected",
        }
    }
}

/// The exporter's counters.
#[derive(Default)]
pub struct ExportStats {
    exported: AtomicU64,
    dropped: [AtomicU64; 3],
    failures: AtomicU64,
    /// Queue-full drops not yet told to the log.
    unreported_full: AtomicU64,
    last_warning: Mutex<Option<Instant>>,
}

impl ExportStats {
    /// Spans the collector accepted.
    pub fn exported(&self) -> u64 {
        self.exported.load(Relaxed)
    }

    /// Spans not exported, for one reason.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped[reason as usize].load(Relaxed)
    }

    /// Export requests that failed.
    pub fn failures(&self) -> u64 {
        self.failures.load(Relaxed)
    }

    /// Whether a warning may be written now (one per [`WARN_EVERY`]).
    fn may_warn(&self) -> bool {
        let Ok(mut last) = self.last_warning.lock() else {
            return false;
        };
        let now = Instant::now();
        if last.is_some_and(|at| now.duration_since(at) < WARN_EVERY) {
            return false;
        }
        *last = Some(now);
        true
    }
}

/// A batch the collector accepted.
pub(crate) struct SpansExported {
    pub count: u64,
    pub rejected: u64,
}

impl SpansExported {
    pub fn emit(self, stats: &ExportStats) {
        stats
            .exported
            .fetch_add(self.count.saturating_sub(self.rejected), Relaxed);
        if self.rejected > 0 {
            stats.dropped[DropReason::Rejected as usize].fetch_add(self.rejected, Relaxed);
            if stats.may_warn() {
                tracing::warn!(
                    rejected = self.rejected,
                    "the OTLP collector rejected some spans"
                );
            }
        }
    }
}

/// Spans dropped because the queue was full (counted inside the subscriber).
pub(crate) struct QueueFull;

impl QueueFull {
    pub fn emit(self, stats: &ExportStats) {
        stats.dropped[DropReason::QueueFull as usize].fetch_add(1, Relaxed);
        stats.unreported_full.fetch_add(1, Relaxed);
    }
}

/// The exporter's tick: tells the log about queue-full drops since the last warning.
pub(crate) struct QueueFullReport;

impl QueueFullReport {
    pub fn emit(self, stats: &ExportStats) {
        if stats.unreported_full.load(Relaxed) == 0 || !stats.may_warn() {
            return;
        }
        let dropped = stats.unreported_full.swap(0, Relaxed);
        tracing::warn!(
            dropped,
            "OTLP export queue full: spans dropped (the collector is slow or down; traffic is not affected)"
        );
    }
}

/// An export request failed: its spans are dropped.
pub(crate) struct ExportFailed<'a> {
    pub spans: u64,
    pub error: &'a dyn std::fmt::Display,
}

impl ExportFailed<'_> {
    pub fn emit(self, stats: &ExportStats) {
        stats.failures.fetch_add(1, Relaxed);
        stats.dropped[DropReason::ExportFailed as usize].fetch_add(self.spans, Relaxed);
        if stats.may_warn() {
            tracing::warn!(error = %self.error, dropped = self.spans, "OTLP export failed: spans dropped (traffic is not affected; further failures are logged at most every 30s)");
        } else {
            tracing::debug!(error = %self.error, dropped = self.spans, "OTLP export failed");
        }
    }
}
