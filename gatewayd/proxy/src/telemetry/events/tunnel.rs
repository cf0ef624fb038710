//! Events of CONNECT tunnels: how each was handled, leaf certificates, client handshakes.

use std::fmt::Display;

use super::InternalEvent;
use crate::telemetry::{Metrics, TunnelKind};

/// Why a tunnel was closed without being served.
pub enum TunnelRefusal<'a> {
    /// Nothing usable arrived before the handshake timeout, or the bytes could not be read.
    Unreadable(&'a dyn Display),
    /// Neither TLS nor HTTP, and `proxy.non_tls_connect = "refuse"`.
    NotTlsOrHttp,
    /// No certificate could be minted: fail closed.
    NoCertificate(&'a dyn Display),
}

/// A tunnel closed without being served.
pub struct TunnelRefused<'a> {
    pub target: &'a str,
    pub reason: TunnelRefusal<'a>,
}

impl InternalEvent for TunnelRefused<'_> {
    fn emit(self, metrics: &Metrics) {
        let target = self.target;
        match self.reason {
            TunnelRefusal::Unreadable(error) => {
                tracing::info!(%target, %error, "tunnel refused");
            }
            TunnelRefusal::NotTlsOrHttp => tracing::info!(
                %target,
                "tunnel refused: neither TLS nor HTTP (proxy.non_tls_connect = \"refuse\")"
            ),
            TunnelRefusal::NoCertificate(error) => {
                tracing::warn!(host = %target, %error, "cannot mint a certificate; tunnel closed");
            }
        }
        metrics.tunnels.with(TunnelKind::Refused).add(1);
    }
}

/// A tunnel spliced through untouched, by the rule named.
pub struct TunnelBypassed<'a> {
    pub host: &'a str,
    pub rule: &'a str,
}

impl InternalEvent for TunnelBypassed<'_> {
    fn emit(self, metrics: &Metrics) {
        tracing::info!(host = %self.host, rule = %self.rule, "tunnel not inspected");
        metrics.tunnels.with(TunnelKind::Bypassed).add(1);
    }
}

/// A tunnel whose traffic the gateway serves itself: inspected, or answered with a block page.
pub struct TunnelIntercepted {
    pub blocked: bool,
}

impl InternalEvent for TunnelIntercepted {
    fn emit(self, metrics: &Metrics) {
        let kind = if self.blocked {
            TunnelKind::Blocked
        } else {
            TunnelKind::Intercepted
        };
        metrics.tunnels.with(kind).add(1);
    }
}

/// A leaf certificate minted (a leaf-cache miss).
pub struct LeafMinted<'a> {
    pub host: &'a str,
}

impl InternalEvent for LeafMinted<'_> {
    fn emit(self, metrics: &Metrics) {
        tracing::debug!(host = %self.host, "leaf certificate minted");
        metrics.leaves_minted.add(1);
    }
}

/// A client's TLS handshake with the minted certificate failed (`error`) or timed out (`None`).
pub struct TlsHandshakeFailed<'a> {
    pub host: &'a str,
    pub error: Option<&'a dyn Display>,
}

impl InternalEvent for TlsHandshakeFailed<'_> {
    fn emit(self, metrics: &Metrics) {
        let host = self.host;
        match self.error {
            Some(error) => tracing::info!(
                %host,
                %error,
                "client TLS handshake failed (does the client trust the Warden root?)"
            ),
            None => tracing::info!(%host, "client TLS handshake timed out"),
        }
        metrics.tls_handshake_failures.add(1);
    }
}
