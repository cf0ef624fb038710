//! Delivering one batch: a syslog stream (TCP or TLS, kept open between batches, reopened
//! when the receiver closed it) or one HTTP POST (HEC, webhook) over a kept-alive connection.
//!
//! What this module must never do: put the HEC token or webhook secret in an error or a log
//! line (header values are marked sensitive; errors name only the host), or wait longer than
//! the sink's timeout (the caller bounds every delivery).

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::FutureExt;
use http::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST, USER_AGENT};
use http::{HeaderMap, Method, Request, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::stats::ErrorKind;

/// Why a delivery failed: the kind for metrics, and a message without secrets.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct DeliveryError {
    pub kind: ErrorKind,
    pub message: String,
}

impl DeliveryError {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

/// A bidirectional byte stream (plain TCP or TLS).
trait Stream: AsyncRead + AsyncWrite + Unpin + Send + Sync {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync> Stream for T {}

/// Where a sink connects: host, port, and TLS when the scheme asks for it.
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    tls: Option<(TlsConnector, ServerName<'static>)>,
}

impl Endpoint {
    pub fn new(host: &str, port: u16, tls: bool, ca_file: Option<&Path>) -> Result<Self, String> {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let tls = if tls {
            let name = ServerName::try_from(host.clone())
                .map_err(|_| format!("{host} is not a TLS server name"))?;
            Some((tls_connector(ca_file)?, name))
        } else {
            None
        };
        Ok(Self { host, port, tls })
    }

    async fn connect(&self) -> Result<Box<dyn Stream>, DeliveryError> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| {
                DeliveryError::new(
                    ErrorKind::Connect,
                    format!("cannot connect to {}:{}: {e}", self.host, self.port),
                )
            })?;
        let _ = tcp.set_nodelay(true);
        match &self.tls {
            None => Ok(Box::new(tcp)),
            Some((connector, name)) => {
                let tls = connector.connect(name.clone(), tcp).await.map_err(|e| {
                    DeliveryError::new(
                        ErrorKind::Tls,
                        format!("TLS with {} failed: {e}", self.host),
                    )
                })?;
                Ok(Box::new(tls))
            }
        }
    }
}

/// A syslog receiver's connection, opened on demand.
pub struct SyslogLink {
    endpoint: Endpoint,
    stream: Option<Box<dyn Stream>>,
}

impl SyslogLink {
    pub fn new(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            stream: None,
        }
    }

    /// Writes the frames of one batch. A stream the receiver closed (it read as end of file
    /// without waiting) is replaced first, so a restarted receiver does not swallow a batch
    /// into a dead socket.
    pub async fn send(&mut self, frames: &[u8]) -> Result<(), DeliveryError> {
        if let Some(stream) = self.stream.as_mut() {
            let mut probe = [0u8; 512];
            match stream.read(&mut probe).now_or_never() {
                None | Some(Ok(1..)) => {}
                Some(Ok(0)) | Some(Err(_)) => self.stream = None,
            }
        }
        let mut stream = match self.stream.take() {
            Some(stream) => stream,
            None => self.endpoint.connect().await?,
        };
        let io = |e: std::io::Error| {
            DeliveryError::new(
                ErrorKind::Io,
                format!("writing to {}: {e}", self.endpoint.host),
            )
        };
        stream.write_all(frames).await.map_err(io)?;
        stream.flush().await.map_err(io)?;
        self.stream = Some(stream);
        Ok(())
    }
}

/// An HTTP receiver (HEC, webhook): one POST per batch.
pub struct HttpLink {
    endpoint: Endpoint,
    uri: Uri,
    headers: HeaderMap,
    link: Option<SendRequest<Full<Bytes>>>,
}

/// The most of a receiver's answer read.
const MAX_ANSWER: usize = 64 * 1024;

impl HttpLink {
    /// `authorization`, when given, is sent marked sensitive (never in logs or errors).
    pub fn new(
        url: &str,
        ca_file: Option<&Path>,
        authorization: Option<&str>,
    ) -> Result<Self, String> {
        let uri: Uri = url.parse().map_err(|_| "url is not a URL".to_string())?;
        let https = uri.scheme_str() == Some("https");
        let host = uri.host().ok_or("url has no host")?;
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let endpoint = Endpoint::new(host, port, https, ca_file)?;
        let mut headers = HeaderMap::new();
        let authority = uri.authority().ok_or("url has no host")?.as_str();
        headers.insert(
            HOST,
            HeaderValue::from_str(authority).map_err(|_| "url has a bad host")?,
        );
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("warden-gatewayd/", env!("CARGO_PKG_VERSION"))),
        );
        if let Some(value) = authorization {
            let mut value = HeaderValue::from_str(value)
                .map_err(|_| "the secret is not a valid header value (not shown)")?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        Ok(Self {
            endpoint,
            uri,
            headers,
            link: None,
        })
    }

    /// Posts one body with extra headers; a non-2xx answer is a failure.
    pub async fn post(
        &mut self,
        body: Vec<u8>,
        extra: &[(&'static str, String)],
    ) -> Result<(), DeliveryError> {
        let mut link = match self.link.take() {
            Some(link) if !link.is_closed() => link,
            _ => self.handshake().await?,
        };
        let http = |e: hyper::Error| {
            DeliveryError::new(
                ErrorKind::Io,
                format!("HTTP with {}: {e}", self.endpoint.host),
            )
        };
        link.ready().await.map_err(http)?;
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(self.uri.path_and_query().map_or("/", |p| p.as_str()))
            .body(Full::new(Bytes::from(body)))
            .map_err(|_| DeliveryError::new(ErrorKind::Io, "request could not be built"))?;
        let mut headers = self.headers.clone();
        for (name, value) in extra {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(*name, value);
            }
        }
        *request.headers_mut() = headers;
        let response = link.send_request(request).await.map_err(http)?;
        let status = response.status();
        let _ = Limited::new(response.into_body(), MAX_ANSWER)
            .collect()
            .await;
        if !status.is_success() {
            return Err(DeliveryError::new(
                ErrorKind::Status,
                format!("{} answered {status}", self.endpoint.host),
            ));
        }
        self.link = Some(link);
        Ok(())
    }

    async fn handshake(&self) -> Result<SendRequest<Full<Bytes>>, DeliveryError> {
        let stream = self.endpoint.connect().await?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| {
                DeliveryError::new(
                    ErrorKind::Io,
                    format!("HTTP with {}: {e}", self.endpoint.host),
                )
            })?;
        // The connection task holds only the socket and ends when the sender is dropped or
        // the receiver closes; nothing to drain at shutdown.
        #[allow(clippy::disallowed_methods)]
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "SIEM receiver connection ended");
            }
        });
        Ok(sender)
    }
}

fn tls_connector(ca_file: Option<&Path>) -> Result<TlsConnector, String> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = ca_file {
        let fail = |reason: String| format!("ca_file {}: {reason}", path.display());
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| fail(e.to_string()))?
            .collect::<Result<_, _>>()
            .map_err(|e| fail(e.to_string()))?;
        if certs.is_empty() {
            return Err(fail("no PEM certificate in the file".into()));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| fail(e.to_string()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}
