//! The gateway's own service behind a host name — the AI gateway at `aigw.host` (e.g.
//! `ai.warden.internal`) — served in-process to CONNECT tunnels from the proxy port and the
//! agent port. TLS is terminated with a Warden leaf for that name exactly as interception
//! does, and the decrypted stream goes to the [`LocalService`] the daemon registered in
//! `Gateway::local_service`, with the identity the proxy or the agent established (the proxy
//! user, or the enrolled device's user). The proxy does not know what the service is (it may
//! not depend on `aigw`): the daemon implements the trait.
//!
//! Access rules and the egress precheck have run before a tunnel gets here (CONNECT), so a
//! client the proxy refuses is refused here too.
//!
//! Never: resolve or dial the name — with no service registered every request on it gets a
//! clear refusal (HTML or JSON) — or serve it in clear.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use bytes::Bytes;
use http::StatusCode;
use policies::host_list::normalise_host;
use tokio::io::{AsyncRead, AsyncWrite};

use super::peek::{peek_stream, Detected};
use super::{intercept_tls, serve_inner, terminate_tls, Tunnel};
use crate::io::Prefixed;
use crate::outcome::Outcome;
use crate::respond::Refusal;
use crate::serve::Protocol;
use crate::telemetry::events::{InternalEvent, TunnelIntercepted, TunnelRefusal, TunnelRefused};

/// Which way a call came into the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// A CONNECT on the proxy port.
    Proxy,
    /// A CONNECT stream of an enrolled device's agent.
    Agent,
}

/// Who is behind a tunnel to the local service, as the proxy or the agent port established.
#[derive(Debug, Clone)]
pub struct LocalCaller {
    pub client: SocketAddr,
    pub via: Via,
    pub user: String,
    pub groups: Vec<String>,
    /// How the user was established (`Identity::method`: `proxy_auth`, `proxy_token`,
    /// `device`, `source` or `anonymous`).
    pub method: &'static str,
    /// Whether that is one person (credentials or a device certificate), not an address range
    /// or anonymous loopback: only a person may call without a key.
    pub person: bool,
    pub device_id: Option<String>,
}

/// A decrypted client stream.
pub trait LocalIo: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> LocalIo for T {}

/// What serving one connection returns: ends when the connection does.
pub type LocalFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// What routing one request returns: the service's answer, or why it could not give one.
pub type RouteFuture = Pin<
    Box<dyn Future<Output = Result<http::Response<crate::upstream::ProxyBody>, String>> + Send>,
>;

/// A service the gateway serves itself under a host name (implemented by the daemon).
pub trait LocalService: Send + Sync {
    /// Serves HTTP (h2 or HTTP/1.1, by what the client sends) on `stream` until it closes.
    fn serve(&self, stream: Box<dyn LocalIo>, caller: LocalCaller) -> LocalFuture;

    /// Serves one request a `route` rule took off its way to an AI provider's API
    /// (`pipeline::route`), its credentials already removed, as `caller`. `None`: this
    /// service does not route (the request is refused, never sent to the origin).
    fn route(
        &self,
        request: http::Request<crate::upstream::ProxyBody>,
        caller: LocalCaller,
    ) -> Option<RouteFuture> {
        let _ = (request, caller);
        None
    }
}

impl LocalCaller {
    /// The caller behind `identity`, connected from `client`.
    pub fn of(client: SocketAddr, identity: &crate::identity::Identity) -> Self {
        Self {
            client,
            via: if identity.device.is_some() {
                Via::Agent
            } else {
                Via::Proxy
            },
            user: identity.user.clone(),
            groups: identity.groups.clone(),
            method: identity.method,
            person: identity.is_person(),
            device_id: identity.device.as_ref().map(|d| d.id.clone()),
        }
    }
}

/// Whether `host` is the name the configuration reserves for the AI gateway.
pub fn is_local_name(config: &config::Config, host: &str) -> bool {
    config
        .aigw
        .host
        .as_deref()
        .is_some_and(|name| normalise_host(name) == normalise_host(host))
}

pub(super) fn is_local_host(tunnel: &Tunnel) -> bool {
    is_local_name(&tunnel.snapshot.config, &tunnel.host)
}

/// The answer on the name when the AI gateway is off.
fn service_off(host: &str) -> Refusal {
    Refusal::new(
        StatusCode::SERVICE_UNAVAILABLE,
        Outcome::Error,
        "aigw.off",
        "The AI gateway is not enabled",
        format!(
            "{host} is this gateway's AI gateway, which is not enabled here \
             ([aigw] listen is unset). Ask your administrator."
        ),
    )
}

/// The answer to plain HTTP on the name: keys and prompts travel only inside TLS.
pub fn https_only(host: &str) -> Refusal {
    Refusal::new(
        StatusCode::BAD_REQUEST,
        Outcome::Error,
        "aigw.https_only",
        "Use https://",
        format!("The AI gateway at {host} is served over https:// only."),
    )
}

/// Serves a tunnel to the local name until it closes.
pub(super) async fn serve<S>(tunnel: Tunnel, stream: S)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
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
    let host = tunnel.host.clone();
    match detected {
        Detected::Tls(hello) => {
            let sni = hello.server_name.as_deref();
            if sni.is_some_and(|sni| normalise_host(sni) != normalise_host(&host)) {
                // One name per tunnel, as for interception: refused on every request.
                let sni = sni.unwrap_or_default().to_string();
                let page = super::conflict_page(super::NameConflict::Mismatch, &host, &sni);
                intercept_tls(tunnel, sni, Some(page), prefix, stream).await;
                return;
            }
            if tunnel.snapshot.block.matches(&host) {
                let page = super::blocked_page(&host);
                intercept_tls(tunnel, host, Some(page), prefix, stream).await;
                return;
            }
            match tunnel.gateway.local_service.get().cloned() {
                None => {
                    let page = service_off(&host);
                    intercept_tls(tunnel, host, Some(page), prefix, stream).await;
                }
                Some(service) => Box::pin(hand_over(tunnel, host, service, prefix, stream)).await,
            }
        }
        Detected::Http => {
            let page = https_only(&host);
            let stream = Prefixed::new(prefix, stream);
            Box::pin(serve_inner(
                tunnel,
                host,
                "http",
                Some(page),
                Protocol::Http1,
                stream,
            ))
            .await;
        }
        Detected::Other => TunnelRefused {
            target: &tunnel.host,
            reason: TunnelRefusal::NotTlsOrHttp,
        }
        .emit(&metrics),
    }
}

async fn hand_over<S>(
    tunnel: Tunnel,
    host: String,
    service: std::sync::Arc<dyn LocalService>,
    prefix: Bytes,
    stream: S,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Some(tls) = terminate_tls(&tunnel, &host, prefix, stream).await else {
        return;
    };
    TunnelIntercepted { blocked: false }.emit(&tunnel.gateway.metrics);
    let caller = LocalCaller::of(tunnel.client, &tunnel.identity);
    service.serve(tls, caller).await;
}
