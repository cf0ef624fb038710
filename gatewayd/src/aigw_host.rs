//! The daemon's side of the AI gateway's proxy path: `AiService` implements the proxy's
//! `LocalService` over the AI gateway, so a CONNECT to `aigw.host` on the proxy port or an
//! agent's tunnel — decrypted by the proxy with a Warden leaf for that name — is served by
//! `aigw` in-process, with the identity the proxy or the agent port established. The proxy
//! never depends on `aigw`; this file is the only place the two meet.
//!
//! A `route` rule's call (an AI API call that bypassed the AI gateway) is handed over one
//! request at a time: `AiService::route` serves it on an in-memory connection, so the AI
//! gateway sees it exactly as a call on the proxy path — its own parsing, limits and logging.
//!
//! Never: add to the identity anything the client sent (it comes from `LocalCaller` only).

use std::sync::Arc;

use aigw::access::{Arrival, IngressPath, ProxiedIdentity};
use aigw::AiGateway;
use http::{HeaderValue, Request};
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use proxy::intercept::local::{LocalCaller, LocalFuture, LocalIo, LocalService, RouteFuture, Via};
use proxy::upstream::ProxyBody;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Bytes in flight each way on a routed call's in-memory connection.
const ROUTE_PIPE_BYTES: usize = 64 * 1024;

/// The AI gateway as the proxy's local service at `aigw.host`.
pub struct AiService {
    pub gateway: Arc<AiGateway>,
    pub shutdown: CancellationToken,
    /// The daemon's connection tasks: a routed call's connection is one of them.
    pub tasks: TaskTracker,
}

fn arrival(caller: LocalCaller) -> Arrival {
    Arrival {
        peer: caller.client,
        path: match caller.via {
            Via::Proxy => IngressPath::Proxy,
            Via::Agent => IngressPath::Agent,
        },
        identity: Some(ProxiedIdentity {
            user: caller.user,
            groups: caller.groups,
            person: caller.person,
            device_id: caller.device_id,
        }),
    }
}

impl LocalService for AiService {
    fn serve(&self, stream: Box<dyn LocalIo>, caller: LocalCaller) -> LocalFuture {
        Box::pin(aigw::server::serve_proxied(
            stream,
            arrival(caller),
            self.gateway.clone(),
            self.shutdown.clone(),
        ))
    }

    fn route(&self, mut request: Request<ProxyBody>, caller: LocalCaller) -> Option<RouteFuture> {
        let arrival = arrival(caller);
        let (gateway, shutdown, tasks) = (
            self.gateway.clone(),
            self.shutdown.clone(),
            self.tasks.clone(),
        );
        // One call per connection: it ends with the answer.
        request
            .headers_mut()
            .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
        Some(Box::pin(async move {
            let (client, server) = tokio::io::duplex(ROUTE_PIPE_BYTES);
            tasks.spawn(aigw::server::serve_proxied(
                server, arrival, gateway, shutdown,
            ));
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake::<_, ProxyBody>(TokioIo::new(client))
                    .await
                    .map_err(|e| format!("routed call: {e}"))?;
            tasks.spawn(async move {
                if let Err(error) = connection.await {
                    tracing::debug!(%error, "routed call's connection ended with an error");
                }
            });
            let response = sender
                .send_request(request)
                .await
                .map_err(|e| format!("routed call: {e}"))?;
            Ok(response.map(|body| body.map_err(Into::into).boxed()))
        }))
    }
}
