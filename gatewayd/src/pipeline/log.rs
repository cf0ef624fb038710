//! The log phase: one record per HTTP transaction, written when the response is complete or
//! abandoned, for allowed, refused and failed requests alike. Today the record goes to the
//! structured log and the metrics; the ClickHouse event sink consumes the same record.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

use crate::telemetry::Metrics;

/// Everything known about one transaction when its response starts.
pub struct TransactionLog {
    pub request_id: String,
    pub started: Instant,
    pub client: String,
    pub user: String,
    pub method: String,
    pub scheme: &'static str,
    pub host: String,
    pub path: String,
    pub status: u16,
    pub action: &'static str,
    pub rule: String,
    pub detail: Option<String>,
    pub policy_version: u64,
    pub bytes_up: Arc<AtomicU64>,
    pub bytes_down: Arc<AtomicU64>,
    pub body_error: Option<String>,
    pub metrics: Arc<Metrics>,
}

impl TransactionLog {
    /// Emits the record. Called exactly once: at body end, or when the body is dropped.
    pub fn finish(self) {
        let up = self.bytes_up.load(Relaxed);
        let down = self.bytes_down.load(Relaxed);
        self.metrics.bytes_up.fetch_add(up, Relaxed);
        self.metrics.bytes_down.fetch_add(down, Relaxed);
        tracing::info!(
            target: "warden::transaction",
            request_id = %self.request_id,
            client = %self.client,
            user = %self.user,
            method = %self.method,
            scheme = self.scheme,
            host = %self.host,
            path = %self.path,
            status = self.status,
            action = self.action,
            rule = %self.rule,
            detail = self.detail.as_deref().unwrap_or(""),
            policy_version = self.policy_version,
            bytes_up = up,
            bytes_down = down,
            body_error = self.body_error.as_deref().unwrap_or(""),
            latency_ms = self.started.elapsed().as_secs_f64() * 1000.0,
            "transaction"
        );
    }
}
