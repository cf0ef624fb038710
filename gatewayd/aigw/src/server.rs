//! The AI gateway's listener and endpoints: accept within `max_connections` (one more is
//! answered 503 and closed), serve HTTP/1.1 and HTTP/2 (cleartext, or TLS with
//! `[aigw.tls]`; also on connections the proxy hands over, [`serve_proxied`]), route
//! `POST /v1/chat/completions`, `POST /v1/messages`, `POST /v1/responses`,
//! `POST /v1/embeddings` and `GET /v1/models`, and put
//! `x-request-id` / `X-Warden-Request-Id` on every answer.
//!
//! Never: spawn outside the daemon's task tracker (shutdown drains what it tracks), spin on
//! accept errors, or answer without a request id.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::access::Arrival;
use crate::body::{CallBody, Relay};
use crate::call_log::{CallLog, CallRecord};
use crate::dialect::Dialect;
use crate::endpoints;
use crate::error::CallError;
use crate::pipeline::{self, Reply};
use crate::AiGateway;

/// Accepts on `listener` until `shutdown`; every connection runs on `tasks`.
pub async fn serve(
    listener: TcpListener,
    gw: Arc<AiGateway>,
    tasks: TaskTracker,
    shutdown: CancellationToken,
) {
    serve_listener(listener, gw, None, tasks, shutdown).await;
}

/// [`serve`], with TLS on every connection when `tls` is set (`[aigw.tls]`, see
/// [`crate::tls`]).
pub async fn serve_listener(
    listener: TcpListener,
    gw: Arc<AiGateway>,
    tls: Option<Arc<rustls::ServerConfig>>,
    tasks: TaskTracker,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(gw.options.max_connections));
    let mut backoff = Duration::from_millis(5);
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => {
                backoff = Duration::from_millis(5);
                accepted
            }
            Err(error) => {
                // EMFILE and friends: wait instead of spinning.
                tracing::warn!(%error, "aigw: accept failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        // One address's share first, so a flood from one source fills only its share.
        let Some(source) = gw.connections.take(peer.ip()) else {
            tasks.spawn(refuse(
                stream,
                "too many connections open from your address",
            ));
            continue;
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            gw.connections.port_full();
            tasks.spawn(refuse(
                stream,
                "the AI gateway has too many connections open",
            ));
            continue;
        };
        let gw = gw.clone();
        let shutdown = shutdown.clone();
        let tls = tls.clone();
        tasks.spawn(async move {
            let _ = stream.set_nodelay(true);
            let arrival = Arrival::direct(peer);
            match tls {
                None => {
                    // hyper's header deadline starts with the first byte: a connection that
                    // sends none is closed here (TLS has its handshake deadline).
                    if gw.connections.first_byte(&stream).await {
                        serve_io(stream, arrival, gw, shutdown).await;
                    }
                }
                Some(tls) => {
                    if let Some(stream) = crate::tls::accept(stream, tls).await {
                        serve_io(stream, arrival, gw, shutdown).await;
                    }
                }
            }
            drop(permit);
            drop(source);
        });
    }
}

async fn refuse(mut stream: TcpStream, message: &str) {
    let body = json!({"error": {"message": message, "type": "server_error", "param": null, "code": "overloaded"}})
        .to_string();
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(2), stream.write_all(answer.as_bytes())).await;
}

/// Serves a connection the proxy or the agent port handed over (a CONNECT to `aigw.host`,
/// already decrypted), with the identity they established in `arrival`.
pub async fn serve_proxied<I>(
    io: I,
    arrival: Arrival,
    gw: Arc<AiGateway>,
    shutdown: CancellationToken,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    serve_io(io, arrival, gw, shutdown).await;
}

async fn serve_io<I>(io: I, arrival: Arrival, gw: Arc<AiGateway>, shutdown: CancellationToken)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let header_read_timeout = gw.connections.header_read_timeout;
    let service = hyper::service::service_fn(move |request| {
        let gw = gw.clone();
        let arrival = arrival.clone();
        async move { Ok::<_, Infallible>(handle_via(&gw, request, arrival).await) }
    });
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .max_buf_size(64 * 1024);
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        _ = shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

