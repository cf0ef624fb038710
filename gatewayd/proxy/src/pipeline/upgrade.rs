//! WebSocket upgrades (HTTP/1.1 `Upgrade: websocket`): forwarded on a dedicated HTTP/1.1
//! upstream connection, then both sides are spliced byte for byte until either closes.

use http::{header, Request, Response, StatusCode, Version};
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;

use super::context::{ConnectionContext, RequestContext};
use super::target::Target;
use super::upstream_refusal;
use crate::inspect::websocket::{client_close, relay_client_frames, FrameOutcome};
use crate::respond::Refusal;
use crate::upstream::{ProxyBody, UpstreamError};
use tokio::io::AsyncWriteExt;

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

/// What the policy asks of a WebSocket's client messages: the profiles to scan each with, and
/// those whose match blocks (`on_match = "block"`, decided as the HTTP path re-decides with
/// the matched profiles). A match of any other profile is logged and the message passes.
pub struct MessageScan {
    pub profiles: Vec<String>,
    pub blocking: Vec<String>,
}

impl MessageScan {
    pub fn for_verdict(
        conn: &ConnectionContext,
        ctx: &RequestContext,
        verdict: &policies::Verdict,
        book: &policies::StatusBook,
    ) -> Self {
        let profiles: Vec<String> = verdict.profiles_to_scan().map(str::to_owned).collect();
        let blocking = profiles
            .iter()
            .filter(|p| {
                let matched = [p.to_string()];
                super::decide::decide(conn, ctx, book, Some(&matched)).blocked
            })
            .cloned()
            .collect();
        Self { profiles, blocking }
    }
}

/// Forwards an upgrade request and, on 101, splices the two upgraded connections.
pub async fn forward(
    conn: &ConnectionContext,
    ctx: &mut RequestContext,
    mut request: Request<ProxyBody>,
    target: Target,
    message_scan: MessageScan,
) -> Result<Response<ProxyBody>, Refusal> {
    let MessageScan {
        profiles: scan_profiles,
        blocking,
    } = message_scan;
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
    // Tracked, like the relay below: SIGTERM drains an open WebSocket instead of cutting it.
    conn.gateway.tasks.spawn(async move {
        if let Err(e) = connection.with_upgrades().await {
            tracing::debug!(error = %e, "websocket upstream connection ended");
        }
    });

    let client_upgrade = hyper::upgrade::on(&mut request);
    let (mut parts, body) = request.into_parts();
    parts.headers.remove("proxy-authorization");
    parts.headers.remove("proxy-connection");
    if !scan_profiles.is_empty() {
        // Compressed frames (permessage-deflate, RFC 7692) would reach the scanner as
        // compressed bytes: when messages must be scanned, no extension is offered, and a
        // frame that sets the reserved bits anyway is refused by the relay.
        parts.headers.remove(header::SEC_WEBSOCKET_EXTENSIONS);
    }
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
    let dlp = conn.snapshot.dlp.clone();
    let host = target.host.clone();
    conn.gateway.tasks.spawn(async move {
        let (client, upstream) = match tokio::try_join!(client_upgrade, upstream_upgrade) {
            Ok(pair) => pair,
            Err(e) => {
                tracing::debug!(error = %e, "websocket upgrade did not complete");
                return;
            }
        };
        let mut client = TokioIo::new(client);
        let mut upstream = TokioIo::new(upstream);
        if scan_profiles.is_empty() {
            match tokio::io::copy_bidirectional(&mut client, &mut upstream).await {
                Ok((up, _down)) => {
                    bytes_up.fetch_add(up, std::sync::atomic::Ordering::Relaxed);
                }
                Err(e) => tracing::debug!(error = %e, "websocket splice ended"),
            }
            return;
        }
        // The policy wants what the user sends scanned: inspect client frames.
        let (client_read, mut client_write) = tokio::io::split(client);
        let (mut upstream_read, mut upstream_write) = tokio::io::split(upstream);
        let profiles: Vec<&str> = scan_profiles.iter().map(String::as_str).collect();
        // The ends of the last data messages: a number split over messages is whole in the
        // seam (their ends, then the next message's start, with and without blanks).
        let carry = std::sync::Mutex::new(super::ws_seam::Window::default());
        let scan_text = |text: &str| -> Option<String> {
            let results = match dlp.scan_profiles(&profiles, text) {
                Ok(results) => results,
                Err(e) => return Some(format!("scan failed: {e}")),
            };
            let detectors = |blocks: bool| -> Vec<String> {
                results
                    .iter()
                    .filter(|r| r.matched && blocking.contains(&r.profile) == blocks)
                    .flat_map(|r| r.counts.iter().map(|c| c.detector.clone()))
                    .collect()
            };
            let logged = detectors(false);
            if !logged.is_empty() {
                // A profile whose rule only logs: the message goes on (never its content in
                // the log, only the detectors).
                tracing::info!(%host, detectors = %logged.join(","), "websocket message matched a logging DLP rule");
            }
            let blocked = detectors(true);
            (!blocked.is_empty()).then(|| blocked.join(","))
        };
        let scan = |message: &[u8], data: bool| -> Option<String> {
            // Text or binary, a message is read as a body is: JSON walked, files opened,
            // UTF-16 decoded. A scan that cannot run stops the message (fail closed).
            let text = crate::inspect::extract_text("", message, &[]).text;
            if let Some(blocked) = scan_text(&text) {
                return Some(blocked);
            }
            if !data {
                return None;
            }
            let flat = crate::inspect::json_values(message).unwrap_or(text);
            let mut carry = carry.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let seam = carry.push(&flat);
            scan_text(&seam)
        };
        let down = tokio::io::copy(&mut upstream_read, &mut client_write);
        tokio::pin!(down);
        let outcome = tokio::select! {
            outcome = relay_client_frames(client_read, &mut upstream_write, scan) => outcome,
            _ = &mut down => return,
        };
        match outcome {
            Ok(FrameOutcome::Closed) => {
                // Let the app's close reply reach the client.
                let _ = tokio::time::timeout(std::time::Duration::from_secs(2), down).await;
            }
            Ok(FrameOutcome::Blocked(detectors)) => {
                let _ = upstream_write.write_all(&client_close(1008)).await;
                tracing::warn!(%host, %detectors, "websocket message blocked by DLP; connection closed");
            }
            Ok(FrameOutcome::Protocol(violation)) => {
                let _ = upstream_write.write_all(&client_close(1002)).await;
                tracing::warn!(%host, violation, "websocket frame cannot be inspected; connection closed");
            }
            Ok(FrameOutcome::TooLarge) => {
                let _ = upstream_write.write_all(&client_close(1009)).await;
                tracing::warn!(%host, "websocket message too large to inspect; connection closed");
            }
            Err(e) => tracing::debug!(error = %e, "websocket inspection ended"),
        }
    });
    let (parts, _) = response.into_parts();
    let empty = http_body_util::Empty::new().map_err(|e| match e {}).boxed();
    Ok(Response::from_parts(parts, empty))
}
