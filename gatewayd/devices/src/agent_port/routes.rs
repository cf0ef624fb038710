//! What the tunnel port answers, per HTTP/2 stream: `POST /v1/enroll` (the only thing a
//! connection without a device certificate may do, within [`EnrollAdmission`]'s limits),
//! `POST /v1/posture` (the agent reports its device state), `POST /v1/posture/signed` (the
//! agent forwards an MDM-signed posture document), and `CONNECT host:port` (one client
//! connection of the device, handed to the daemon's [`Host::open_tunnel`]: the same tunnel
//! handling as the proxy port's CONNECT — interception, policy, DLP, events).
//!
//! Routing runs inside the connection's accept loop, so it never waits: refusals are answered
//! at once, and anything that reads a body or carries a tunnel runs in its own task. Every
//! body read here is bounded in size and time; nothing from the network can panic it.
//!
//! [`EnrollAdmission`]: super::admission::EnrollAdmission

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use agent_proto::posture::{self as limits, field_ok};
use agent_proto::{EnrollRequest, Enrolled, ENROLL_PATH, POSTURE_PATH, SIGNED_POSTURE_PATH};
use bytes::{Bytes, BytesMut};
use h2::server::SendResponse;
use h2::RecvStream;
use http::{Method, Request, Response, StatusCode};
use policies::rules::Posture;

use super::admission::Refusal;
use super::host::{Answer, Host, Opened, PortEvent, TunnelDevice};
use super::session::DeviceSession;
use super::stream::AgentStream;
use super::TunnelPort;
use crate::{posture_summary, EnrollError};

const MAX_ENROLL_BODY: usize = 64 * 1024;
const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// An enrollment request is a kilobyte sent at once: a client that trickles it is not an
/// agent, and must not hold an enrollment slot for long.
const ENROLL_BODY_TIMEOUT: Duration = Duration::from_secs(5);

/// One agent connection, as every stream on it sees it.
pub struct Agent {
    pub host: Arc<dyn Host>,
    pub port: Arc<TunnelPort>,
    /// `None` when the client presented no device certificate.
    pub session: Option<Arc<DeviceSession>>,
    pub client: SocketAddr,
}

enum Route {
    Enroll,
    Posture,
    SignedPosture,
    Connect,
    Unknown,
}

/// Routes one stream of an agent connection.
pub fn route(agent: &Agent, request: Request<RecvStream>, respond: SendResponse<Bytes>) {
    let route = match (request.method(), request.uri().path()) {
        (&Method::POST, ENROLL_PATH) => Route::Enroll,
        (&Method::POST, POSTURE_PATH) => Route::Posture,
        (&Method::POST, SIGNED_POSTURE_PATH) => Route::SignedPosture,
        (&Method::CONNECT, _) => Route::Connect,
        _ => Route::Unknown,
    };
    match (route, &agent.session) {
        (Route::Enroll, _) => {
            let permit = match agent.port.admission.request(agent.client.ip()) {
                Ok(permit) => permit,
                Err(refusal) => {
                    agent.host.count(PortEvent::Refused);
                    tracing::info!(client = %agent.client, ?refusal, "enrollment refused");
                    return send_answer(respond, refused(refusal));
                }
            };
            let (host, port) = (agent.host.clone(), agent.port.clone());
            agent.host.tasks().spawn(async move {
                let body = read_body(request.into_body(), MAX_ENROLL_BODY, ENROLL_BODY_TIMEOUT);
                let answer = match body.await {
                    Ok(body) => enroll(&*host, &port, &body).await,
                    Err(answer) => answer,
                };
                send_answer(respond, answer);
                drop(permit);
            });
        }
        (_, None) => send_answer(
            respond,
            json(
                StatusCode::UNAUTHORIZED,
                serde_json::json!({"error": "a device certificate is required: enroll with `agent enroll`"}),
            ),
        ),
        (Route::Posture, Some(session)) => {
            let session = session.clone();
            agent.host.tasks().spawn(async move {
                let body = read_body(request.into_body(), limits::MAX_BODY, BODY_TIMEOUT);
                let answer = match body.await {
                    Ok(body) => posture(&session, &body),
                    Err(answer) => answer,
                };
                send_answer(respond, answer);
            });
        }
        (Route::SignedPosture, Some(session)) => {
            let (session, port) = (session.clone(), agent.port.clone());
            let max_age = signed_max_age(&*agent.host);
            agent.host.tasks().spawn(async move {
                let body = read_body(request.into_body(), limits::MAX_SIGNED_BODY, BODY_TIMEOUT);
                let answer = match body.await {
                    Ok(body) => signed_posture(&port, &session, &body, max_age),
                    Err(answer) => answer,
                };
                send_answer(respond, answer);
            });
        }
        (Route::Connect, Some(session)) => connect(agent, session, request, respond),
        (Route::Unknown, Some(_)) => send_answer(
            respond,
            json(
                StatusCode::NOT_FOUND,
                serde_json::json!({"error": "unknown tunnel request"}),
            ),
        ),
    }
}

