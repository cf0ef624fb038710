//! The connector behind hyper's pooled client: resolve, connect with a deadline, then TLS
//! with the original host as SNI and verification name. ALPN h2 marks the connection HTTP/2.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::egress::EgressRefusal;
use super::{ConnectError, TargetResolver};

/// Opens verified connections to origins.
#[derive(Clone)]
pub struct UpstreamConnector {
    resolver: Arc<TargetResolver>,
    tls: TlsConnector,
    timeout: Duration,
}

impl UpstreamConnector {
    pub(crate) fn new(
        resolver: Arc<TargetResolver>,
        tls: Arc<ClientConfig>,
        timeout: Duration,
    ) -> Self {
        Self {
            resolver,
            tls: TlsConnector::from(tls),
            timeout,
        }
    }

    /// A plain TCP connection to `host:port` (used for tunnels that are not intercepted).
    pub async fn connect_tcp(&self, host: &str, port: u16) -> Result<TcpStream, ConnectError> {
        let target = format!("{host}:{port}");
        let work = async {
            let resolved = self.resolver.resolve(host, port).await?;
            let stream = connect_any(&target, &resolved.addrs).await?;
            if !resolved.explicit && dialled_own_machine(&stream) {
                // The policy allowed the address, yet it is one of this machine's own (a
                // public address of the gateway host): its listeners and local services are
                // not for users. Nothing has been written; the connection is dropped.
                return Err(ConnectError::Egress {
                    target: target.clone(),
                    refusal: EgressRefusal::Gateway,
                });
            }
            Ok(stream)
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| ConnectError::Timeout {
                target: target.clone(),
                after: self.timeout,
            })?
    }

    /// A connection for `uri`: TLS for https, plain TCP for http.
    pub async fn connect(&self, uri: &Uri) -> Result<UpstreamIo, ConnectError> {
        let host = uri
            .host()
            .ok_or_else(|| ConnectError::BadTarget(uri.to_string()))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let https = uri.scheme_str() == Some("https");
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let tcp = self.connect_tcp(&host, port).await?;
        // Latency matters more than packet count for request/response traffic.
        let _ = tcp.set_nodelay(true);
        if !https {
            return Ok(UpstreamIo(TokioIo::new(Stream::Plain(tcp))));
        }
        let name = ServerName::try_from(host.clone())
            .map_err(|_| ConnectError::BadTarget(host.clone()))?;
        let handshake = self.tls.connect(name, tcp);
        let tls = tokio::time::timeout(self.timeout, handshake)
            .await
            .map_err(|_| ConnectError::Timeout {
                target: format!("{host}:{port} (TLS)"),
                after: self.timeout,
            })?
            .map_err(|e| classify_tls_error(&host, e))?;
        Ok(UpstreamIo(TokioIo::new(Stream::Tls(Box::new(tls)))))
    }
}

/// Whether a connection reached this machine: Linux routes a connection to one of its own
/// addresses over the loopback device with that same address as the source, whatever the
/// interface, so source and destination agree only for local destinations.
fn dialled_own_machine(stream: &TcpStream) -> bool {
    match (stream.local_addr(), stream.peer_addr()) {
        (Ok(local), Ok(peer)) => local.ip().to_canonical() == peer.ip().to_canonical(),
        // Unknown: refuse rather than risk a connection into the gateway itself.
        _ => true,
    }
}

async fn connect_any(target: &str, addrs: &[SocketAddr]) -> Result<TcpStream, ConnectError> {
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    Err(ConnectError::Tcp {
        target: target.to_string(),
        source: Arc::new(
            last.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address")),
        ),
    })
}

fn classify_tls_error(host: &str, error: io::Error) -> ConnectError {
    let rustls_error = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match rustls_error {
        Some(rustls::Error::InvalidCertificate(reason)) => ConnectError::InvalidCertificate {
            host: host.to_string(),
            reason: describe_certificate_error(reason),
        },
        Some(other) => ConnectError::Tls {
            host: host.to_string(),
            reason: other.to_string(),
        },
        None => ConnectError::Tls {
            host: host.to_string(),
            reason: error.to_string(),
        },
    }
}

fn describe_certificate_error(error: &rustls::CertificateError) -> String {
    use rustls::CertificateError as E;
    match error {
        E::UnknownIssuer => "it is signed by an unknown issuer (not a trusted CA)".into(),
        E::Expired | E::ExpiredContext { .. } => "it has expired".into(),
        E::NotValidYet | E::NotValidYetContext { .. } => "it is not valid yet".into(),
        E::NotValidForName | E::NotValidForNameContext { .. } => {
            "it is not valid for this host name".into()
        }
        E::Revoked => "it has been revoked".into(),
        E::BadSignature => "its signature is invalid".into(),
        other => format!("{other}"),
    }
}

impl tower_service::Service<Uri> for UpstreamConnector {
    type Response = UpstreamIo;
    type Error = ConnectError;
    type Future = Pin<Box<dyn Future<Output = Result<UpstreamIo, ConnectError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { this.connect(&uri).await })
    }
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// An upstream connection, plain or TLS, as hyper's client uses it.
pub struct UpstreamIo(TokioIo<Stream>);

impl UpstreamIo {
    /// Unwraps to a tokio stream (for upgraded connections).
    pub fn into_tokio(self) -> impl AsyncRead + AsyncWrite + Unpin + Send {
        self.0.into_inner()
    }

    fn is_h2(&self) -> bool {
        match self.0.inner() {
            Stream::Tls(tls) => tls.get_ref().1.alpn_protocol() == Some(b"h2"),
            Stream::Plain(_) => false,
        }
    }
}

impl Connection for UpstreamIo {
    fn connected(&self) -> Connected {
        let connected = Connected::new();
        if self.is_h2() {
            connected.negotiated_h2()
        } else {
            connected
        }
    }
}

impl hyper::rt::Read for UpstreamIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for UpstreamIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }
    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_connection_to_this_machine_is_recognised_by_its_addresses() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        assert!(dialled_own_machine(&stream));
    }
}
