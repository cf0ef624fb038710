//! After CONNECT: peek at the first bytes, decide, then intercept, pass through or block.
//!
//! ```text
//! CONNECT host:port ─► peek (ClientHello: SNI, ALPN | plain HTTP | other)
//!     ├─ do_not_inspect host ─► bypass: the exact bytes, both ways
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
mod peek;
mod tls;

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use bytes::Bytes;
use http::StatusCode;
use policies::rules::AppFacts;
use policies::{ConnectVerdict, Facts};
use tokio::io::{AsyncRead, AsyncWrite};

pub use tls::TlsTemplate;

use crate::config::NonTlsConnect;
use crate::gateway::{Gateway, Snapshot};
use crate::identity::Identity;
use crate::io::Prefixed;
use crate::pipeline::{self, ConnectionContext, TunnelTarget};
use crate::respond::Refusal;
use crate::serve::{serve_http, Protocol};
use crate::telemetry::TunnelKind;
use peek::{peek_stream, Detected};

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
    let metrics = tunnel.gateway.metrics.clone();
    let handshake = tunnel.snapshot.config.timeouts.handshake.0;
    let (prefix, detected, stream) = match peek_stream(stream, handshake).await {
        Ok(peeked) => peeked,
        Err(error) => {
            metrics.tunnel(TunnelKind::Refused);
            tracing::info!(target = %tunnel.host, %error, "tunnel refused");
            return;
        }
    };
    match detected {
        Detected::Tls(hello) => {
            let host = hello
                .server_name
                .clone()
                .unwrap_or_else(|| tunnel.host.clone());
            let snapshot = &tunnel.snapshot;
            if snapshot.do_not_inspect.matches(&host)
                || snapshot.do_not_inspect.matches(&tunnel.host)
            {
                metrics.tunnel(TunnelKind::Bypassed);
                bypass::splice(&tunnel, &host, prefix, stream).await;
                return;
            }
            let blocked = (snapshot.block.matches(&host) || snapshot.block.matches(&tunnel.host))
                .then(|| blocked_page(&host));
            // Policy blocks are decided per request (statuses change while connections live);
            // only do_not_inspect must be decided before TLS is terminated.
            if let ConnectVerdict::DoNotInspect(verdict) = connect_verdict(&tunnel, &host) {
                metrics.tunnel(TunnelKind::Bypassed);
                tracing::info!(%host, rule = %verdict.rule_id, "do_not_inspect by policy");
                bypass::splice(&tunnel, &host, prefix, stream).await;
                return;
            }
            intercept_tls(tunnel, host, blocked, prefix, stream).await;
        }
        Detected::Http => {
            let blocked = tunnel
                .snapshot
                .block
                .matches(&tunnel.host)
                .then(|| blocked_page(&tunnel.host));
            metrics.tunnel(if blocked.is_some() {
                TunnelKind::Blocked
            } else {
                TunnelKind::Intercepted
            });
            let host = tunnel.host.clone();
            serve_inner(
                tunnel,
                host,
                "http",
                blocked,
                Protocol::Http1,
                Prefixed::new(prefix, stream),
            )
            .await;
        }
        Detected::Other => match tunnel.snapshot.config.proxy.non_tls_connect {
            NonTlsConnect::Tunnel if !tunnel.snapshot.block.matches(&tunnel.host) => {
                metrics.tunnel(TunnelKind::Bypassed);
                let host = tunnel.host.clone();
                bypass::splice(&tunnel, &host, prefix, stream).await;
            }
            _ => {
                metrics.tunnel(TunnelKind::Refused);
                tracing::info!(target = %tunnel.host, "tunnel refused: neither TLS nor HTTP (proxy.non_tls_connect = \"refuse\")");
            }
        },
    }
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
    }
    snapshot.policy.connect_decision(&facts)
}

fn blocked_page(host: &str) -> Refusal {
    Refusal::new(
        StatusCode::FORBIDDEN,
        "block",
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
    let metrics = tunnel.gateway.metrics.clone();
    let config = match tunnel.snapshot.tls.for_host(&tunnel.gateway.leaves, &host) {
        Ok((config, minted)) => {
            if minted {
                metrics.leaves_minted.fetch_add(1, Relaxed);
            }
            config
        }
        Err(error) => {
            // Fail closed: no certificate, no session, nothing forwarded.
            metrics.tunnel(TunnelKind::Refused);
            tracing::warn!(%host, %error, "cannot mint a certificate; tunnel closed");
            return;
        }
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let handshake = tunnel.snapshot.config.timeouts.handshake.0;
    let tls = match tokio::time::timeout(handshake, acceptor.accept(Prefixed::new(prefix, stream)))
        .await
    {
        Ok(Ok(tls)) => tls,
        Ok(Err(error)) => {
            metrics.tls_handshake_failures.fetch_add(1, Relaxed);
            tracing::info!(%host, %error, "client TLS handshake failed (does the client trust the Warden root?)");
            return;
        }
        Err(_) => {
            metrics.tls_handshake_failures.fetch_add(1, Relaxed);
            tracing::info!(%host, "client TLS handshake timed out");
            return;
        }
    };
    metrics.tunnel(if blocked.is_some() {
        TunnelKind::Blocked
    } else {
        TunnelKind::Intercepted
    });
    let protocol = match tls.get_ref().1.alpn_protocol() {
        Some(b"h2") => Protocol::Http2,
        _ => Protocol::Http1,
    };
    serve_inner(tunnel, host, "https", blocked, protocol, tls).await;
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