/// Answers a CONNECT 200 and starts the tunnel over the stream, or refuses it.
fn connect(
    agent: &Agent,
    session: &DeviceSession,
    request: Request<RecvStream>,
    mut respond: SendResponse<Bytes>,
) {
    let host = &agent.host;
    let registry = agent.port.book.current();
    let Some(device) = registry.active(&session.device_id, &session.serial) else {
        // Revoked since the connection opened: refuse at once, and close the connection.
        session.closed.cancel();
        host.count(PortEvent::Refused);
        return send_answer(
            respond,
            json(
                StatusCode::FORBIDDEN,
                serde_json::json!({"error": "this device has been revoked"}),
            ),
        );
    };
    host.count(PortEvent::Stream);
    let (posture, signed) = session.posture_now(unix_now(), signed_max_age(&**host));
    let device = TunnelDevice {
        id: device.id.clone(),
        user: device.user.clone(),
        groups: device.groups.clone(),
        posture,
        signed,
    };
    let start = match host.open_tunnel(agent.client, device, request.uri()) {
        Opened::Start(start) => start,
        Opened::Refused(answer) => return send_answer(respond, answer),
    };
    let send = match respond.send_response(Response::new(()), false) {
        Ok(send) => send,
        Err(error) => {
            tracing::debug!(%error, "CONNECT upgrade failed");
            return;
        }
    };
    let stream = AgentStream::new(send, request.into_body());
    host.tasks().spawn(start(stream));
}

/// Sends a whole answer. The request body, if the agent is still sending one, is dropped with
/// the stream: h2 then tells the agent to stop (`RST_STREAM(NO_ERROR)` after the answer).
fn send_answer(mut respond: SendResponse<Bytes>, (head, body): Answer) {
    let sent = respond
        .send_response(head, body.is_empty())
        .and_then(|mut stream| {
            if body.is_empty() {
                Ok(())
            } else {
                stream.send_data(body, true)
            }
        });
    if let Err(error) = sent {
        tracing::debug!(%error, "tunnel answer not sent: the stream is gone");
    }
}

