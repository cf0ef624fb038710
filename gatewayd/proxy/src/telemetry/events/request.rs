//! Events of the request path: requests, refusals, upstream failures and retries, egress
//! refusals, body bytes, the inspection budget.

use std::fmt::Display;

use super::InternalEvent;
use crate::telemetry::{Direction, Metrics};
use crate::upstream::{ConnectError, UpstreamError};

/// A request entered the pipeline.
pub struct RequestReceived;

impl InternalEvent for RequestReceived {
    fn emit(self, metrics: &Metrics) {
        metrics.requests.add(1);
    }
}

/// A request answered by the gateway instead of the upstream (the transaction log says why).
pub struct RequestRefused;

impl InternalEvent for RequestRefused {
    fn emit(self, metrics: &Metrics) {
        metrics.requests_blocked.add(1);
    }
}

/// Where the egress policy refused a destination.
#[derive(Debug, Clone, Copy)]
pub enum EgressCheck {
    /// At CONNECT time, before any DNS (the port; an address as host).
    Connect,
    /// Connecting a bypassed (spliced) tunnel to its origin.
    Bypass,
    /// Connecting a request's upstream.
    Request,
}

/// A destination the egress policy refused.
pub struct EgressRefused<'a> {
    pub at: EgressCheck,
    pub host: &'a str,
    pub port: Option<u16>,
    pub rule: &'a str,
    /// The refusal in words, where it says more than the rule (resolved addresses).
    pub detail: Option<&'a dyn Display>,
}

impl InternalEvent for EgressRefused<'_> {
    fn emit(self, metrics: &Metrics) {
        let message = match self.at {
            EgressCheck::Connect => "CONNECT refused by the egress policy",
            EgressCheck::Bypass => "bypass tunnel refused by the egress policy",
            EgressCheck::Request => "destination refused by the egress policy",
        };
        let detail = self.detail.map(|d| d.to_string());
        tracing::warn!(
            host = %self.host,
            port = self.port,
            rule = %self.rule,
            error = detail.as_deref(),
            "{message}"
        );
        metrics.egress_refused.add(1);
    }
}

/// The upstream could not be used for a request (the egress policy's refusals are
/// [`EgressRefused`] instead).
pub struct UpstreamFailed<'a> {
    pub host: &'a str,
    pub error: &'a UpstreamError,
}

impl InternalEvent for UpstreamFailed<'_> {
    fn emit(self, metrics: &Metrics) {
        tracing::warn!(host = %self.host, error = %self.error, "upstream failed");
        metrics.upstream_errors.add(1);
        if let UpstreamError::Connect(ConnectError::InvalidCertificate { .. }) = self.error {
            metrics.upstream_certificate_invalid.add(1);
        }
    }
}

/// A request the upstream did not process, sent again on a fresh connection.
pub struct UpstreamRetried<'a> {
    pub uri: &'a http::Uri,
    pub error: &'a str,
}

impl InternalEvent for UpstreamRetried<'_> {
    fn emit(self, metrics: &Metrics) {
        tracing::debug!(uri = %self.uri, error = %self.error, "upstream did not process the request; retrying on a fresh connection");
        metrics.upstream_retries.add(1);
    }
}

/// A transaction's body bytes, counted when its log is written.
pub struct BodyBytes {
    pub up: u64,
    pub down: u64,
}

impl InternalEvent for BodyBytes {
    fn emit(self, metrics: &Metrics) {
        metrics.bytes.with(Direction::Up).add(self.up);
        metrics.bytes.with(Direction::Down).add(self.down);
    }
}

/// A body could not get inspection budget in time: it is unscannable.
pub struct InspectBudgetExhausted;

impl InternalEvent for InspectBudgetExhausted {
    fn emit(self, metrics: &Metrics) {
        metrics.inspect_budget_exhausted.add(1);
    }
}
