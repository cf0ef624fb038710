//! The connection to the collector: HTTP/1.1 over TCP, or over TLS verified against the public
//! roots plus `ca_file`, kept alive between batches and opened again after a failure.
//!
//! What it must never do: put a configured header value in an error or a log line (the values
//! are marked sensitive and errors name only the endpoint's host).

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE, HOST, USER_AGENT};
use http::{HeaderMap, Method, Request, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use config::OtlpConfig;

/// The most of a collector's answer read (an OTLP partial-success body is small).
const MAX_ANSWER: usize = 64 * 1024;

/// Why an export failed. Never carries a header value.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ExportError {
    #[error("cannot connect to the collector {host}: {source}")]
    Connect {
        host: String,
        source: std::io::Error,
    },
    #[error("TLS with the collector {host} failed: {source}")]
    Tls {
        host: String,
        source: std::io::Error,
    },
    #[error("HTTP with the collector failed: {0}")]
    Http(#[from] hyper::Error),
    #[error("the collector answered {0}")]
    Status(http::StatusCode),
    #[error("the export took longer than telemetry.otlp.export_timeout")]
    Timeout,
}

/// Why the exporter could not be set up from its configuration.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("telemetry.otlp.endpoint is not a usable URL")]
    Endpoint,
    #[error("telemetry.otlp.headers: {0} is not a valid header (the value is not shown)")]
    Header(String),
    #[error("telemetry.otlp.ca_file {path}: {reason}")]
    CaFile { path: String, reason: String },
    #[error("TLS setup for the collector: {0}")]
    Tls(String),
}

/// Where and how batches are posted.
pub(crate) struct Collector {
    uri: Uri,
    host: String,
    port: u16,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    headers: HeaderMap,
    link: Option<SendRequest<Full<Bytes>>>,
}

impl Collector {
    pub fn new(config: &OtlpConfig) -> Result<Self, SetupError> {
        let uri: Uri = config.endpoint.parse().map_err(|_| SetupError::Endpoint)?;
        let https = uri.scheme_str() == Some("https");
        let host = uri.host().ok_or(SetupError::Endpoint)?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let mut headers = HeaderMap::new();
        let authority = uri.authority().ok_or(SetupError::Endpoint)?.as_str();
        let authority = HeaderValue::from_str(authority).map_err(|_| SetupError::Endpoint)?;
        headers.insert(HOST, authority);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("warden-gatewayd/", env!("CARGO_PKG_VERSION"))),
        );
        for (name, value) in &config.headers.0 {
            let bad = || SetupError::Header(name.clone());
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?;
            let mut value = HeaderValue::from_str(value).map_err(|_| bad())?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        let tls = if https {
            let server = ServerName::try_from(host.clone()).map_err(|_| SetupError::Endpoint)?;
            Some((tls_connector(config.ca_file.as_deref())?, server))
        } else {
            None
        };
        Ok(Self {
            uri,
            host,
            port,
            tls,
            headers,
            link: None,
        })
    }

    /// Posts one batch; returns the spans the collector says it rejected.
    pub async fn post(&mut self, body: Vec<u8>) -> Result<u64, ExportError> {
        let mut link = match self.link.take() {
            Some(link) if !link.is_closed() => link,
            _ => self.connect().await?,
        };
        link.ready().await?;
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(self.uri.path_and_query().map_or("/", |p| p.as_str()))
            .body(Full::new(Bytes::from(body)))
            .map_err(|_| ExportError::Status(http::StatusCode::BAD_REQUEST))?;
        *request.headers_mut() = self.headers.clone();
        let response = link.send_request(request).await?;
        let status = response.status();
        let answer = Limited::new(response.into_body(), MAX_ANSWER)
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        if !status.is_success() {
            return Err(ExportError::Status(status));
        }
        self.link = Some(link);
        Ok(rejected_spans(&answer))
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, ExportError> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|source| ExportError::Connect {
                host: self.host.clone(),
                source,
            })?;
        let _ = tcp.set_nodelay(true);
        match &self.tls {
            None => handshake(tcp).await,
            Some((connector, server)) => {
                let tls = connector
                    .connect(server.clone(), tcp)
                    .await
                    .map_err(|source| ExportError::Tls {
                        host: self.host.clone(),
                        source,
                    })?;
                handshake(tls).await
            }
        }
    }
}

async fn handshake<T>(io: T) -> Result<SendRequest<Full<Bytes>>, ExportError>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io)).await?;
    // The connection task ends when the exporter drops its sender (or the collector closes);
    // it holds nothing but the socket, so it needs no draining at shutdown.
    #[allow(clippy::disallowed_methods)]
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "OTLP collector connection ended");
        }
    });
    Ok(sender)
}

/// `partialSuccess.rejectedSpans` of an OTLP answer (an int64: a string or a number).
fn rejected_spans(answer: &[u8]) -> u64 {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(answer) else {
        return 0;
    };
    match &json["partialSuccess"]["rejectedSpans"] {
        serde_json::Value::String(s) => s.parse().unwrap_or(0),
        serde_json::Value::Number(n) => n.as_u64().unwrap_or(0),
        _ => 0,
    }
}

fn tls_connector(ca_file: Option<&Path>) -> Result<TlsConnector, SetupError> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = ca_file {
        let fail = |reason: String| SetupError::CaFile {
            path: path.display().to_string(),
            reason,
        };
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
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SetupError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsConnector::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::rejected_spans;

    #[test]
    fn partial_success_is_read_in_both_int64_forms() {
        assert_eq!(rejected_spans(b"{}"), 0);
        assert_eq!(rejected_spans(b"not json"), 0);
        assert_eq!(
            rejected_spans(br#"{"partialSuccess":{"rejectedSpans":"3"}}"#),
            3
        );
        assert_eq!(
            rejected_spans(br#"{"partialSuccess":{"rejectedSpans":2}}"#),
            2
        );
    }
}
