//! The test origin: a real TLS server (its own test CA, HTTP/1.1 and HTTP/2 by ALPN, WebSocket)
//! plus a plain-HTTP twin, run on a runtime thread of its own so scenarios stay synchronous.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
use tokio::net::TcpListener;

type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

/// Host names the origin's certificate covers; scenarios use only these.
pub const ORIGIN_NAMES: &[&str] = &[
    "chat.test",
    "api.test",
    "pinned.test",
    "blocked.test",
    "ws.test",
    "bench.test",
    "plain.test",
    "origin.test",
    "localhost",
    // Real AI hosts, sent here by upstream.connect_to so the shipped catalog applies.
    "chatgpt.com",
    "chat.openai.com",
    "api.openai.com",
    "claude.ai",
    "api.anthropic.com",
    // A sign-in host where tenant control sends Microsoft's headers.
    "login.microsoftonline.com",
    // A browser's own Google API calls (carry `AIza` keys; not shadow AI).
    "content-autofill.googleapis.com",
];

pub struct Origin {
    /// TLS listener (HTTP/1.1 and HTTP/2).
    pub tls_addr: SocketAddr,
    /// Plain HTTP listener.
    pub plain_addr: SocketAddr,
    /// PEM of the CA that signed the origin's certificate (the certificate itself when
    /// self-signed).
    pub ca_pem: PathBuf,
    /// Whether the gateway should trust `ca_pem` (false for the impostor origin).
    pub trusted: bool,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Origin {
    /// Starts an origin whose certificate is signed by a fresh test CA written to `dir`.
    pub fn start(dir: &Path) -> Self {
        Self::start_with(dir, true)
    }

    /// Starts an origin with a self-signed certificate nobody trusts.
    pub fn start_untrusted(dir: &Path) -> Self {
        Self::start_with(dir, false)
    }

    fn start_with(dir: &Path, signed_by_ca: bool) -> Self {
        let (certs, key, ca_pem) = make_certificates(dir, signed_by_ca);
        let mut tls = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));

        let std_tls = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let std_plain = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let tls_addr = std_tls.local_addr().unwrap();
        let plain_addr = std_plain.local_addr().unwrap();
        std_tls.set_nonblocking(true).unwrap();
        std_plain.set_nonblocking(true).unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let tls_listener = TcpListener::from_std(std_tls).unwrap();
                let plain_listener = TcpListener::from_std(std_plain).unwrap();
                let tls_loop = async move {
                    loop {
                        let Ok((tcp, _)) = tls_listener.accept().await else {
                            continue;
                        };
                        let acceptor = acceptor.clone();
                        tokio::spawn(async move {
                            if let Ok(stream) = acceptor.accept(tcp).await {
                                serve(TokioIo::new(stream)).await;
                            }
                        });
                    }
                };
                let plain_loop = async move {
                    loop {
                        let Ok((tcp, _)) = plain_listener.accept().await else {
                            continue;
                        };
                        tokio::spawn(serve(TokioIo::new(tcp)));
                    }
                };
                tokio::select! {
                    _ = tls_loop => {}
                    _ = plain_loop => {}
                    _ = rx => {}
                }
            });
        });
        Self {
            tls_addr,
            plain_addr,
            ca_pem,
            trusted: signed_by_ca,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn make_certificates(
    dir: &Path,
    signed_by_ca: bool,
) -> (
    Vec<rustls_pki_types::CertificateDer<'static>>,
    rustls_pki_types::PrivateKeyDer<'static>,
    PathBuf,
) {
    let names: Vec<String> = ORIGIN_NAMES.iter().map(|s| s.to_string()).collect();
    let mut leaf = CertificateParams::new(names).unwrap();
    leaf.subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    leaf.distinguished_name
        .push(DnType::CommonName, "Test Origin");
    let leaf_key = KeyPair::generate().unwrap();
    let ca_pem = dir.join(if signed_by_ca {
        "origin-ca.pem"
    } else {
        "untrusted-origin.pem"
    });
    let leaf_cert = if signed_by_ca {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::default();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "Test Origin CA");
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        std::fs::write(&ca_pem, ca_cert.pem()).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        leaf.signed_by(&leaf_key, &issuer).unwrap()
    } else {
        let cert = leaf.self_signed(&leaf_key).unwrap();
        std::fs::write(&ca_pem, cert.pem()).unwrap();
        cert
    };
    let key = rustls_pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    (vec![leaf_cert.der().clone()], key, ca_pem)
}

async fn serve<I>(io: I)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let _ = auto::Builder::new(TokioExecutor::new())
        .serve_connection_with_upgrades(io, service_fn(route))
        .await;
}

fn full(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()).boxed());
    *response.status_mut() = status;
    response
}

