//! The proxy port: accepts client connections (bounded), speaks HTTP/1.1 to them, and routes
//! each request: CONNECT opens a tunnel, absolute-form `http://` URLs go through the pipeline,
//! and `/proxy.pac` serves the PAC file.
//!
//! Access is checked on every request before anything else (never an open proxy), and a
//! client over a connection limit (the port's, its address's, its user's) is told so and
//! closed instead of queuing forever.

mod accept;
mod connect;
mod limits;

pub use accept::{accept_loop, Admitted, Port, Rejection};
pub use connect::bad_target;
pub use connect::parse_target;
pub mod pac;
pub use limits::{ConnectionLimits, Counter, Slot};

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::net::{TcpListener, TcpStream};

use crate::gateway::{Gateway, Snapshot};
use crate::identity::{check_access, Access, Identity};
use crate::io::{HoldBody, IdleTimeout};
use crate::pipeline::{self, ConnectionContext};
use crate::respond::{self, with_body, Refusal};
use crate::serve::{serve_http, Protocol};
use crate::telemetry::events::{AccessDenied, InternalEvent, UserOverLimit};
use crate::telemetry::{Denial, Limit, Listener};
use crate::upstream::ProxyBody;

/// Accepts proxy clients until shutdown.
pub async fn serve_proxy(listener: TcpListener, gateway: Arc<Gateway>) {
    let port = Port {
        listener: Listener::Proxy,
        limit: Limit::Port,
        max: gateway.snapshot().config.limits.max_connections,
    };
    let for_admit = gateway.clone();
    // The source's share is taken before a port-wide slot, so one address over its share
    // takes no port-wide slot.
    let admit = move |peer: SocketAddr| {
        let snapshot = for_admit.snapshot();
        if is_trusted_forwarder(&snapshot, peer) {
            return Ok(None);
        }
        let max = snapshot.config.limits.max_connections_per_source;
        let source = peer.ip().to_canonical();
        match for_admit.limits.per_source.try_take(source, max) {
            Some(slot) => Ok(Some(slot)),
            None => Err(Rejection {
                limit: Limit::Source,
                max,
            }),
        }
    };
    let for_serve = gateway.clone();
    let serve = move |stream, client, admitted| {
        // A CONNECT tunnel outlives the HTTP connection it came from (hyper hands the socket
        // over): the slots stay taken until both are gone.
        serve_client(stream, client, for_serve.clone(), Arc::new(admitted))
    };
    accept_loop(listener, gateway, port, admit, serve).await;
}

/// The port-wide and per-source slots of one client connection (and its place on the open
/// gauge), given back when the connection and any tunnel opened on it have ended.
type ConnectionSlots = Admitted<Option<limits::Slot<std::net::IpAddr>>>;

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
                AccessDenied {
                    reason: Denial::AuthRequired,
                    client,
                }
                .emit(&gateway.metrics);
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
                AccessDenied {
                    reason: Denial::Source,
                    client,
                }
                .emit(&gateway.metrics);
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
                UserOverLimit {
                    user: &identity.user,
                    max: limit,
                }
                .emit(&gateway.metrics);
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
                crate::outcome::Outcome::Error,
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
