//! CONNECT: validate the target, ask the egress policy what it can answer without DNS,
//! answer 200 (or the refusal), and hand the upgraded stream to `intercept`.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tracing::Instrument;

use super::simple_parts;
use crate::gateway::{Gateway, Snapshot};
use crate::identity::Identity;
use crate::intercept::{handle_tunnel, refuse_at_connect, Tunnel};
use crate::respond::{wants_json, with_body};
use crate::upstream::ProxyBody;

/// Parses an authority-form CONNECT target into host and port; rejects anything else. Shared
/// by the proxy port and the agent tunnel port.
pub fn parse_target(target: &Uri) -> Option<(String, u16)> {
    let authority = target.authority()?;
    if target.scheme().is_some()
        || target
            .path_and_query()
            .is_some_and(|p| p.as_str() != "/" && !p.as_str().is_empty())
    {
        return None;
    }
    let port = authority.port_u16()?;
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    if host.is_empty() || port == 0 {
        return None;
    }
    Some((host.to_string(), port))
}

/// The answer to a CONNECT without a usable `host:port` target, on either port.
pub fn bad_target() -> (Response<()>, Bytes) {
    simple_parts(
        StatusCode::BAD_REQUEST,
        "error",
        "request.connect_target",
        "CONNECT needs a host:port target.\n",
    )
}

/// Answers a CONNECT and starts the tunnel once hyper hands over the connection; `held` (the
/// connection's limit slots) is kept until the tunnel ends.
pub fn open_tunnel(
    gateway: Arc<Gateway>,
    snapshot: Arc<Snapshot>,
    client: SocketAddr,
    identity: Identity,
    request: Request<Incoming>,
    held: impl Send + 'static,
) -> Response<ProxyBody> {
    let Some((host, port)) = parse_target(request.uri()) else {
        return with_body(bad_target());
    };
    let tunnel = Tunnel {
        gateway: gateway.clone(),
        snapshot,
        client,
        identity,
        host,
        port,
    };
    let json = wants_json(request.headers(), &tunnel.host);
    if let Some(answer) = refuse_at_connect(&tunnel, json) {
        return with_body(answer);
    }
    // The outcome fields are filled by the tunnel's log record (`pipeline::tunnel_log`).
    let span = tracing::debug_span!(
        "tunnel",
        %client,
        target = %tunnel.host,
        port,
        "warden.action" = tracing::field::Empty,
        "warden.rule" = tracing::field::Empty,
        "warden.app" = tracing::field::Empty,
        "warden.refused" = tracing::field::Empty,
        "error.type" = tracing::field::Empty,
    );
    gateway.tasks.spawn(
        async move {
            let upgraded = match hyper::upgrade::on(request).await {
                Ok(upgraded) => upgraded,
                Err(error) => {
                    tracing::debug!(%error, "CONNECT upgrade failed");
                    return;
                }
            };
            handle_tunnel(tunnel, TokioIo::new(upgraded)).await;
            // The connection's slots (port, source, user) stay taken while the tunnel is open.
            drop(held);
        }
        .instrument(span),
    );
    Response::new(Empty::new().map_err(|e| match e {}).boxed())
}
