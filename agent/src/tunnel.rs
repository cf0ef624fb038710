//! The tunnel to gatewayd: one mTLS HTTP/2 connection, shared by every client connection as a
//! CONNECT stream each, kept up with exponential backoff, and used first of all to report
//! posture (on connect and whenever it changes), and to forward an MDM's signed posture.
//!
//! Client connections wait a bounded time for the tunnel; the caller decides what a failure
//! means (fail closed: refuse; fail open: go direct).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use agent_proto::{POSTURE_PATH, SIGNED_POSTURE_PATH};
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http2::SendRequest;
use hyper::upgrade::Upgraded;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::ClientConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::TcpStream;
use tokio::sync::{watch, Notify};

use crate::posture::{self, Posture};
use crate::refusal::GatewayRefusal;
use crate::status::StatusFile;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
const MAX_RESPONSE_BODY: usize = 256 * 1024;

/// Why a stream could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum TunnelError {
    #[error("the gateway is unreachable: {0}")]
    Unreachable(String),
    #[error("the gateway refused: {0}")]
    Refused(GatewayRefusal),
}

/// `https://host:port` → host and port (443 by default).
pub fn parse_gateway(url: &str) -> anyhow::Result<(String, u16)> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| anyhow::anyhow!("gateway URL {url:?}: {e}"))?;
    if uri.scheme_str() != Some("https") {
        anyhow::bail!("gateway URL {url:?} must start with https://");
    }
    let host = uri
        .host()
        .ok_or_else(|| anyhow::anyhow!("gateway URL {url:?} has no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    Ok((host, uri.port_u16().unwrap_or(443)))
}

/// Opens a TLS + HTTP/2 connection to the gateway; the connection task is spawned and its
/// handle returned so the caller can notice when it ends.
pub async fn connect_h2(
    host: &str,
    port: u16,
    tls: Arc<ClientConfig>,
) -> anyhow::Result<(SendRequest<Full<Bytes>>, tokio::task::JoinHandle<()>)> {
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| anyhow::anyhow!("gateway host {host:?}: {e}"))?;
    let work = async {
        let tcp = TcpStream::connect((host, port)).await?;
        let _ = tcp.set_nodelay(true);
        let stream = tokio_rustls::TlsConnector::from(tls)
            .connect(name, tcp)
            .await?;
        let mut builder = hyper::client::conn::http2::Builder::new(TokioExecutor::new());
        builder
            .timer(TokioTimer::new())
            .initial_stream_window_size(4 * 1024 * 1024)
            .initial_connection_window_size(32 * 1024 * 1024)
            .max_frame_size(64 * 1024)
            // Remember more reset streams (frames still in flight on them are dropped quietly)
            // and allow as many error resets as the gateway does: a tunnel carries thousands
            // of short streams for days (see gatewayd's `tunnel::LOCAL_ERROR_RESETS`).
            .max_concurrent_reset_streams(1024)
            .max_local_error_reset_streams(1 << 20)
            .keep_alive_interval(Duration::from_secs(20))
            .keep_alive_timeout(Duration::from_secs(20))
            .keep_alive_while_idle(true);
        let (sender, connection) = builder.handshake(TokioIo::new(stream)).await?;
        anyhow::Ok((sender, connection))
    };
    let (sender, connection) = tokio::time::timeout(CONNECT_TIMEOUT, work)
        .await
        .map_err(|_| anyhow::anyhow!("timed out connecting to {host}:{port}"))??;
    let task = tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::info!(%error, "tunnel connection ended");
        }
    });
    Ok((sender, task))
}

/// Sends a JSON POST and reads the (bounded) answer.
pub async fn post_json(
    sender: &mut SendRequest<Full<Bytes>>,
    authority: &str,
    path: &str,
    body: &serde_json::Value,
) -> anyhow::Result<(StatusCode, serde_json::Value)> {
    sender.ready().await?;
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("https://{authority}{path}"))
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.to_string())))?;
    let response = tokio::time::timeout(CONNECT_TIMEOUT, sender.send_request(request))
        .await
        .map_err(|_| anyhow::anyhow!("the gateway did not answer in time"))??;
    let status = response.status();
    let bytes = Limited::new(response.into_body(), MAX_RESPONSE_BODY)
        .collect()
        .await
        .map_err(|e| anyhow::anyhow!("reading the gateway's answer: {e}"))?
        .to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    Ok((status, value))
}

/// The mTLS client configuration from the enrolled state: the pinned Warden root is the only
/// trust anchor, the device certificate and key authenticate.
pub fn device_tls(state_dir: &Path) -> anyhow::Result<Arc<ClientConfig>> {
    use rustls_pki_types::pem::PemObject;
    let read = |name: &str| {
        let path = state_dir.join(name);
        std::fs::read(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    };
    let root = CertificateDer::from_pem_slice(&read(crate::state::ROOT_CERT)?)
        .map_err(|e| anyhow::anyhow!("Warden root: {e}"))?;
    let cert = CertificateDer::from_pem_slice(&read(crate::state::DEVICE_CERT)?)
        .map_err(|e| anyhow::anyhow!("device certificate: {e}"))?;
    let key = PrivateKeyDer::from_pem_slice(&read(crate::state::DEVICE_KEY)?)
        .map_err(|e| anyhow::anyhow!("device key: {e}"))?;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root)?;
    let mut config = ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])?
    .with_root_certificates(roots)
    .with_client_auth_cert(vec![cert], key)?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// Where the tunnel stands.
