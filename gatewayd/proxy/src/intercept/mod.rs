//! After CONNECT: peek at the first bytes, decide, then intercept, pass through or block.
//!
//! ```text
//! CONNECT host:port ─► egress precheck (port, address) ─► 200 | 403 + event
//!     ─► peek (ClientHello: SNI, ALPN | plain HTTP | other) ─► one name (SNI = CONNECT host)
//!     ├─ block list ─► intercept, block page on every request
//!     ├─ do_not_inspect name ─► bypass: dial that name (egress policy), exact bytes, one event
//!     ├─ TLS ─► mint leaf for SNI (or the CONNECT host) ─► rustls ─► h2 / http/1.1 ─► pipeline
//!     │          (blocked hosts too: the block page needs a TLS session to be shown)
//!     ├─ plain HTTP ─► pipeline (http)
//!     └─ other bytes ─► refuse (or tunnel, by proxy.non_tls_connect)
//! ```
//!
//! Fails closed: a certificate that cannot be minted, a malformed ClientHello or a stalled
//! handshake closes the tunnel; nothing is forwarded uninspected unless a rule says so.

mod bypass;
pub mod client_hello;
pub mod local;
mod peek;
mod tls;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use bytes::Bytes;
use http::StatusCode;
use policies::rules::AppFacts;
use policies::{ConnectVerdict, Facts};
use tokio::io::{AsyncRead, AsyncWrite};

pub use tls::TlsTemplate;

use crate::gateway::{Gateway, Snapshot};
use crate::identity::Identity;
use crate::io::Prefixed;
use crate::outcome::Outcome;
use crate::pipeline::{self, ConnectionContext, TunnelEvent, TunnelOutcome, TunnelTarget};
use crate::respond::Refusal;
use crate::serve::{serve_http, Protocol};
use crate::telemetry::events::{
    EgressCheck, EgressRefused, InternalEvent, LeafMinted, TlsHandshakeFailed, TunnelBypassed,
    TunnelIntercepted, TunnelRefusal, TunnelRefused,
};
use config::NonTlsConnect;
use peek::{peek_stream, Detected};
use policies::host_list::normalise_host;

/// A CONNECT tunnel the client has opened, before anything is decided.
pub struct Tunnel {
    pub gateway: Arc<Gateway>,
    pub snapshot: Arc<Snapshot>,
    pub client: SocketAddr,
    pub identity: Identity,
    pub host: String,
    pub port: u16,
}

/// Handles the bytes of a CONNECT tunnel until it closes.
pub async fn handle_tunnel<S>(tunnel: Tunnel, stream: S)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    if local::is_local_host(&tunnel) {
        // The AI gateway's name: served in-process, never resolved or dialled.
        Box::pin(local::serve(tunnel, stream)).await;
        return;
    }
    let metrics = tunnel.gateway.metrics.clone();
    let handshake = tunnel.snapshot.config.timeouts.handshake.0;
    let (prefix, detected, stream) = match Box::pin(peek_stream(stream, handshake)).await {
        Ok(peeked) => peeked,
        Err(error) => {
            TunnelRefused {
                target: &tunnel.host,
                reason: TunnelRefusal::Unreadable(&error),
            }
            .emit(&metrics);
            return;
        }
    };
    match detected {
        Detected::Tls(hello) => {
            let snapshot = &tunnel.snapshot;
            let sni = hello.server_name.as_deref();
            let host = match decided_name(&tunnel.host, sni) {
                Ok(host) => host,
                Err(conflict) => {
                    let host = sni.unwrap_or_default().to_string();
                    let refusal = conflict_page(conflict, &tunnel.host, &host);
                    // A client that names one host in CONNECT and another in its ClientHello
                    // (or an address as SNI) is refused on every request: the session is
                    // terminated with a leaf for the SNI name only to show the page.
                    tracing::warn!(connect = %tunnel.host, sni = %host, rule = %refusal.rule, "tunnel names disagree");
                    intercept_tls(tunnel, host, Some(refusal), prefix, stream).await;
                    return;
                }
            };
            // The block list is decided before anything may bypass inspection.
            if snapshot.block.matches(&host) || snapshot.block.matches(&tunnel.host) {
                let page = blocked_page(&host);
                intercept_tls(tunnel, host, Some(page), prefix, stream).await;
                return;
            }
            if snapshot.do_not_inspect.matches(&host) {
                let rule = "intercept.do_not_inspect";
                TunnelBypassed { host: &host, rule }.emit(&metrics);
                Box::pin(bypass::splice(
                    &tunnel,
                    &host,
                    "intercept.do_not_inspect",
                    prefix,
                    stream,
                ))
                .await;
                return;
            }
            // Policy blocks are decided per request (statuses change while connections live);
            // only do_not_inspect must be decided before TLS is terminated.
            if let ConnectVerdict::DoNotInspect(verdict) = connect_verdict(&tunnel, &host) {
                TunnelBypassed {
                    host: &host,
                    rule: &verdict.rule_id,
                }
                .emit(&metrics);
                Box::pin(bypass::splice(
                    &tunnel,
                    &host,
                    &verdict.rule_id,
                    prefix,
                    stream,
                ))
                .await;
                return;
            }
            intercept_tls(tunnel, host, None, prefix, stream).await;
        }
        Detected::Http => {
            let blocked = tunnel
                .snapshot
                .block
                .matches(&tunnel.host)
                .then(|| blocked_page(&tunnel.host));
            TunnelIntercepted {
                blocked: blocked.is_some(),
            }
            .emit(&metrics);
            let host = tunnel.host.clone();
            Box::pin(serve_inner(
                tunnel,
                host,
                "http",
                blocked,
                Protocol::Http1,
                Prefixed::new(prefix, stream),
            ))
            .await;
        }
        Detected::Other => match tunnel.snapshot.config.proxy.non_tls_connect {
            NonTlsConnect::Tunnel if !tunnel.snapshot.block.matches(&tunnel.host) => {
                let host = tunnel.host.clone();
                let rule = "proxy.non_tls_connect";
                TunnelBypassed { host: &host, rule }.emit(&metrics);
                Box::pin(bypass::splice(
                    &tunnel,
                    &host,
                    "proxy.non_tls_connect",
                    prefix,
                    stream,
                ))
                .await;
            }
            _ => {
                TunnelRefused {
                    target: &tunnel.host,
                    reason: TunnelRefusal::NotTlsOrHttp,
                }
                .emit(&metrics);
            }
        },
    }
}

