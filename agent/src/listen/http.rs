//! The local proxy's HTTP side: `CONNECT host:port` (a stream through the tunnel, spliced),
//! absolute-form `http://` requests (sent as HTTP/1.1 over a stream to host:80, so the
//! gateway's pipeline sees them like any plain-HTTP tunnel), and `/proxy.pac`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use agent_proto::header as warden_header;
use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;

use super::route::{OpenError, Router};

type Body = BoxBody<Bytes, hyper::Error>;

/// Serves one client connection as an HTTP/1.1 proxy.
pub async fn serve(stream: TcpStream, router: Arc<Router>, pac: Arc<str>) {
    let service = service_fn(move |request| handle(request, router.clone(), pac.clone()));
    let result = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30))
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades()
        .await;
    if let Err(error) = result {
        tracing::debug!(%error, "client connection ended with an error");
    }
}

async fn handle(
    request: Request<Incoming>,
    router: Arc<Router>,
    pac: Arc<str>,
) -> Result<Response<Body>, Infallible> {
    if request.method() == Method::CONNECT {
        return Ok(connect(request, router).await);
    }
    match request.uri().scheme_str() {
        Some("http") => Ok(forward(request, router).await),
        Some(_) => Ok(text(
            StatusCode::BAD_REQUEST,
            "Use CONNECT for https:// through this proxy.\n",
        )),
        None if request.uri().path() == "/proxy.pac" || request.uri().path() == "/wpad.dat" => {
            let mut response = text(StatusCode::OK, &pac);
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-ns-proxy-autoconfig"),
            );
            Ok(response)
        }
        None => Ok(text(
            StatusCode::BAD_REQUEST,
            "This is the Warden agent's local proxy: configure it as your HTTP(S) proxy or use /proxy.pac.\n",
        )),
    }
}

async fn connect(request: Request<Incoming>, router: Arc<Router>) -> Response<Body> {
    let Some((host, port)) = request
        .uri()
        .authority()
        .and_then(|a| Some((a.host().to_owned(), a.port_u16()?)))
    else {
        return text(
            StatusCode::BAD_REQUEST,
            "CONNECT needs a host:port target.\n",
        );
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let mut upstream = match router.open(&host, port).await {
        Ok(upstream) => upstream,
        Err(error) => return refused(&host, &error),
    };
    tokio::spawn(async move {
        match hyper::upgrade::on(request).await {
            Ok(upgraded) => {
                let mut client = TokioIo::new(upgraded);
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            }
            Err(error) => tracing::debug!(%error, "CONNECT upgrade failed"),
        }
    });
    Response::new(Full::new(Bytes::new()).map_err(|e| match e {}).boxed())
}

/// Hop-by-hop headers (RFC 9110 7.6.1) and the proxy's own: never sent on.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "proxy-connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

async fn forward(request: Request<Incoming>, router: Arc<Router>) -> Response<Body> {
    let Some(host) = request.uri().host().map(str::to_owned) else {
        return text(StatusCode::BAD_REQUEST, "The URL has no host.\n");
    };
    let port = request.uri().port_u16().unwrap_or(80);
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let upstream = match router.open(&host, port).await {
        Ok(upstream) => upstream,
        Err(error) => return refused(&host, &error),
    };
    let (mut sender, connection) =
        match hyper::client::conn::http1::handshake(TokioIo::new(upstream)).await {
            Ok(pair) => pair,
            Err(error) => {
                return text(
                    StatusCode::BAD_GATEWAY,
                    &format!("Warden agent: the stream to {host} failed: {error}\n"),
                )
            }
        };
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let (mut parts, body) = request.into_parts();
    let authority = parts
        .uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_else(|| host.clone());
    parts.uri = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .parse()
        .unwrap_or_else(|_| http::Uri::from_static("/"));
    for name in HOP_BY_HOP {
        parts.headers.remove(*name);
    }
    if !parts.headers.contains_key(header::HOST) {
        if let Ok(value) = HeaderValue::from_str(&authority) {
            parts.headers.insert(header::HOST, value);
        }
    }
    match sender.send_request(Request::from_parts(parts, body)).await {
        Ok(response) => response.map(BodyExt::boxed),
        Err(error) => text(
            StatusCode::BAD_GATEWAY,
            &format!("Warden agent: {host} did not answer: {error}\n"),
        ),
    }
}

fn refused(host: &str, error: &OpenError) -> Response<Body> {
    tracing::info!(%host, %error, "client connection refused");
    let (status, action, rule, request_id) = match error {
        // The gateway's own status and reason travel on: the client sees `egress.loopback`,
        // not a generic refusal, and the request id names the gateway's event.
        OpenError::Refused(refusal) => (
            refusal.status,
            refusal.action.clone().unwrap_or_else(|| "error".into()),
            refusal
                .rule
                .clone()
                .unwrap_or_else(|| "agent.refused".into()),
            refusal.request_id.clone(),
        ),
        OpenError::Unavailable(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "error".into(),
            "agent.fail_closed".into(),
            None,
        ),
    };
    let mut response = text(status, &format!("Warden agent: {error}\n"));
    let headers = response.headers_mut();
    for (name, value) in [
        (warden_header::ACTION, Some(action)),
        (warden_header::RULE, Some(rule)),
        (warden_header::REQUEST_ID, request_id),
    ] {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            headers.insert(name, value);
        }
    }
    response
}

fn text(status: StatusCode, body: &str) -> Response<Body> {
    let mut response = Response::new(
        Full::new(Bytes::from(body.to_owned()))
            .map_err(|e| match e {})
            .boxed(),
    );
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