#[derive(Clone)]
enum Link {
    Down(String),
    Up(SendRequest<Full<Bytes>>),
    /// The gateway refuses this device for good (revoked, or not enrolled there): nothing is
    /// retried and every client gets the refusal, fail open or not.
    Refused(GatewayRefusal),
}

/// The gateway's answer that this device may not use it at all, read from a refused posture
/// report: a `403` whose error names the device (revoked or not enrolled). Outages, timeouts
/// and every other answer are not this: the agent keeps retrying those.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.message)]
pub struct DeviceRefused(pub GatewayRefusal);

fn device_refusal(status: http::StatusCode, answer: &serde_json::Value) -> Option<DeviceRefused> {
    if status != http::StatusCode::FORBIDDEN {
        return None;
    }
    let body = serde_json::to_vec(answer).ok()?;
    let mut refusal = GatewayRefusal::from_answer(status, &http::HeaderMap::new(), &body);
    let message = refusal.message.to_ascii_lowercase();
    if !(message.contains("revoked") || message.contains("not enrolled")) {
        return None;
    }
    refusal.rule = Some("agent.device_refused".into());
    refusal.action = Some("block".into());
    Some(DeviceRefused(refusal))
}

/// The shared tunnel: open streams with [`Tunnel::open`]; [`Tunnel::run`] keeps it up.
pub struct Tunnel {
    host: String,
    port: u16,
    tls: Arc<ClientConfig>,
    link: watch::Sender<Link>,
    kick: Notify,
    posture_file: Option<std::path::PathBuf>,
    signed_posture_file: Option<std::path::PathBuf>,
    posture_interval: Duration,
    status: Arc<StatusFile>,
}

impl Tunnel {
    pub fn new(
        gateway: &str,
        tls: Arc<ClientConfig>,
        posture_file: Option<std::path::PathBuf>,
        signed_posture_file: Option<std::path::PathBuf>,
        posture_interval: Duration,
        status: Arc<StatusFile>,
    ) -> anyhow::Result<Self> {
        let (host, port) = parse_gateway(gateway)?;
        Ok(Self {
            host,
            port,
            tls,
            link: watch::channel(Link::Down("not connected yet".into())).0,
            kick: Notify::new(),
            posture_file,
            signed_posture_file,
            posture_interval: posture_interval.max(Duration::from_millis(200)),
            status,
        })
    }

    fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Opens a CONNECT stream to `host:port` through the gateway, waiting up to `wait` for
    /// the tunnel to be up.
    pub async fn open(&self, target: &str, wait: Duration) -> Result<Upgraded, TunnelError> {
        let mut sender = self.sender(wait).await?;
        let request = Request::builder()
            .method(Method::CONNECT)
            .uri(target)
            .body(Full::new(Bytes::new()))
            .map_err(|e| {
                TunnelError::Refused(GatewayRefusal::local(format!("bad target {target:?}: {e}")))
            })?;
        let attempt = async {
            sender
                .ready()
                .await
                .map_err(|e| TunnelError::Unreachable(e.to_string()))?;
            let response = sender
                .send_request(request)
                .await
                .map_err(|e| TunnelError::Unreachable(e.to_string()))?;
            if response.status() != StatusCode::OK {
                let (parts, body) = response.into_parts();
                let body = Limited::new(body, 8192)
                    .collect()
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                return Err(TunnelError::Refused(GatewayRefusal::from_answer(
                    parts.status,
                    &parts.headers,
                    &body,
                )));
            }
            hyper::upgrade::on(response)
                .await
                .map_err(|e| TunnelError::Unreachable(e.to_string()))
        };
        tokio::time::timeout(CONNECT_TIMEOUT, attempt)
            .await
            .map_err(|_| TunnelError::Unreachable("the gateway did not answer in time".into()))?
    }

    async fn sender(&self, wait: Duration) -> Result<SendRequest<Full<Bytes>>, TunnelError> {
        let mut rx = self.link.subscribe();
        if let Link::Refused(refusal) = &*rx.borrow() {
            return Err(TunnelError::Refused(refusal.clone()));
        }
        if let Link::Up(sender) = &*rx.borrow_and_update() {
            if !sender.is_closed() {
                return Ok(sender.clone());
            }
        }
        self.kick.notify_one();
        let waited = tokio::time::timeout(wait, async {
            loop {
                if let Link::Up(sender) = &*rx.borrow_and_update() {
                    if !sender.is_closed() {
                        return Some(sender.clone());
                    }
                }
                if rx.changed().await.is_err() {
                    return None;
                }
            }
        })
        .await;
        match waited {
            Ok(Some(sender)) => Ok(sender),
            _ => match &*self.link.borrow() {
                Link::Refused(refusal) => Err(TunnelError::Refused(refusal.clone())),
                Link::Down(reason) => Err(TunnelError::Unreachable(reason.clone())),
                Link::Up(_) => Err(TunnelError::Unreachable("the tunnel closed".into())),
            },
        }
    }

