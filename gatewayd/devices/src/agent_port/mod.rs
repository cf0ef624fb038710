//! The agent port (`tunnel.listen`): device agents keep one mTLS HTTP/2 connection here
//! and open a CONNECT stream per client connection, so a new client connection costs no new
//! handshake with the gateway. (Its config section is still called `[tunnel]`; in the code,
//! "tunnel" means one CONNECT tunnel, which this port hands to the proxy through [`Host`].)
//!
//! ```text
//! accept (bounded) ─► TLS 1.3 (server: ONE leaf for tunnel.server_name + root, whatever
//!                    the SNI; client: device CA or none)
//!     ├─ no client certificate ─► per-source rate + cap on such connections, else close
//!     │    └─ h2 (30 s, 2 streams, small windows): POST /v1/enroll only, in-flight cap
//!     └─ device certificate ─► registry: enrolled with this serial, not revoked? else close
//!          └─ h2 accept loop (connection.rs: settings, keep-alive; drives the connection)
//!               ├─ POST /v1/enroll │ /v1/posture[/signed] ─► own task: bounded body ─► JSON
//!               └─ CONNECT host:port ─► registry again, Host::open_tunnel ─► 200
//!                    └─ own task: the proxy's tunnel over AgentStream (stream.rs)
//! ```
//!
//! The port speaks HTTP/2 through the `h2` crate itself, not hyper's server: a CONNECT stream
//! is read and written in its tunnel's task directly, with no upgrade hand-off, relay task or
//! copy through a channel per stream.
//!
//! Identity on this port comes from the device (registry user and groups, device id, posture),
//! never from headers. A revoked device is refused on its next stream and its live
//! connections are closed within a second.

mod admission;
mod connection;
mod host;
mod refuse_device;
mod routes;
mod session;
mod signed_posture;
mod stream;
mod tls;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use ca::DeviceAuthority;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use admission::EnrollAdmission;
use signed_posture::MdmKeys;

pub use admission::EnrollLimits;
pub use host::{Answer, Host, Opened, PortEvent, Settings, TunnelDevice, TunnelStart};
pub use routes::parse_posture;
use routes::Agent;
use session::{DeviceSession, Sessions};
pub use stream::AgentStream;
pub use tls::server_name;

use crate::DeviceBook;

/// How long a connection without a device certificate may stay open (enrollment takes one
/// request).
const ENROLL_CONNECTION_LIFETIME: Duration = Duration::from_secs(30);

/// What the agent port is given at start (the `[tunnel]` section, read once).
#[derive(Debug, Clone)]
pub struct PortOptions<'a> {
    /// `tunnel.listen`, for the certificate's name when `server_name` is unset.
    pub listen: Option<SocketAddr>,
    pub server_name: Option<&'a str>,
    pub mdm_keys: &'a [PathBuf],
    pub enroll: EnrollLimits,
}

/// What the tunnel port shares across connections. Its limits, certificate name and MDM keys
/// are read at start.
pub struct TunnelPort {
    pub device_ca: DeviceAuthority,
    /// The state directory: the CA, the devices files.
    state_dir: PathBuf,
    tls: TlsAcceptor,
    pub book: DeviceBook,
    sessions: Arc<Sessions>,
    admission: EnrollAdmission,
    mdm_keys: MdmKeys,
}

impl TunnelPort {
    pub fn new(
        options: &PortOptions<'_>,
        state_dir: &Path,
        device_ca: DeviceAuthority,
    ) -> Result<Self, String> {
        let verifier = tls::device_verifier(device_ca.certificate_der())?;
        let name = tls::server_name(options.server_name, options.listen);
        // The interception CA's own files, loaded once more: the tunnel's leaf has an issuer
        // of its own so that it never shares (or is evicted from) the per-host leaf cache.
        let authority = ca::Authority::load(&state_dir.join("ca"))
            .map_err(|e| format!("loading the CA for the tunnel certificate: {e}"))?;
        let server = tls::server_config(authority, &name, verifier)?;
        let mdm_keys = MdmKeys::load(options.mdm_keys)?;
        let port = options.listen.map_or(0, |a| a.port());
        tracing::info!(server_name = %name, mdm_keys = options.mdm_keys.len(), "tunnel certificate minted; agents dial https://{name}:{port}");
        Ok(Self {
            tls: TlsAcceptor::from(server),
            device_ca,
            state_dir: state_dir.to_path_buf(),
            book: DeviceBook::open(state_dir),
            sessions: Arc::default(),
            admission: EnrollAdmission::new(&options.enroll),
            mdm_keys,
        })
    }
}