/// One call on the gateway's own listener: see [`handle_via`].
pub async fn handle(
    gw: &AiGateway,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> Response<CallBody> {
    handle_via(gw, request, Arrival::direct(peer)).await
}

/// One call: its endpoint's phases, then the answer with its request id and log guard.
pub async fn handle_via(
    gw: &AiGateway,
    request: Request<Incoming>,
    arrival: Arrival,
) -> Response<CallBody> {
    if let Some(page) = crate::chat::serve_page(gw, &request, &arrival) {
        return page;
    }
    let path = request.uri().path().trim_end_matches('/').to_string();
    let (ingress, endpoint) = match path.as_str() {
        crate::chat::API_PATH if gw.chat.is_some() => (Dialect::OpenAi, crate::chat::ENDPOINT),
        "/v1/messages" => (Dialect::Anthropic, "messages"),
        "/v1/chat/completions" => (Dialect::OpenAi, "chat_completions"),
        "/v1/models" => (Dialect::OpenAi, "models"),
        "/v1/responses" => (Dialect::OpenAi, "responses"),
        "/v1/embeddings" => (Dialect::OpenAi, "embeddings"),
        _ => (Dialect::OpenAi, "other"),
    };
    let mut record = CallRecord::new(arrival.peer, ingress, endpoint);
    record.arrival = arrival;
    let method = request.method().clone();
    // DNS rebinding: a direct connection must name this gateway ([`crate::hosts`]).
    let misdirected = match record.arrival.path {
        crate::access::IngressPath::Direct => gw.hosts.check(&request).err(),
        _ => None,
    };
    let result = if let Some(refused) = misdirected {
        Err(refused)
    } else {
        match (method, endpoint) {
        (Method::POST, "messages" | "chat_completions") => call(gw, ingress, request, &mut record).await,
        (Method::GET, "models") => models(gw, &request, &mut record),
        (Method::POST, "responses") => endpoints::responses::responses(gw, request, &mut record).await,
        (Method::POST, "embeddings") => endpoints::embeddings::embeddings(gw, request, &mut record).await,
        (Method::POST, crate::chat::ENDPOINT) => crate::chat::api::completions(gw, request, &mut record).await,
        (_, "messages" | "chat_completions" | "models" | "responses" | "embeddings" | crate::chat::ENDPOINT) => Err(CallError::bad_request("method", "method not allowed on this path")),
        _ => Err(CallError::NotFound(format!(
            "no such endpoint {path:?}: this gateway serves POST /v1/chat/completions, POST /v1/messages, POST /v1/responses, POST /v1/embeddings and GET /v1/models"
        ))),
    }
    };
    let request_id = record.request_id.clone();
    // A rate limit's headers go on successful answers too (refusals carry their own).
    let limit_headers = match (&result, &record.admission) {
        (Ok(_), Some(admission)) => admission.ratelimit_headers(crate::budget::now_secs()),
        _ => Vec::new(),
    };
    let mut response = match result {
        Ok(Reply::Whole(bytes)) => {
            let mut response = Response::new(CallBody::whole(
                bytes,
                CallLog::new(record, gw.ledger.clone()),
            ));
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Ok(Reply::Stream {
            upstream,
            translator,
        }) => {
            let idle = gw.options.stream_idle_timeout;
            let guard = crate::response_dlp::stream_guard(gw, &translator, ingress);
            let relay = Relay::new(
                upstream,
                translator,
                idle,
                ingress,
                CallLog::new(record, gw.ledger.clone()),
            )
            .guarded(guard);
            let mut response = Response::new(CallBody::stream(relay));
            let headers = response.headers_mut();
            headers.insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            );
            headers.insert(
                http::header::CACHE_CONTROL,
                HeaderValue::from_static("no-cache"),
            );
            response
        }
        Err(error) => {
            record.status = error.status().as_u16();
            record.error = Some(error.kind().to_string());
            if matches!(
                error,
                CallError::Internal(_)
                    | CallError::BadGateway(_)
                    | CallError::Unreachable { .. }
                    | CallError::Timeout(_)
            ) {
                tracing::warn!(request_id = %record.request_id, error = %error, "aigw call failed");
            }
            let answer = if endpoint == crate::chat::ENDPOINT {
                crate::chat::api::error_response(&error)
            } else {
                error.response(ingress)
            };
            let (parts, bytes) = answer.into_parts();
            Response::from_parts(
                parts,
                CallBody::whole(bytes, CallLog::new(record, gw.ledger.clone())),
            )
        }
    };
    if endpoint == crate::chat::ENDPOINT {
        crate::chat::harden(response.headers_mut());
    }
    for (name, value) in limit_headers {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value.clone());
        response.headers_mut().insert("x-warden-request-id", value);
    }
    response
}

/// `POST /v1/chat/completions` and `POST /v1/messages` (and the chat page's calls): the
/// phases of [`pipeline`].
pub(crate) async fn call(
    gw: &AiGateway,
    ingress: Dialect,
    request: Request<Incoming>,
    record: &mut CallRecord,
) -> Result<Reply, CallError> {
    let caller = pipeline::authenticate(gw, request.headers(), record)?;
    let (headers, mut body) = pipeline::parse(gw, request, record).await?;
    let route = pipeline::resolve_route(gw, &caller, &body, record)?;
    pipeline::budgets(gw, &caller, &route, &mut body, record)?;
    pipeline::dlp(gw, &mut body, record)?;
    let reply = crate::fallback::forward(gw, ingress, &route, &headers, body, record).await?;
    crate::response_dlp::check(gw, ingress, reply, record)
}

/// `GET /v1/models`: the configured models this caller may use, as OpenAI lists models (or
/// as Anthropic does, for a caller that sends `anthropic-version`).
fn models(
    gw: &AiGateway,
    request: &Request<Incoming>,
    record: &mut CallRecord,
) -> Result<Reply, CallError> {
    let caller = pipeline::authenticate(gw, request.headers(), record)?;
    let models = endpoints::models::allowed(&gw.routes, &caller.models);
    let body = if request.headers().contains_key("anthropic-version") {
        let data: Vec<_> = models
            .iter()
            .map(|m| json!({"type": "model", "id": m.id, "display_name": m.id, "created_at": "1970-01-01T00:00:00Z"}))
            .collect();
        json!({"data": data, "has_more": false, "first_id": models.first().map(|m| &m.id), "last_id": models.last().map(|m| &m.id)})
    } else {
        let data: Vec<_> = models
            .iter()
            .map(|m| json!({"id": m.id, "object": "model", "created": 0, "owned_by": m.owned_by}))
            .collect();
        json!({"object": "list", "data": data})
    };
    Ok(Reply::Whole(Bytes::from(body.to_string())))
}
