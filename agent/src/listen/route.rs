//! Where a client connection goes: a CONNECT stream through the tunnel, or — for split-tunnel
//! destinations, and with `fail_open` when the gateway is unreachable — straight to the host.

use std::time::Duration;

use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::refusal::GatewayRefusal;
use crate::split::SplitTunnel;
use crate::tunnel::{Tunnel, TunnelError};
use std::sync::Arc;

/// A byte stream to the destination.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

const DIRECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why no stream could be opened, for the client's answer.
#[derive(Debug)]
pub enum OpenError {
    /// The gateway said no (revoked device, a destination its policy refuses): its answer.
    Refused(GatewayRefusal),
    /// The gateway is unreachable and the agent fails closed, or a direct connect failed: 503.
    Unavailable(String),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Refused(m) => write!(f, "refused by the Warden gateway: {m}"),
            Self::Unavailable(m) => write!(f, "Warden gateway unavailable: {m}"),
        }
    }
}

/// Opens outbound streams for the listener.
pub struct Router {
    pub tunnel: Arc<Tunnel>,
    pub split: SplitTunnel,
    pub fail_open: bool,
    pub wait: Duration,
}

/// `host:port`, IPv6 in brackets.
pub fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

impl Router {
    pub async fn open(&self, host: &str, port: u16) -> Result<Box<dyn Io>, OpenError> {
        if self.split.is_direct(host) {
            return direct(host, port).await;
        }
        match self.tunnel.open(&authority(host, port), self.wait).await {
            Ok(upgraded) => Ok(Box::new(TokioIo::new(upgraded))),
            Err(TunnelError::Refused(reason)) => Err(OpenError::Refused(reason)),
            Err(TunnelError::Unreachable(reason)) if self.fail_open => {
                tracing::warn!(%host, %reason, "gateway unreachable; fail_open: going direct");
                direct(host, port).await
            }
            Err(TunnelError::Unreachable(reason)) => Err(OpenError::Unavailable(reason)),
        }
    }
}

async fn direct(host: &str, port: u16) -> Result<Box<dyn Io>, OpenError> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match tokio::time::timeout(DIRECT_TIMEOUT, TcpStream::connect((host, port))).await {
        Ok(Ok(stream)) => {
            let _ = stream.set_nodelay(true);
            Ok(Box::new(stream))
        }
        Ok(Err(e)) => Err(OpenError::Unavailable(format!(
            "direct connection to {host}:{port}: {e}"
        ))),
        Err(_) => Err(OpenError::Unavailable(format!(
            "direct connection to {host}:{port} timed out"
        ))),
    }
}