/// Accepts agent connections until shutdown, at most `max_connections` at once
/// (`tunnel.max_connections`).
pub async fn serve_tunnel(
    listener: TcpListener,
    host: Arc<dyn Host>,
    port: Arc<TunnelPort>,
    max_connections: usize,
) {
    let slots = Arc::new(Semaphore::new(max_connections));
    host.tasks()
        .spawn(close_revoked(host.clone(), port.clone()));
    while let Some((stream, client)) = next_connection(&listener, host.shutdown()).await {
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            host.count(PortEvent::Refused);
            continue; // dropped: the agent backs off and retries
        };
        let (host2, port2) = (host.clone(), port.clone());
        host.tasks().spawn(async move {
            serve_agent(stream, client, host2, port2).await;
            drop(permit);
        });
    }
}

/// The next connection on the port, or `None` once the daemon shuts down. Accept errors
/// (EMFILE and friends) back off briefly instead of spinning.
async fn next_connection(
    listener: &TcpListener,
    shutdown: &CancellationToken,
) -> Option<(TcpStream, SocketAddr)> {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => return None,
        };
        match accepted {
            Ok(pair) => return Some(pair),
            Err(error) => {
                tracing::warn!(%error, port = "tunnel", "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Streams a device's tunnel connection may make the gateway reset for frames on closed
/// streams before it is closed (see `connection::settings`): h2's default of 1024 is hit by a
/// busy agent. Connections without a device certificate get h2's smallest allowance instead.
const LOCAL_ERROR_RESETS: usize = 1 << 20;

async fn serve_agent(
    stream: TcpStream,
    client: SocketAddr,
    host: Arc<dyn Host>,
    port: Arc<TunnelPort>,
) {
    let _ = stream.set_nodelay(true);
    let handshake = host.settings().handshake;
    let tls = tokio::time::timeout(handshake, port.tls.accept(stream)).await;
    let tls = match tls {
        Ok(Ok(tls)) => tls,
        Ok(Err(error)) => {
            host.count(PortEvent::Refused);
            tracing::info!(%client, %error, "tunnel handshake refused");
            return;
        }
        Err(_) => {
            host.count(PortEvent::Refused);
            tracing::info!(%client, "tunnel handshake timed out");
            return;
        }
    };
    host.count(PortEvent::Handshake);
    let presented = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .map(ca::device_certificate);
    let mut _enrolling = None;
    let session = match presented {
        None => match port.admission.connection(client.ip()) {
            Ok(permit) => {
                _enrolling = Some(permit);
                None
            }
            Err(refusal) => {
                // Closed before HTTP/2 starts: a stranger over its limit costs one handshake.
                host.count(PortEvent::Refused);
                tracing::info!(%client, ?refusal, "tunnel refused: too many connections without a device certificate");
                return;
            }
        },
        Some(None) => {
            host.count(PortEvent::Refused);
            tracing::info!(%client, "tunnel refused: device certificate without a device id");
            return;
        }
        Some(Some(cert)) => {
            let registry = port.book.current();
            if registry.active(&cert.device_id, &cert.serial).is_none() {
                host.count(PortEvent::Refused);
                let revoked = registry
                    .get(&cert.device_id)
                    .is_some_and(|d| d.serial == cert.serial && d.revoked_unix.is_some());
                tracing::warn!(%client, device = %cert.device_id, revoked, "tunnel refused: device revoked or unknown");
                drop(registry);
                // Told why, so the agent stops retrying (bounded: see refuse_device).
                let message = if revoked {
                    refuse_device::REVOKED
                } else {
                    refuse_device::NOT_ENROLLED
                };
                tokio::select! {
                    () = refuse_device::refuse(tls, message) => {}
                    () = host.shutdown().cancelled() => {}
                }
                return;
            }
            Some(Arc::new(DeviceSession {
                device_id: cert.device_id,
                serial: cert.serial,
                posture: ArcSwap::default(),
                signed: ArcSwap::default(),
                closed: CancellationToken::new(),
            }))
        }
    };
    let _guard = session.as_ref().map(|s| port.sessions.open(s.clone()));
    if let Some(s) = &session {
        tracing::info!(%client, device = %s.device_id, "agent connected");
    }
    let closed = {
        let session = session.clone();
        async move {
            match session {
                Some(s) => s.closed.cancelled().await,
                // Enrollment only: a client without a certificate gets a short, bounded visit.
                None => tokio::time::sleep(ENROLL_CONNECTION_LIFETIME).await,
            }
        }
    };
    let shutdown = host.shutdown().clone();
    let agent = Agent {
        host,
        port,
        session: session.clone(),
        client,
    };
    let result = tokio::select! {
        result = connection::serve(tls, agent) => result,
        () = shutdown.cancelled() => Ok(()),
        () = closed => {
            // Revoked, shutting down or past the enrollment visit: stop at once; streams in
            // flight end with the connection.
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
async fn close_revoked(host: Arc<dyn Host>, port: Arc<TunnelPort>) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
            () = host.shutdown().cancelled() => {
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
