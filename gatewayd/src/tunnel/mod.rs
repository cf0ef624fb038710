//! The agent tunnel port (`tunnel.listen`): device agents keep one mTLS HTTP/2 connection here
//! and open a CONNECT stream per client connection, so a new client connection costs no new
//! handshake with the gateway.
//!
//! ```text
//! accept (bounded) ─► TLS 1.3 (server: Warden leaf + root; client: device CA or none)
//!     ├─ no client certificate ─► h2: POST /v1/enroll only
//!     └─ device certificate ─► registry: enrolled with this serial, not revoked? else close
//!          └─ h2: POST /v1/posture │ CONNECT host:port ─► listen::open_tunnel (same pipeline)
//! ```
//!
//! Identity on this port comes from the device (registry user and groups, device id, posture),
//! never from headers. A revoked device is refused on its next stream and its live
//! connections are closed within a second.

mod routes;
mod session;
mod tls;

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use ca::DeviceAuthority;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::server::danger::ClientCertVerifier;
use rustls_pki_types::CertificateDer;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::LazyConfigAcceptor;
use tokio_util::sync::CancellationToken;

pub use routes::parse_posture;
use session::{DeviceSession, Sessions};

use crate::devices::DeviceBook;
use crate::gateway::Gateway;

/// How long a connection without a device certificate may stay open (enrollment takes one
/// request).
const ENROLL_CONNECTION_LIFETIME: Duration = Duration::from_secs(30);

/// What the tunnel port shares across connections.
pub struct TunnelPort {
    pub device_ca: DeviceAuthority,
    verifier: Arc<dyn ClientCertVerifier>,
    root: CertificateDer<'static>,
    pub book: DeviceBook,
    sessions: Arc<Sessions>,
}

impl TunnelPort {
    pub fn new(gateway: &Gateway, device_ca: DeviceAuthority) -> Result<Self, String> {
        let verifier = tls::device_verifier(device_ca.certificate_der())?;
        let state_dir = gateway.snapshot().config.state.dir.clone();
        Ok(Self {
            verifier,
            root: gateway.leaves.issuer().authority().root_der().clone(),
            device_ca,
            book: DeviceBook::open(&state_dir),
            sessions: Arc::default(),
        })
    }
}

/// Accepts agent connections until shutdown.
pub async fn serve_tunnel(listener: TcpListener, gateway: Arc<Gateway>, port: Arc<TunnelPort>) {
    let limit = gateway.snapshot().config.tunnel.max_connections;
    let slots = Arc::new(Semaphore::new(limit));
    tokio::spawn(close_revoked(gateway.clone(), port.clone()));
    while let Some((stream, client)) =
        crate::listen::next_connection(&listener, &gateway, "tunnel").await
    {
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            gateway.metrics.tunnel_refused.fetch_add(1, Relaxed);
            continue; // dropped: the agent backs off and retries
        };
        let (gateway2, port2) = (gateway.clone(), port.clone());
        gateway.tasks.spawn(async move {
            serve_agent(stream, client, gateway2, port2).await;
            drop(permit);
        });
    }
}

/// Streams a tunnel connection may make the gateway reset for frames on closed streams
/// before it is closed (see `serve_agent`): h2's default of 1024 is hit by a busy agent.
const LOCAL_ERROR_RESETS: usize = 1 << 20;