/// Why a TLS tunnel has no one name to go by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameConflict {
    /// An address as SNI: never valid (RFC 6066).
    SniAddress,
    /// The CONNECT host and the SNI are different names.
    Mismatch,
}

/// The one name a TLS tunnel goes by. The SNI and the CONNECT host must agree when both are
/// names; a CONNECT to an address with a named SNI goes by the name (the client resolved it
/// itself; the gateway resolves it again and dials what the egress policy allows).
fn decided_name(connect_host: &str, sni: Option<&str>) -> Result<String, NameConflict> {
    let Some(sni) = sni else {
        return Ok(connect_host.to_string());
    };
    if normalise_host(sni).parse::<IpAddr>().is_ok() {
        return Err(NameConflict::SniAddress);
    }
    let connect_is_address = normalise_host(connect_host).parse::<IpAddr>().is_ok();
    if !connect_is_address && normalise_host(sni) != normalise_host(connect_host) {
        return Err(NameConflict::Mismatch);
    }
    Ok(sni.to_string())
}

/// The page every request of a tunnel with conflicting names gets.
fn conflict_page(conflict: NameConflict, connect_host: &str, sni: &str) -> Refusal {
    let (rule, reason) = match conflict {
        NameConflict::SniAddress => (
            "intercept.sni_address",
            format!("The connection named the address {sni} as its server name."),
        ),
        NameConflict::Mismatch => (
            "intercept.sni_mismatch",
            format!(
                "The connection was opened to {connect_host} but asked for {sni} in its TLS \
                 handshake."
            ),
        ),
    };
    Refusal::new(
        StatusCode::FORBIDDEN,
        Outcome::Block,
        rule,
        "This connection is not allowed",
        reason,
    )
}

/// The egress policy's answer for a CONNECT target, as far as it can be given without DNS (the
/// port; an address as host). On refusal the tunnel's event is written and the answer to send
/// instead of `200 Connection established` is returned.
pub fn refuse_at_connect(tunnel: &Tunnel, json: bool) -> Option<(http::Response<()>, Bytes)> {
    let resolver = &tunnel.snapshot.upstream.resolver;
    let refusal = resolver.precheck(&tunnel.host, tunnel.port).err()?;
    EgressRefused {
        at: EgressCheck::Connect,
        host: &tunnel.host,
        port: Some(tunnel.port),
        rule: refusal.rule(),
        detail: None,
    }
    .emit(&tunnel.gateway.metrics);
    let page = pipeline::egress_refusal(&tunnel.host, refusal);
    let request_id = uuid::Uuid::now_v7().to_string();
    let answer = crate::respond::render_parts(&page, &request_id, json);
    TunnelEvent {
        request_id,
        gateway: &tunnel.gateway,
        snapshot: &tunnel.snapshot,
        identity: &tunnel.identity,
        client: tunnel.client,
        host: &tunnel.host,
        port: tunnel.port,
        started: std::time::Instant::now(),
    }
    .finish(TunnelOutcome::Refused(&page));
    Some(answer)
}

