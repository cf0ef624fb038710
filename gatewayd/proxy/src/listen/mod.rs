//! The proxy port: accepts client connections (bounded), speaks HTTP/1.1 to them, and routes
//! each request: CONNECT opens a tunnel, absolute-form `http://` URLs go through the pipeline,
//! and `/proxy.pac` serves the PAC file.
//!
//! Access is checked on every request before anything else (never an open proxy), and a
//! client over a connection limit (the port's, its address's, its user's) is told so and
//! closed instead of queuing forever.

mod connect;
mod limits;

pub use connect::bad_target;
pub use connect::parse_target;
pub mod pac;
pub use limits::ConnectionLimits;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::gateway::{Gateway, Snapshot};
use crate::identity::{check_access, Access, Identity};
use crate::io::{HoldBody, IdleTimeout};
use crate::pipeline::{self, ConnectionContext};
use crate::respond::{self, with_body, Refusal};
use crate::serve::{serve_http, Protocol};
use crate::upstream::ProxyBody;

/// Accepts proxy clients until shutdown.
pub async fn serve_proxy(listener: TcpListener, gateway: Arc<Gateway>) {
    let limit = gateway.snapshot().config.limits.max_connections;
    let slots = Arc::new(Semaphore::new(limit));
    while let Some((stream, client)) = next_connection(&listener, &gateway, "proxy").await {
        gateway.metrics.connections_accepted.fetch_add(1, Relaxed);
        // The source's share first, so one address over its share takes no port-wide slot.
        let source = client.ip().to_canonical();
        let snapshot = gateway.snapshot();
        let source_slot = if is_trusted_forwarder(&snapshot, client) {
            None
        } else {
            let limit = snapshot.config.limits.max_connections_per_source;
            match gateway.limits.per_source.try_take(source, limit) {
                Some(slot) => Some(slot),
                None => {
                    gateway
                        .metrics
                        .connections_rejected_source
                        .fetch_add(1, Relaxed);
                    tracing::warn!(%source, limit, "connection refused: limits.max_connections_per_source");
                    gateway.tasks.spawn(reject_over_limit(stream, SOURCE_LIMIT));
                    continue;
                }
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            gateway
                .metrics
                .connections_rejected_limit
                .fetch_add(1, Relaxed);
            gateway.tasks.spawn(reject_over_limit(stream, PORT_LIMIT));
            continue;
        };
        let gateway2 = gateway.clone();
        // A CONNECT tunnel outlives the HTTP connection it came from (hyper hands the socket
        // over): the slots stay taken until both are gone.
        let slots_held = Arc::new(ConnectionSlots {
            _port: permit,
            _source: source_slot,
            open: gateway.metrics.clone(),
        });
        gateway.metrics.connections_open.fetch_add(1, Relaxed);
        gateway.tasks.spawn(async move {
            serve_client(stream, client, gateway2, slots_held).await;
        });
    }
}

/// The next connection on `listener` (the `port` named in logs), or `None` once the gateway
/// shuts down. Accept errors (EMFILE and friends) back off briefly instead of spinning.
pub(crate) async fn next_connection(
    listener: &TcpListener,
    gateway: &Gateway,
    port: &str,
) -> Option<(TcpStream, SocketAddr)> {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = gateway.shutdown.cancelled() => return None,
        };
        match accepted {
            Ok(pair) => return Some(pair),
            Err(error) => {
                tracing::warn!(%error, port, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

/// A connection refused at accept: its status line, rule and explanation.
struct OverLimit {
    status: &'static str,
    rule: &'static str,
    text: &'static str,
}

const PORT_LIMIT: OverLimit = OverLimit {
    status: "503 Service Unavailable",
    rule: "limits.max_connections",
    text: "The gateway is at its connection limit; try again shortly.\n",
};

const SOURCE_LIMIT: OverLimit = OverLimit {
    status: "429 Too Many Requests",
    rule: "limits.max_connections_per_source",
    text: "Too many connections from your address are open at the gateway; close some and try again.\n",
};

async fn reject_over_limit(mut stream: TcpStream, over: OverLimit) {
    let OverLimit { status, rule, text } = over;
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\
         x-warden-action: error\r\nx-warden-rule: {rule}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    );
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// The port-wide and per-source slots of one client connection, given back (and the open
/// gauge lowered) when the connection and any tunnel opened on it have ended.
struct ConnectionSlots {
    _port: tokio::sync::OwnedSemaphorePermit,
    _source: Option<limits::Slot<std::net::IpAddr>>,
    open: Arc<crate::telemetry::Metrics>,
}

impl Drop for ConnectionSlots {
    fn drop(&mut self) {
        self.open.connections_open.fetch_sub(1, Relaxed);
    }
}

async fn serve_client(
    stream: TcpStream,
    client: SocketAddr,
    gateway: Arc<Gateway>,
    slots: Arc<ConnectionSlots>,
) {
    let _ = stream.set_nodelay(true);
    let snapshot = gateway.snapshot();
    let stream = IdleTimeout::new(stream, snapshot.config.timeouts.idle.0);
    let shutdown = gateway.shutdown.clone();
    let config = snapshot.config.clone();
    serve_http(stream, Protocol::Http1, &config, shutdown, move |request| {
        route(
            gateway.clone(),
            snapshot.clone(),
            client,
            slots.clone(),
            request,
        )
    })
    .await;
}

async fn route(
    gateway: Arc<Gateway>,
    snapshot: Arc<Snapshot>,
    client: SocketAddr,
    slots: Arc<ConnectionSlots>,
    request: Request<Incoming>,
) -> Result<Response<ProxyBody>, Infallible> {
    let is_proxy_request = request.method() == Method::CONNECT || request.uri().scheme().is_some();
    if !is_proxy_request {
        return Ok(local_request(&snapshot, &request));
    }
    let peer = client;
    let client = forwarded_client(&snapshot, peer, request.headers());
    let identity =
        match check_access(&snapshot, &gateway.auth, peer, client, request.headers()).await {
            Access::Allowed(identity) => identity,
            Access::NeedsAuth => {
                gateway
                    .metrics
                    .connections_denied_access
                    .fetch_add(1, Relaxed);
                return Ok(auth_required());
            }
            Access::Throttled(wait) => {
                return Ok(retry_later(
                    StatusCode::TOO_MANY_REQUESTS,
                    "proxy.auth_throttled",
                    "Too many failed proxy logins: wait before trying again.\n",
                    wait,
                ));
            }
            Access::Busy => {
                return Ok(retry_later(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "proxy.auth_busy",
                    "The gateway is busy checking passwords: try again shortly.\n",
                    std::time::Duration::from_secs(1),
                ));
            }
            Access::Denied => {
                gateway
                    .metrics
                    .connections_denied_access
                    .fetch_add(1, Relaxed);
                tracing::warn!(%client, "proxy use refused: source not allowed");
                return Ok(simple(
                    StatusCode::FORBIDDEN,
                    "deny",
                    "proxy.access",
                    "This address may not use the proxy.\n",
                ));
            }
        };
    // Anonymous and source-range identities stand for many people: only named users count.
    let user_slot = if identity.is_person() {
        let limit = snapshot.config.limits.max_connections_per_user;
        match gateway
            .limits
            .per_user
            .try_take(identity.user.clone(), limit)
        {
            Some(slot) => Some(slot),
            None => {
                gateway
                    .metrics
                    .connections_rejected_user
                    .fetch_add(1, Relaxed);
                tracing::warn!(user = %identity.user, limit, "refused: limits.max_connections_per_user");
                return Ok(user_over_limit());
            }
        }
    } else {
        None
    };
    if request.method() == Method::CONNECT {
        return Ok(connect::open_tunnel(
            gateway,
            snapshot,
            client,
            identity,
            request,
            (slots, user_slot),
        ));
    }
    let conn = Arc::new(plain_connection(gateway, snapshot, client, identity));
    let response = pipeline::handle(conn, request).await?;
    // The user's slot is held until the response body ends or is dropped.
    Ok(response.map(|body| HoldBody::new(body, user_slot).boxed()))
}

fn user_over_limit() -> Response<ProxyBody> {
    let mut response = simple(
        StatusCode::TOO_MANY_REQUESTS,
        "error",
        "limits.max_connections_per_user",
        "You have too many connections open through the gateway; close some and try again.\n",
    );
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

fn is_trusted_forwarder(snapshot: &Snapshot, peer: SocketAddr) -> bool {
    let ip = peer.ip().to_canonical();
    snapshot
        .config
        .proxy
        .trusted_forwarders
        .iter()
        .any(|net| net.contains(&ip))
}

/// The client's own address: the peer, or — when the peer is a trusted forwarder (a load
/// balancer in front of several gateways) — the last address it appended to
/// `X-Forwarded-For`.
fn forwarded_client(
    snapshot: &Snapshot,
    peer: SocketAddr,
    headers: &http::HeaderMap,
) -> SocketAddr {
    if !is_trusted_forwarder(snapshot, peer) {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .last()
        .and_then(|ip| ip.trim().parse::<std::net::IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, peer.port()))
        .unwrap_or(peer)
}

fn plain_connection(
    gateway: Arc<Gateway>,
    snapshot: Arc<Snapshot>,
    client: SocketAddr,
    identity: Identity,
) -> ConnectionContext {
    ConnectionContext {
        who: gateway.event_context(&identity, client),
        gateway,
        snapshot,
        client,
        identity,
        tunnel: None,
        blocked: None,
    }
}

/// Requests addressed to the proxy itself (origin-form): the PAC file, or an explanation.
fn local_request(snapshot: &Snapshot, request: &Request<Incoming>) -> Response<ProxyBody> {
    match (request.method(), request.uri().path()) {
        (&Method::GET | &Method::HEAD, "/proxy.pac" | "/wpad.dat") => {
            pac::response(snapshot, request)
        }
        _ => {
            let refusal = Refusal::new(
                StatusCode::BAD_REQUEST,
                "error",
                "request.target",
                "This is a proxy",
                "Warden is a forward proxy: configure it as your HTTP and HTTPS proxy, or use \
                 /proxy.pac for automatic configuration."
                    .into(),
            );
            respond::render(&refusal, &uuid::Uuid::now_v7().to_string(), false)
        }
    }
}

fn auth_required() -> Response<ProxyBody> {
    let mut response = simple(
        StatusCode::PROXY_AUTHENTICATION_REQUIRED,
        "deny",
        "proxy.auth",
        "Proxy authentication required.\n",
    );
    response.headers_mut().insert(
        header::PROXY_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"Warden\", charset=\"UTF-8\""),
    );
    response
}

/// A refused login the client may retry after `wait` (rounded up to whole seconds).
fn retry_later(
    status: StatusCode,
    rule: &'static str,
    text: &'static str,
    wait: std::time::Duration,
) -> Response<ProxyBody> {
    let mut response = simple(status, "deny", rule, text);
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    response
}

/// A short plain-text answer from the gateway itself, with its action and rule headers.
pub(crate) fn simple(
    status: StatusCode,
    action: &'static str,
    rule: &'static str,
    text: &'static str,
) -> Response<ProxyBody> {
    with_body(simple_parts(status, action, rule, text))
}

/// [`simple`] as its head and its bytes (the tunnel port sends the bytes itself).
fn simple_parts(
    status: StatusCode,
    action: &'static str,
    rule: &'static str,
    text: &'static str,
) -> (Response<()>, Bytes) {
    let mut head = Response::new(());
    *head.status_mut() = status;
    let headers = head.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(respond::HEADER_ACTION, HeaderValue::from_static(action));
    headers.insert(respond::HEADER_RULE, HeaderValue::from_static(rule));
    (head, Bytes::from_static(text.as_bytes()))
}
