//! WebSocket upgrades (HTTP/1.1 `Upgrade: websocket`): forwarded on a dedicated HTTP/1.1
//! upstream connection, then both sides are spliced byte for byte until either closes.

use http::{header, Request, Response, StatusCode, Version};
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;

use super::context::{ConnectionContext, RequestContext};
use super::target::Target;
use super::upstream_refusal;
use crate::respond::Refusal;
use crate::upstream::{ProxyBody, UpstreamError};

/// Whether the request asks to switch to the WebSocket protocol.
pub fn is_websocket_parts(parts: &http::request::Parts) -> bool {
    let has_token = |name: header::HeaderName, token: &str| {
        parts.headers.get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    parts.version == Version::HTTP_11
        && has_token(header::CONNECTION, "upgrade")
        && has_token(header::UPGRADE, "websocket")
}

/// Forwards an upgrade request and, on 101, splices the two upgraded connections.
pub async fn forward(
    conn: &ConnectionContext,
    ctx: &mut RequestContext,
    mut request: Request<ProxyBody>,
    target: Target,
) -> Result<Response<ProxyBody>, Refusal> {
    let failed = |e: UpstreamError| upstream_refusal(conn, &target.host, e);
    let io = conn
        .snapshot
        .upstream
        .upgrade_connector
        .connect(&target.uri)
        .await
        .map_err(|e| failed(e.into()))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| failed(UpstreamError::Protocol(e.to_string())))?;
    tokio::spawn(async move {
        if let Err(e) = connection.with_upgrades().await {
            tracing::debug!(error = %e, "websocket upstream connection ended");
        }
    });

    let client_upgrade = hyper::upgrade::on(&mut request);
    let (mut parts, body) = request.into_parts();
    parts.headers.remove("proxy-authorization");
    parts.headers.remove("proxy-connection");
    if let Some(authority) = target.uri.authority() {
        if let Ok(host) = authority.as_str().parse() {
            parts.headers.insert(header::HOST, host);
        }
    }
    parts.uri = target
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .parse()
        .unwrap_or_default();
    let mut response = sender
        .send_request(Request::from_parts(parts, body))
        .await
        .map_err(|e| failed(UpstreamError::Protocol(e.to_string())))?;

    if response.status() != StatusCode::SWITCHING_PROTOCOLS {
        let (mut parts, body) = response.into_parts();
        super::strip_hop_by_hop(&mut parts.headers);
        return Ok(Response::from_parts(
            parts,
            body.map_err(Into::into).boxed(),
        ));
    }
    let upstream_upgrade = hyper::upgrade::on(&mut response);
    let bytes_up = ctx.bytes_up.clone();
    tokio::spawn(async move {
        let (client, upstream) = match tokio::try_join!(client_upgrade, upstream_upgrade) {
            Ok(pair) => pair,
            Err(e) => {
                tracing::debug!(error = %e, "websocket upgrade did not complete");
                return;
            }
        };
        let mut client = TokioIo::new(client);
        let mut upstream = TokioIo::new(upstream);
        match tokio::io::copy_bidirectional(&mut client, &mut upstream).await {
            Ok((up, _down)) => {
                bytes_up.fetch_add(up, std::sync::atomic::Ordering::Relaxed);
            }
            Err(e) => tracing::debug!(error = %e, "websocket splice ended"),
        }
    });
    let (parts, _) = response.into_parts();
    let empty = http_body_util::Empty::new().map_err(|e| match e {}).boxed();
    Ok(Response::from_parts(parts, empty))
}
