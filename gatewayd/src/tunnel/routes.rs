//! What the tunnel port answers, per HTTP/2 stream: `POST /v1/enroll` (the only thing a
//! connection without a device certificate may do), `POST /v1/posture` (the agent reports
//! its device state), and `CONNECT host:port` (one client connection of the device, fed into
//! the same tunnel handling as the proxy port's CONNECT: interception, policy, DLP, events).
//!
//! Every body read here is bounded in size and time; nothing from the network can panic it.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use policies::rules::Posture;

use super::session::DeviceSession;
use super::TunnelPort;
use crate::admin::api::json_response as json;
use crate::devices::{self, EnrollError};
use crate::gateway::Gateway;
use crate::identity::{DeviceIdentity, Identity};
use crate::upstream::ProxyBody;

const MAX_ENROLL_BODY: usize = 64 * 1024;
const MAX_POSTURE_BODY: usize = 16 * 1024;
const MAX_POSTURE_FIELDS: usize = 64;
const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Routes one stream of an agent connection. `session` is `None` when the client presented
/// no device certificate.
pub async fn route(
    gateway: Arc<Gateway>,
    port: Arc<TunnelPort>,
    session: Option<Arc<DeviceSession>>,
    client: SocketAddr,
    request: Request<Incoming>,
) -> Result<Response<ProxyBody>, Infallible> {
    let path = request.uri().path().to_owned();
    let response = match (request.method(), path.as_str(), session) {
        (&Method::POST, "/v1/enroll", _) => enroll(&gateway, &port, request).await,
        (_, _, None) => json(
            StatusCode::UNAUTHORIZED,
            serde_json::json!({"error": "a device certificate is required: enroll with `agent enroll`"}),
        ),
        (&Method::POST, "/v1/posture", Some(session)) => posture(&session, request).await,
        (&Method::CONNECT, _, Some(session)) => connect(gateway, &port, &session, client, request),
        _ => json(
            StatusCode::NOT_FOUND,
            serde_json::json!({"error": "unknown tunnel request"}),
        ),
    };
    Ok(response)
}

fn connect(
    gateway: Arc<Gateway>,
    port: &TunnelPort,
    session: &DeviceSession,
    client: SocketAddr,
    request: Request<Incoming>,
) -> Response<ProxyBody> {
    let registry = port.book.current();
    let Some(device) = registry.active(&session.device_id, &session.serial) else {
        // Revoked since the connection opened: refuse at once, and close the connection.
        session.closed.cancel();
        gateway.metrics.tunnel_refused.fetch_add(1, Relaxed);
        return json(
            StatusCode::FORBIDDEN,
            serde_json::json!({"error": "this device has been revoked"}),
        );
    };
    gateway.metrics.tunnel_streams.fetch_add(1, Relaxed);
    let identity = Identity {
        user: device.user.clone(),
        groups: device.groups.clone(),
        method: "device",
        device: Some(Arc::new(DeviceIdentity::new(
            device.id.clone(),
            (**session.posture.load()).clone(),
        ))),
    };
    let snapshot = gateway.snapshot();
    crate::listen::open_tunnel(gateway, snapshot, client, identity, request)
}

#[derive(serde::Deserialize)]
struct EnrollRequest {
    token: String,
    csr: String,
    #[serde(default)]
    hostname: String,
}