/// The policy's decision for a tunnel, from host-level facts (app, status, user, groups).
fn connect_verdict(tunnel: &Tunnel, host: &str) -> ConnectVerdict {
    let snapshot = &tunnel.snapshot;
    let book = tunnel.gateway.statuses.book();
    let app = snapshot
        .catalog
        .match_url(host, "/")
        .map(|m| AppFacts::new(m.app, &book));
    let mut facts = Facts::new(host);
    facts.app = app;
    facts.user = Some(&tunnel.identity.user);
    facts.groups = &tunnel.identity.groups;
    if let Some(device) = &tunnel.identity.device {
        facts.posture = &device.posture;
        facts.posture_signed = device.signed;
    }
    snapshot.policy.connect_decision(&facts)
}

fn blocked_page(host: &str) -> Refusal {
    Refusal::new(
        StatusCode::FORBIDDEN,
        Outcome::Block,
        "intercept.block",
        "This site is blocked",
        format!("Your organisation does not allow access to {host}."),
    )
}

async fn intercept_tls<S>(
    tunnel: Tunnel,
    host: String,
    blocked: Option<Refusal>,
    prefix: Bytes,
    stream: S,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Some(tls) = terminate_tls(&tunnel, &host, prefix, stream).await else {
        return;
    };
    TunnelIntercepted {
        blocked: blocked.is_some(),
    }
    .emit(&tunnel.gateway.metrics);
    let protocol = match tls.get_ref().1.alpn_protocol() {
        Some(b"h2") => Protocol::Http2,
        _ => Protocol::Http1,
    };
    // The stream boxed, so it is not copied into each serving frame (async fn arguments stay
    // in their future for its whole life) of a connection that may idle for minutes.
    Box::pin(serve_inner(tunnel, host, "https", blocked, protocol, tls)).await;
}

/// The client's TLS session, terminated with the leaf minted for `host`; `None` (logged and
/// counted) when no leaf could be minted or the handshake failed: fail closed.
async fn terminate_tls<S>(
    tunnel: &Tunnel,
    host: &str,
    prefix: Bytes,
    stream: S,
) -> Option<Box<tokio_rustls::server::TlsStream<Prefixed<S>>>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let metrics = &tunnel.gateway.metrics;
    let config = match tunnel.snapshot.tls.for_host(&tunnel.gateway.leaves, host) {
        Ok((config, minted)) => {
            if minted {
                LeafMinted { host }.emit(metrics);
            }
            config
        }
        Err(error) => {
            // Fail closed: no certificate, no session, nothing forwarded.
            TunnelRefused {
                target: host,
                reason: TunnelRefusal::NoCertificate(&error),
            }
            .emit(metrics);
            return None;
        }
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let handshake = tunnel.snapshot.config.timeouts.handshake.0;
    // Boxed, and the stream boxed as it comes out: a rustls connection (mid-handshake or
    // not) held inline would size the tunnel's task for as long as the connection lives.
    let accept = Box::pin(async move {
        tokio::time::timeout(handshake, acceptor.accept(Prefixed::new(prefix, stream)))
            .await
            .map(|accepted| accepted.map(Box::new))
    });
    match accept.await {
        Ok(Ok(tls)) => Some(tls),
        Ok(Err(error)) => {
            let error = Some(&error as &dyn std::fmt::Display);
            TlsHandshakeFailed { host, error }.emit(metrics);
            None
        }
        Err(_) => {
            TlsHandshakeFailed { host, error: None }.emit(metrics);
            None
        }
    }
}

async fn serve_inner<S>(
    tunnel: Tunnel,
    host: String,
    scheme: &'static str,
    blocked: Option<Refusal>,
    protocol: Protocol,
    stream: S,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let shutdown = tunnel.gateway.shutdown.clone();
    let snapshot = tunnel.snapshot.clone();
    let who = tunnel
        .gateway
        .event_context(&tunnel.identity, tunnel.client);
    let conn = Arc::new(ConnectionContext {
        who,
        gateway: tunnel.gateway,
        snapshot: tunnel.snapshot,
        client: tunnel.client,
        identity: tunnel.identity,
        tunnel: Some(TunnelTarget {
            host,
            port: tunnel.port,
            scheme,
        }),
        blocked,
    });
    serve_http(
        stream,
        protocol,
        &snapshot.config,
        shutdown,
        move |request| pipeline::handle(conn.clone(), request),
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tunnel_goes_by_one_name() {
        assert_eq!(decided_name("bank.test", None).unwrap(), "bank.test");
        assert_eq!(
            decided_name("Bank.Test", Some("bank.test.")).unwrap(),
            "bank.test."
        );
        // The client resolved the name itself: the gateway goes by the name.
        assert_eq!(
            decided_name("93.184.215.14", Some("bank.test")).unwrap(),
            "bank.test"
        );
        assert_eq!(
            decided_name("bank.test", Some("blocked.test")),
            Err(NameConflict::Mismatch)
        );
        for address in ["127.0.0.1", "::1", "[::1]"] {
            assert_eq!(
                decided_name("bank.test", Some(address)),
                Err(NameConflict::SniAddress),
                "{address}"
            );
        }
    }
}