async fn route(mut request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let path = request.uri().path().to_string();
    let version = format!("{:?}", request.version());
    let host = request
        .uri()
        .authority()
        .map(|a| a.to_string())
        .or_else(|| {
            request
                .headers()
                .get("host")
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let proxy_auth_leaked = request.headers().contains_key("proxy-authorization");
    // What a client's trace context looked like when it arrived (the gateway must not touch it).
    let traceparent = request.headers().get("traceparent").cloned();
    let mut response = if path == "/headers" {
        // The request's headers as the origin got them, one `name: value` line each, in
        // order, duplicates kept: what tenant-control tests check.
        let mut lines = String::new();
        for (name, value) in request.headers() {
            lines.push_str(&format!(
                "{name}: {}\n",
                String::from_utf8_lossy(value.as_bytes())
            ));
        }
        full(StatusCode::OK, lines)
    } else if path == "/echo" {
        let body = request
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        full(StatusCode::OK, body)
    } else if let Some(n) = path.strip_prefix("/bytes/") {
        let total: usize = n.parse().unwrap_or(0);
        let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
        let stream = futures_util::stream::iter((0..total.div_ceil(chunk.len())).map(move |i| {
            let len = chunk.len().min(total - i * chunk.len());
            Ok::<_, Infallible>(Frame::data(chunk.slice(..len)))
        }));
        Response::new(BodyExt::boxed(StreamBody::new(stream)))
    } else if path == "/upload" {
        let mut body = request.into_body();
        let mut received = 0usize;
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(frame) => received += frame.data_ref().map(|d| d.len()).unwrap_or(0),
                Err(_) => return Ok(full(StatusCode::BAD_REQUEST, "body error")),
            }
        }
        full(StatusCode::OK, format!("{{\"received\":{received}}}"))
    } else if path == "/slow" {
        let stream = futures_util::stream::iter(0..10).then(|i| async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            Ok::<_, Infallible>(Frame::data(Bytes::from(format!("chunk{i}\n"))))
        });
        Response::new(BodyExt::boxed(StreamBody::new(stream)))
    } else if path == "/early" {
        // Answers before reading the body, as an API rejecting a large upload does.
        full(StatusCode::PAYLOAD_TOO_LARGE, "too large")
    } else if path == "/alt-svc" {
        let mut response = full(StatusCode::OK, "alt-svc");
        response.headers_mut().insert(
            "alt-svc",
            "h3=\":443\"; ma=86400, h2=\"alt.test:443\""
                .parse()
                .unwrap(),
        );
        response
    } else if path == "/page" {
        let mut response = full(
            StatusCode::OK,
            "<!doctype html><html><head><title>Origin page</title></head><body>\
             <h1 id=\"hello\">Hello from the origin</h1></body></html>",
        );
        response
            .headers_mut()
            .insert("content-type", "text/html; charset=utf-8".parse().unwrap());
        response
    } else if path == "/ws" {
        return Ok(websocket_echo(&mut request));
    } else if host.starts_with("api.openai.com") && path == "/v1/chat/completions" {
        // OpenAI's own API, as an SDK called with a personal key reaches it (AI key inventory).
        let mut response = full(
            StatusCode::OK,
            "{\"id\":\"chatcmpl-origin\",\"object\":\"chat.completion\",\"created\":1,\
             \"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"message\":{\"role\":\
             \"assistant\",\"content\":\"hello from the origin\"},\"finish_reason\":\"stop\"}],\
             \"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4,\"total_tokens\":7}}",
        );
        response
            .headers_mut()
            .insert("content-type", "application/json".parse().unwrap());
        response
    } else if request.method() == http::Method::GET {
        full(StatusCode::OK, format!("origin page {path}"))
    } else {
        // Any other write echoes, like /echo: AI apps' prompt endpoints land here.
        let body = request
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        full(StatusCode::OK, body)
    };
    let headers = response.headers_mut();
    headers.insert("x-origin-version", version.parse().unwrap());
    if let Ok(h) = host.parse() {
        headers.insert("x-origin-host", h);
    }
    if let Some(traceparent) = traceparent {
        headers.insert("x-origin-traceparent", traceparent);
    }
    headers.insert(
        "x-origin-saw-proxy-auth",
        if proxy_auth_leaked { "yes" } else { "no" }
            .parse()
            .unwrap(),
    );
    Ok(response)
}

fn websocket_echo(request: &mut Request<Incoming>) -> Response<Body> {
    let Some(key) = request.headers().get("sec-websocket-key").cloned() else {
        return full(StatusCode::BAD_REQUEST, "not a websocket request");
    };
    // Like a browser-facing app server, accept compression when the client offers it (the
    // echo itself never compresses: what matters is what the gateway lets through).
    let offered_deflate = request
        .headers()
        .get("sec-websocket-extensions")
        .is_some_and(|v| v.to_str().is_ok_and(|v| v.contains("permessage-deflate")));
    let upgrade = hyper::upgrade::on(request);
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let mut ws = tokio_tungstenite::WebSocketStream::from_raw_socket(
            TokioIo::new(upgraded),
            tokio_tungstenite::tungstenite::protocol::Role::Server,
            None,
        )
        .await;
        while let Some(Ok(message)) = ws.next().await {
            if message.is_text() || message.is_binary() {
                if ws.send(message).await.is_err() {
                    break;
                }
            } else if message.is_close() {
                break;
            }
        }
    });
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let mut response = Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-accept", accept);
    if offered_deflate {
        response = response.header("sec-websocket-extensions", "permessage-deflate");
    }
    response.body(http_body_util::Empty::new().boxed()).unwrap()
}
