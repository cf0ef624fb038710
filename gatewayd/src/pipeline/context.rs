//! The typed state a connection and each of its requests carry through the phases.

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Instant;

use http::{Method, Request};

use crate::gateway::{Gateway, Snapshot};
use crate::identity::Identity;
use crate::respond::{wants_json, Refusal};

/// Where an intercepted or tunnelled connection goes: the host the client asked for (SNI, or
/// the CONNECT target without SNI) and the CONNECT port.
#[derive(Debug, Clone)]
pub struct TunnelTarget {
    pub host: String,
    pub port: u16,
    /// `https` for intercepted TLS, `http` for plain HTTP inside a CONNECT tunnel.
    pub scheme: &'static str,
}

/// What every request on one client connection shares.
pub struct ConnectionContext {
    pub gateway: Arc<Gateway>,
    /// The configuration and policy this connection started with; kept for its lifetime.
    pub snapshot: Arc<Snapshot>,
    pub client: SocketAddr,
    pub identity: Identity,
    /// Set for connections inside a CONNECT tunnel.
    pub tunnel: Option<TunnelTarget>,
    /// Set when the tunnel was blocked at CONNECT time: every request gets this page.
    pub blocked: Option<Refusal>,
}

/// One request's state, from arrival to the log phase.
pub struct RequestContext {
    pub request_id: String,
    pub started: Instant,
    pub method: Method,
    pub scheme: &'static str,
    pub host: String,
    pub path: String,
    /// Whether refusals are rendered as JSON (API client) or HTML (browser).
    pub json: bool,
    /// What the gateway did: `allow`, `block`, `error`, `deny`.
    pub action: &'static str,
    /// The rule or check behind the action.
    pub rule: String,
    /// A human-readable detail for the log (the refusal reason, the upstream error).
    pub detail: Option<String>,
    pub bytes_up: Arc<AtomicU64>,
}

impl RequestContext {
    pub fn begin<B>(conn: &ConnectionContext, request: &Request<B>) -> Self {
        let host = conn
            .tunnel
            .as_ref()
            .map(|t| t.host.clone())
            .or_else(|| request.uri().host().map(str::to_owned))
            .unwrap_or_default();
        Self {
            request_id: uuid::Uuid::now_v7().to_string(),
            started: Instant::now(),
            method: request.method().clone(),
            scheme: conn.tunnel.as_ref().map(|t| t.scheme).unwrap_or("http"),
            json: wants_json(request.headers(), &host),
            host,
            path: request.uri().path().chars().take(2048).collect(),
            action: "allow",
            rule: "default".into(),
            detail: None,
            bytes_up: Arc::default(),
        }
    }

    /// Records that the gateway answered this request itself.
    pub fn refused(&mut self, refusal: &Refusal) {
        self.action = refusal.action;
        self.rule = refusal.rule.clone();
        self.detail = Some(refusal.reason.clone());
    }
}
