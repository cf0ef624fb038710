//! The daemon's side of the AI gateway's proxy path: `AiService` implements the proxy's
//! `LocalService` over the AI gateway, so a CONNECT to `aigw.host` on the proxy port or an
//! agent's tunnel — decrypted by the proxy with a Warden leaf for that name — is served by
//! `aigw` in-process, with the identity the proxy or the agent port established. The proxy
//! never depends on `aigw`; this file is the only place the two meet.
//!
//! Never: add to the identity anything the client sent (it comes from `LocalCaller` only).

use std::sync::Arc;

use aigw::access::{Arrival, IngressPath, ProxiedIdentity};
use aigw::AiGateway;
use proxy::intercept::local::{LocalCaller, LocalFuture, LocalIo, LocalService, Via};
use tokio_util::sync::CancellationToken;

/// The AI gateway as the proxy's local service at `aigw.host`.
pub struct AiService {
    pub gateway: Arc<AiGateway>,
    pub shutdown: CancellationToken,
}

impl LocalService for AiService {
    fn serve(&self, stream: Box<dyn LocalIo>, caller: LocalCaller) -> LocalFuture {
        let arrival = Arrival {
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
        };
        Box::pin(aigw::server::serve_proxied(
            stream,
            arrival,
            self.gateway.clone(),
            self.shutdown.clone(),
        ))
    }
}
