//! Events of the listeners: connections accepted, refused by a limit or by access control,
//! accept errors, and the open-connections gauge.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use super::InternalEvent;
use crate::telemetry::{Denial, Label, Limit, Listener, Metrics};

/// A connection accepted on a listener (before any limit is checked).
pub struct ConnectionAccepted {
    pub listener: Listener,
    pub peer: SocketAddr,
}

impl InternalEvent for ConnectionAccepted {
    fn emit(self, metrics: &Metrics) {
        tracing::trace!(listener = self.listener.as_str(), peer = %self.peer, "connection accepted");
        metrics.connections_accepted.with(self.listener).add(1);
    }
}

/// A connection refused at accept by a port-wide or per-source limit.
pub struct ConnectionRejected {
    pub listener: Listener,
    pub limit: Limit,
    pub max: usize,
    pub source: IpAddr,
}

impl InternalEvent for ConnectionRejected {
    fn emit(self, metrics: &Metrics) {
        tracing::warn!(
            listener = self.listener.as_str(),
            source = %self.source,
            limit = self.max,
            "connection refused: {}",
            self.limit.as_str()
        );
        metrics.connections_rejected.with(self.limit).add(1);
    }
}

/// A tunnel or request refused by `limits.max_connections_per_user`.
pub struct UserOverLimit<'a> {
    pub user: &'a str,
    pub max: usize,
}

impl InternalEvent for UserOverLimit<'_> {
    fn emit(self, metrics: &Metrics) {
        tracing::warn!(user = %self.user, limit = self.max, "refused: limits.max_connections_per_user");
        metrics.connections_rejected.with(Limit::User).add(1);
    }
}

/// `accept` failed (EMFILE and friends); the loop backs off before trying again.
pub struct AcceptFailed<'a> {
    pub listener: Listener,
    pub error: &'a std::io::Error,
}

impl InternalEvent for AcceptFailed<'_> {
    fn emit(self, metrics: &Metrics) {
        tracing::warn!(error = %self.error, port = self.listener.as_str(), "accept failed");
        metrics.accept_errors.with(self.listener).add(1);
    }
}

/// A client refused the proxy: no (valid) credentials, or a source that may not use it.
pub struct AccessDenied {
    pub reason: Denial,
    pub client: SocketAddr,
}

impl InternalEvent for AccessDenied {
    fn emit(self, metrics: &Metrics) {
        match self.reason {
            // The usual first step of a client that authenticates: not worth a warning.
            Denial::AuthRequired => {
                tracing::debug!(client = %self.client, "proxy authentication required");
            }
            Denial::Source => {
                tracing::warn!(client = %self.client, "proxy use refused: source not allowed");
            }
        }
        metrics.access_denied.with(self.reason).add(1);
    }
}

/// One open connection on the `connections_open` gauge, lowered when dropped.
pub struct OpenConnection {
    metrics: Arc<Metrics>,
    listener: Listener,
}

impl OpenConnection {
    pub fn new(metrics: Arc<Metrics>, listener: Listener) -> Self {
        metrics.connections_open.with(listener).add(1);
        Self { metrics, listener }
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.metrics.connections_open.with(self.listener).sub(1);
    }
}