    /// Keeps the tunnel up until the process ends: connect, report posture, serve, and on
    /// loss reconnect with exponential backoff (reset after a connection that worked).
    pub async fn run(self: Arc<Self>) {
        let mut backoff = Duration::from_millis(200);
        loop {
            self.status.connecting();
            match self.connect_once().await {
                Ok((sender, task)) => {
                    backoff = Duration::from_millis(200);
                    self.link.send_replace(Link::Up(sender.clone()));
                    self.status.connected();
                    tracing::info!(gateway = %self.authority(), "tunnel up");
                    let reason = self.serve(sender, task).await;
                    tracing::warn!(%reason, "tunnel lost; reconnecting");
                    self.link.send_replace(Link::Down(reason.clone()));
                    self.status.disconnected(&reason);
                }
                Err(error) => {
                    if let Some(DeviceRefused(refusal)) = error.downcast_ref::<DeviceRefused>() {
                        tracing::error!(reason = %refusal.message, "the gateway refuses this device; not retrying (enroll again with `agent enroll`)");
                        self.status.refused(&refusal.message);
                        self.link.send_replace(Link::Refused(refusal.clone()));
                        return;
                    }
                    let reason = format!("{error:#}");
                    tracing::warn!(%reason, retry_in_ms = backoff.as_millis() as u64, "cannot reach the gateway");
                    self.link.send_replace(Link::Down(reason.clone()));
                    self.status.disconnected(&reason);
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        // A waiting client shortens the wait, but never below 100 ms.
                        () = async { self.kick.notified().await; tokio::time::sleep(Duration::from_millis(100)).await } => {}
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    async fn connect_once(
        &self,
    ) -> anyhow::Result<(SendRequest<Full<Bytes>>, tokio::task::JoinHandle<()>)> {
        let (mut sender, task) = connect_h2(&self.host, self.port, self.tls.clone()).await?;
        let posture = self.collect_posture().await;
        self.send_posture(&mut sender, &posture).await?;
        Ok((sender, task))
    }

    /// Forwards the MDM's signed posture when it is new to this connection. A refusal is
    /// logged, not fatal: the tunnel works, the gateway just sees unsigned posture.
    async fn forward_signed(
        &self,
        sender: &mut SendRequest<Full<Bytes>>,
        last: &mut Option<serde_json::Value>,
    ) {
        let Some(path) = &self.signed_posture_file else {
            return;
        };
        let envelope = match posture::read_signed(path) {
            Ok(envelope) => envelope,
            Err(error) => {
                tracing::warn!(file = %path.display(), %error, "signed posture file unusable");
                return;
            }
        };
        if last.as_ref() == Some(&envelope) {
            return;
        }
        match post_json(sender, &self.authority(), SIGNED_POSTURE_PATH, &envelope).await {
            Ok((status, _)) if status.is_success() => {
                tracing::info!("signed posture accepted by the gateway");
            }
            Ok((status, answer)) => {
                tracing::warn!(%status, %answer, "the gateway refused the signed posture");
            }
            Err(error) => tracing::warn!(%error, "signed posture not sent"),
        }
        *last = Some(envelope);
    }

    /// While the connection lives: re-collect posture on the interval and send it when it
    /// changed. Returns why the connection ended.
    async fn serve(
        &self,
        mut sender: SendRequest<Full<Bytes>>,
        mut task: tokio::task::JoinHandle<()>,
    ) -> String {
        let mut last = self.status.posture();
        let mut last_signed = None;
        self.forward_signed(&mut sender, &mut last_signed).await;
        loop {
            tokio::select! {
                _ = &mut task => return "the gateway closed the connection".into(),
                () = tokio::time::sleep(self.posture_interval) => {
                    self.forward_signed(&mut sender, &mut last_signed).await;
                    let now = self.collect_posture().await;
                    if now != last {
                        if let Err(error) = self.send_posture(&mut sender, &now).await {
                            task.abort();
                            return format!("posture update failed: {error:#}");
                        }
                        last = now;
                    }
                }
            }
        }
    }

    async fn collect_posture(&self) -> Posture {
        let file = self.posture_file.clone();
        tokio::task::spawn_blocking(move || posture::collect(file.as_deref()))
            .await
            .unwrap_or_default()
    }

    async fn send_posture(
        &self,
        sender: &mut SendRequest<Full<Bytes>>,
        posture: &Posture,
    ) -> anyhow::Result<()> {
        let body = serde_json::to_value(posture)?;
        let (status, answer) = post_json(sender, &self.authority(), POSTURE_PATH, &body).await?;
        if let Some(refused) = device_refusal(status, &answer) {
            return Err(refused.into());
        }
        if !status.is_success() {
            anyhow::bail!("the gateway refused the posture report: {status} {answer}");
        }
        self.status.posture_sent(posture);
        tracing::info!(?posture, "posture reported");
        Ok(())
    }
}