async fn enroll(
    gateway: &Gateway,
    port: &Arc<TunnelPort>,
    request: Request<Incoming>,
) -> Response<ProxyBody> {
    let body = match read_body(request, MAX_ENROLL_BODY).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let Ok(parsed) = serde_json::from_slice::<EnrollRequest>(&body) else {
        return json(
            StatusCode::BAD_REQUEST,
            serde_json::json!({"error": "expected JSON {token, csr, hostname}"}),
        );
    };
    let state_dir = gateway.snapshot().config.state.dir.clone();
    let validity = gateway.snapshot().config.tunnel.device_cert_validity.0;
    let port2 = port.clone();
    let result = tokio::task::spawn_blocking(move || {
        devices::enroll(
            &state_dir,
            &port2.device_ca,
            &parsed.token,
            &parsed.csr,
            &parsed.hostname,
            validity,
        )
    })
    .await;
    match result {
        Ok(Ok(enrolled)) => {
            gateway.metrics.devices_enrolled.fetch_add(1, Relaxed);
            tracing::info!(device = %enrolled.record.id, user = %enrolled.record.user, hostname = %enrolled.record.hostname, "device enrolled");
            json(
                StatusCode::OK,
                serde_json::json!({
                    "device_id": enrolled.record.id,
                    "user": enrolled.record.user,
                    "groups": enrolled.record.groups,
                    "certificate": enrolled.certificate_pem,
                }),
            )
        }
        Ok(Err(error @ EnrollError::BadToken)) => {
            tracing::warn!("enrollment refused: bad token");
            json(
                StatusCode::FORBIDDEN,
                serde_json::json!({"error": error.to_string()}),
            )
        }
        Ok(Err(error @ EnrollError::BadCsr(_))) => json(
            StatusCode::BAD_REQUEST,
            serde_json::json!({"error": error.to_string()}),
        ),
        Ok(Err(error)) => {
            tracing::error!(%error, "enrollment failed");
            json(
                StatusCode::INTERNAL_SERVER_ERROR,
                serde_json::json!({"error": "enrollment failed on the gateway; see its log"}),
            )
        }
        Err(_) => json(
            StatusCode::INTERNAL_SERVER_ERROR,
            serde_json::json!({"error": "enrollment failed on the gateway"}),
        ),
    }
}

async fn posture(session: &DeviceSession, request: Request<Incoming>) -> Response<ProxyBody> {
    let body = match read_body(request, MAX_POSTURE_BODY).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    match parse_posture(&body) {
        Some(posture) => {
            tracing::info!(device = %session.device_id, posture = %DeviceIdentity::new(String::new(), posture.clone()).summary, "device posture reported");
            session.posture.store(Arc::new(posture));
            json(StatusCode::OK, serde_json::json!({"ok": true}))
        }
        None => json(
            StatusCode::BAD_REQUEST,
            serde_json::json!({"error": "posture must be a JSON object of at most 64 short fields"}),
        ),
    }
}

/// A flat JSON object of strings, booleans or numbers, each short; anything else is refused.
pub fn parse_posture(body: &[u8]) -> Option<Posture> {
    let value: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(body).ok()?;
    if value.len() > MAX_POSTURE_FIELDS {
        return None;
    }
    let mut posture = Posture::new();
    for (key, value) in value {
        let text = match value {
            serde_json::Value::String(s) => s,
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => return None,
        };
        let clean = |s: &str| !s.is_empty() && s.len() <= 256 && !s.contains([';', '\n', '\r']);
        if key.len() > 64 || !clean(&key) || text.len() > 256 || text.contains([';', '\n', '\r']) {
            return None;
        }
        posture.insert(key, text);
    }
    Some(posture)
}

async fn read_body(request: Request<Incoming>, limit: usize) -> Result<Bytes, Response<ProxyBody>> {
    let body = Limited::new(request.into_body(), limit);
    match tokio::time::timeout(BODY_TIMEOUT, body.collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(_)) => Err(json(
            StatusCode::PAYLOAD_TOO_LARGE,
            serde_json::json!({"error": "request body too large or broken"}),
        )),
        Err(_) => Err(json(
            StatusCode::REQUEST_TIMEOUT,
            serde_json::json!({"error": "request body too slow"}),
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::parse_posture;

    #[test]
    fn posture_is_a_small_flat_object() {
        let p = parse_posture(br#"{"os":"linux","disk_encrypted":true,"uptime":5}"#).unwrap();
        assert_eq!(p["disk_encrypted"], "true");
        assert_eq!(p["uptime"], "5");
        assert!(parse_posture(br#"{"a":{"b":1}}"#).is_none());
        assert!(parse_posture(br#"{"a":"x;y"}"#).is_none());
        assert!(parse_posture(b"[1]").is_none());
        assert!(parse_posture(b"\xff").is_none());
        let many: String = (0..65)
            .map(|i| format!("\"k{i}\":1"))
            .collect::<Vec<_>>()
            .join(",");
        assert!(parse_posture(format!("{{{many}}}").as_bytes()).is_none());
    }
}