async fn enroll(host: &dyn Host, port: &Arc<TunnelPort>, body: &[u8]) -> Answer {
    let Ok(parsed) = serde_json::from_slice::<EnrollRequest>(body) else {
        return json(
            StatusCode::BAD_REQUEST,
            serde_json::json!({"error": "expected JSON {token, csr, hostname}"}),
        );
    };
    let state_dir = port.state_dir.clone();
    let validity = host.settings().device_cert_validity;
    let port2 = port.clone();
    let result = tokio::task::spawn_blocking(move || {
        crate::enroll(
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
            host.count(PortEvent::Enrolled);
            tracing::info!(device = %enrolled.record.id, user = %enrolled.record.user, hostname = %enrolled.record.hostname, "device enrolled");
            let answer = Enrolled {
                device_id: enrolled.record.id,
                user: enrolled.record.user,
                groups: enrolled.record.groups,
                certificate: enrolled.certificate_pem,
            };
            match serde_json::to_value(answer) {
                Ok(body) => json(StatusCode::OK, body),
                // Strings only: not reached; refused rather than answered half.
                Err(_) => json(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    serde_json::json!({"error": "enrollment failed on the gateway"}),
                ),
            }
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

fn posture(session: &DeviceSession, body: &[u8]) -> Answer {
    match parse_posture(body) {
        Some(posture) => {
            tracing::info!(device = %session.device_id, posture = %posture_summary(&posture, false), "device posture reported");
            session.posture.store(Arc::new(posture));
            json(StatusCode::OK, serde_json::json!({"ok": true}))
        }
        None => json(
            StatusCode::BAD_REQUEST,
            serde_json::json!({"error": "posture must be a JSON object of at most 64 short fields"}),
        ),
    }
}

fn signed_posture(port: &TunnelPort, session: &DeviceSession, body: &[u8], max_age: i64) -> Answer {
    match port
        .mdm_keys
        .verify(body, &session.device_id, unix_now(), max_age)
    {
        Ok(signed) => {
            tracing::info!(device = %session.device_id, posture = %posture_summary(&signed.fields, true), issued_at = signed.issued_at, "signed device posture accepted");
            session.signed.store(Arc::new(Some(signed)));
            json(
                StatusCode::OK,
                serde_json::json!({"ok": true, "signed": true}),
            )
        }
        Err(error) => {
            // A refused document also withdraws an earlier one: the device's MDM state is
            // no longer what was signed.
            session.signed.store(Arc::new(None));
            tracing::warn!(device = %session.device_id, %error, "signed posture refused");
            json(
                StatusCode::FORBIDDEN,
                serde_json::json!({"error": format!("signed posture refused: {error}")}),
            )
        }
    }
}

fn signed_max_age(host: &dyn Host) -> i64 {
    let age = host.settings().signed_posture_max_age;
    i64::try_from(age.as_secs()).unwrap_or(i64::MAX)
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A JSON answer.
fn json(status: StatusCode, value: serde_json::Value) -> Answer {
    let mut head = Response::new(());
    *head.status_mut() = status;
    head.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    (head, Bytes::from(value.to_string()))
}

/// The answer to an enrollment over a limit: at once, with a hint to come back later.
fn refused(refusal: Refusal) -> Answer {
    let (status, error) = match refusal {
        Refusal::RateLimited => (
            StatusCode::TOO_MANY_REQUESTS,
            "too many enrollment attempts from this address; retry in a minute",
        ),
        Refusal::Busy => (
            StatusCode::SERVICE_UNAVAILABLE,
            "too many enrollments in progress; retry shortly",
        ),
    };
    let (mut head, body) = json(status, serde_json::json!({"error": error}));
    head.headers_mut().insert(
        http::header::RETRY_AFTER,
        http::HeaderValue::from_static("60"),
    );
    (head, body)
}

/// A flat JSON object of strings, booleans or numbers, each short; anything else is refused.
pub fn parse_posture(body: &[u8]) -> Option<Posture> {
    posture_from_map(serde_json::from_slice(body).ok()?)
}

/// [`parse_posture`] of an already parsed object (also the posture in a signed document).
pub(super) fn posture_from_map(
    value: serde_json::Map<String, serde_json::Value>,
) -> Option<Posture> {
    if value.len() > limits::MAX_FIELDS {
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
        if !field_ok(&key, &text) {
            return None;
        }
        posture.insert(key, text);
    }
    Some(posture)
}

/// Reads a request body of at most `limit` bytes within `deadline`.
async fn read_body(
    mut body: RecvStream,
    limit: usize,
    deadline: Duration,
) -> Result<Bytes, Answer> {
    let read = async {
        let mut collected = BytesMut::new();
        while let Some(chunk) = body.data().await {
            let chunk = chunk.map_err(drop)?;
            if collected.len() + chunk.len() > limit {
                return Err(());
            }
            collected.extend_from_slice(&chunk);
            // Fails only once the stream is gone, which the next read reports.
            let _ = body.flow_control().release_capacity(chunk.len());
        }
        Ok(collected.freeze())
    };
    match tokio::time::timeout(deadline, read).await {
        Ok(Ok(collected)) => Ok(collected),
        Ok(Err(())) => Err(json(
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
        assert!(
            parse_posture(br#"{"posture_signed":true}"#).is_none(),
            "only the gateway says a posture is signed"
        );
        assert!(parse_posture(b"\xff").is_none());
        let many: String = (0..65)
            .map(|i| format!("\"k{i}\":1"))
            .collect::<Vec<_>>()
            .join(",");
        assert!(parse_posture(format!("{{{many}}}").as_bytes()).is_none());
    }
}