async fn serve_agent(
    stream: TcpStream,
    client: SocketAddr,
    gateway: Arc<Gateway>,
    port: Arc<TunnelPort>,
) {
    let _ = stream.set_nodelay(true);
    let Ok(local) = stream.local_addr() else {
        return;
    };
    let metrics = gateway.metrics.clone();
    let handshake = gateway.snapshot().config.timeouts.handshake.0;
    let tls = tokio::time::timeout(handshake, async {
        let start = LazyConfigAcceptor::new(rustls::server::Acceptor::default(), stream)
            .await
            .map_err(|e| e.to_string())?;
        let sni = start.client_hello().server_name().map(str::to_owned);
        let config = tls::server_config(
            &gateway.leaves,
            &port.root,
            port.verifier.clone(),
            sni.as_deref(),
            local,
        )?;
        start.into_stream(config).await.map_err(|e| e.to_string())
    })
    .await;
    let tls = match tls {
        Ok(Ok(tls)) => tls,
        Ok(Err(error)) => {
            metrics.tunnel_refused.fetch_add(1, Relaxed);
            tracing::info!(%client, %error, "tunnel handshake refused");
            return;
        }
        Err(_) => {
            metrics.tunnel_refused.fetch_add(1, Relaxed);
            tracing::info!(%client, "tunnel handshake timed out");
            return;
        }
    };
    metrics.tunnel_handshakes.fetch_add(1, Relaxed);
    let presented = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .map(ca::device_certificate);
    let session = match presented {
        None => None,
        Some(None) => {
            metrics.tunnel_refused.fetch_add(1, Relaxed);
            tracing::info!(%client, "tunnel refused: device certificate without a device id");
            return;
        }
        Some(Some(cert)) => {
            if port
                .book
                .current()
                .active(&cert.device_id, &cert.serial)
                .is_none()
            {
                metrics.tunnel_refused.fetch_add(1, Relaxed);
                tracing::warn!(%client, device = %cert.device_id, "tunnel refused: device revoked or unknown");
                return;
            }
            Some(Arc::new(DeviceSession {
                device_id: cert.device_id,
                serial: cert.serial,
                posture: ArcSwap::default(),
                closed: CancellationToken::new(),
            }))
        }
    };
    let _guard = session.as_ref().map(|s| port.sessions.open(s.clone()));
    if let Some(s) = &session {
        tracing::info!(%client, device = %s.device_id, "agent connected");
    }
    let closed = match &session {
        Some(s) => s.closed.clone(),
        None => {
            // Enrollment only: a client without a certificate gets a short, bounded visit.
            let token = CancellationToken::new();
            let expire = token.clone();
            tokio::spawn(async move {
                tokio::time::sleep(ENROLL_CONNECTION_LIFETIME).await;
                expire.cancel();
            });
            token
        }
    };
    let snapshot = gateway.snapshot();
    let mut builder = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
    builder
        .timer(TokioTimer::new())
        .max_concurrent_streams(snapshot.config.tunnel.max_streams_per_connection)
        .max_header_list_size(
            u32::try_from(snapshot.config.limits.max_header_bytes).unwrap_or(u32::MAX),
        )
        .initial_stream_window_size(4 * 1024 * 1024)
        .initial_connection_window_size(32 * 1024 * 1024)
        .max_frame_size(64 * 1024)
        // h2 counts, over a connection's whole life, the streams it resets because the peer
        // sent on a stream already closed here; past 1024 it ends the connection. An agent's
        // tunnel lives for days and thousands of CONNECT streams close while the other side
        // still has a TLS close_notify in flight: a legitimate race, not an attack. The bound
        // stays (a device cannot make the gateway reset streams without limit) but is sized
        // for a long-lived multiplexed connection.
        .max_local_error_reset_streams(LOCAL_ERROR_RESETS)
        .keep_alive_interval(Some(Duration::from_secs(20)))
        .keep_alive_timeout(Duration::from_secs(20));
    let shutdown = gateway.shutdown.clone();
    let service = {
        let session = session.clone();
        service_fn(move |request| {
            routes::route(
                gateway.clone(),
                port.clone(),
                session.clone(),
                client,
                request,
            )
        })
    };
    let connection = builder.serve_connection(TokioIo::new(tls), service);
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = shutdown.cancelled() => Ok(()),
        () = closed.cancelled() => {
            // Revoked or shutting down: stop at once; streams in flight end with the connection.
            Ok(())
        }
    };
    if let Err(error) = result {
        tracing::debug!(%client, %error, "agent connection ended with an error");
    }
    if let Some(s) = &session {
        tracing::info!(%client, device = %s.device_id, "agent disconnected");
    }
}

/// Closes the live connections of devices revoked while connected, and all of them on
/// shutdown.
async fn close_revoked(gateway: Arc<Gateway>, port: Arc<TunnelPort>) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
            () = gateway.shutdown.cancelled() => {
                for session in port.sessions.all() {
                    session.closed.cancel();
                }
                return;
            }
        }
        let registry = port.book.current();
        for session in port.sessions.all() {
            if registry
                .active(&session.device_id, &session.serial)
                .is_none()
            {
                tracing::warn!(device = %session.device_id, "device revoked: closing its tunnel");
                session.closed.cancel();
            }
        }
    }
}
