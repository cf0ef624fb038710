//! The agent port's one seam with the daemon around it: [`Host`]. The daemon implements it
//! over the proxy's state, so this crate never imports the proxy, and a CONNECT stream reaches
//! interception only through [`Host::open_tunnel`]. Everything here is read when it is used
//! (per connection, per request), so a reload applies to the next use as it always has.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http::{Response, Uri};
use policies::rules::Posture;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::stream::AgentStream;

/// A complete answer: the head, then the body as one DATA frame that ends the stream.
pub type Answer = (Response<()>, Bytes);

/// The work a CONNECT stream starts once its `200` is sent: the proxy's tunnel over it.
pub type TunnelStart =
    Box<dyn FnOnce(AgentStream) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// What the daemon makes of a CONNECT stream.
pub enum Opened {
    /// Refused before any `200`, with this answer.
    Refused(Answer),
    /// The tunnel to start once the `200` is sent.
    Start(TunnelStart),
}

/// The settings in force now, from the daemon's current configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// `timeouts.handshake`: TLS, then the HTTP/2 preface.
    pub handshake: Duration,
    /// `tunnel.max_streams_per_connection`.
    pub max_streams_per_connection: u32,
    /// `limits.max_header_bytes`.
    pub max_header_bytes: usize,
    /// `tunnel.device_cert_validity`.
    pub device_cert_validity: Duration,
    /// `tunnel.signed_posture_max_age`.
    pub signed_posture_max_age: Duration,
}

/// What the port counts (the daemon's metrics keep the counters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortEvent {
    /// A connection, enrollment or stream refused (`warden_agent_refused_total`).
    Refused,
    /// A TLS handshake completed (`warden_agent_handshakes_total`).
    Handshake,
    /// A CONNECT stream from an active device (`warden_agent_streams_total`).
    Stream,
    /// A device enrolled (`warden_devices_enrolled_total`).
    Enrolled,
}

/// The device behind a CONNECT stream, checked against the registry just now.
#[derive(Debug, Clone)]
pub struct TunnelDevice {
    pub id: String,
    pub user: String,
    pub groups: Vec<String>,
    /// The posture in force: the signed one while fresh, else what the agent reported.
    pub posture: Posture,
    pub signed: bool,
}

/// The daemon, as the agent port sees it.
pub trait Host: Send + Sync + 'static {
    /// The settings in force now.
    fn settings(&self) -> Settings;
    /// Where every connection and request task runs, so shutdown can wait for them.
    fn tasks(&self) -> &TaskTracker;
    /// Cancelled when the daemon starts shutting down.
    fn shutdown(&self) -> &CancellationToken;
    /// Counts one event.
    fn count(&self, event: PortEvent);
    /// A CONNECT stream from `device` to `target` (the request's authority, unparsed): the
    /// answer that refuses it before any `200`, or the tunnel to start once it is sent.
    fn open_tunnel(&self, client: SocketAddr, device: TunnelDevice, target: &Uri) -> Opened;
}
