//! Calling providers: one pooled HTTP/1.1 client for every provider, plain HTTP or TLS
//! verified against the public roots (plus `upstream.extra_roots`), with a connect timeout.
//!
//! Provider addresses come from `[aigw] providers` (the operator's choice), so they are not
//! subject to the proxy's egress policy. Never: turn off certificate verification, or log a
//! request's headers (they carry the provider key).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::Uri;
use http_body_util::Full;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// The client every provider call goes through.
pub type UpstreamClient = Client<ProviderConnector, Full<Bytes>>;

/// Builds the client; `extra_roots` are PEM files trusted besides the public roots.
pub fn client(
    extra_roots: &[std::path::PathBuf],
    connect_timeout: Duration,
) -> Result<UpstreamClient, String> {
    let connector = ProviderConnector {
        tls: TlsConnector::from(tls_config(extra_roots)?),
        connect_timeout,
    };
    // The idle timeout only acts with a pool timer (hyper-util evicts lazily at checkout
    // otherwise), and the cap bounds what a burst leaves behind: without both, a burst of
    // 5,000 calls/s left ~1,880 idle provider connections and ~150 MB for good (bench/aigw.sh).
    Ok(Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(64)
        .build(connector))
}

/// TLS to providers (and image URLs): the public roots plus `extra_roots` (PEM files),
/// HTTP/1.1.
pub fn tls_config(extra_roots: &[std::path::PathBuf]) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for path in extra_roots {
        let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        for cert in rustls_pki_types::CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| format!("{}: {e}", path.display()))?;
            roots
                .add(cert)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(tls))
}

/// Opens TCP, then TLS for `https` URIs.
#[derive(Clone)]
pub struct ProviderConnector {
    tls: TlsConnector,
    connect_timeout: Duration,
}

impl tower_service::Service<Uri> for ProviderConnector {
    type Response = ProviderStream;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<ProviderStream>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let https = match uri.scheme_str() {
                Some("https") => true,
                Some("http") => false,
                _ => return Err(io::Error::other("provider URL must be http or https")),
            };
            let host = uri
                .host()
                .ok_or_else(|| io::Error::other("provider URL without host"))?
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string();
            let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
            let tcp = tokio::time::timeout(
                this.connect_timeout,
                TcpStream::connect((host.as_str(), port)),
            )
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
            let _ = tcp.set_nodelay(true);
            if !https {
                return Ok(ProviderStream::Plain(TokioIo::new(tcp)));
            }
            let name = ServerName::try_from(host).map_err(io::Error::other)?;
            let tls = tokio::time::timeout(this.connect_timeout, this.tls.connect(name, tcp))
                .await
                .map_err(|_| {
                    io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out")
                })??;
            Ok(ProviderStream::Tls(Box::new(TokioIo::new(tls))))
        })
    }
}

/// A connection to a provider.
pub enum ProviderStream {
    Plain(TokioIo<TcpStream>),
    Tls(Box<TokioIo<TlsStream<TcpStream>>>),
}

impl Connection for ProviderStream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl Read for ProviderStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl Write for ProviderStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
