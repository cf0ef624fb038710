//! Reaching origin servers: resolution with hickory-dns (or `upstream.connect_to`), TCP, and
//! TLS that always verifies the certificate (public roots plus `upstream.extra_roots`), behind
//! hyper's pooled client speaking HTTP/1.1 or HTTP/2 as the origin's ALPN chooses.
//!
//! It must never hand back a connection whose certificate failed verification: such a failure
//! is an [`UpstreamError`] that the pipeline turns into a 502 block page.

mod connector;
pub mod egress;
mod error;
pub(crate) use error::error_chain;
mod resolve;
mod tls;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::combinators::BoxBody;
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

pub use connector::{UpstreamConnector, UpstreamIo};
pub use error::{ConnectError, UpstreamError};
pub use resolve::TargetResolver;

use crate::config::{Config, ConfigDuration};

/// A request or response body as the proxy passes it along.
pub type ProxyBody = BoxBody<Bytes, BodyError>;
/// Any error a body can fail with.
pub type BodyError = Box<dyn std::error::Error + Send + Sync>;

/// The upstream side of the gateway, rebuilt when its configuration changes.
pub struct Upstream {
    client: Client<UpstreamConnector, ProxyBody>,
    /// For WebSocket upgrades: HTTP/1.1 only, never pooled.
    pub(crate) upgrade_connector: UpstreamConnector,
    /// Where targets resolve and whether the egress policy allows them.
    pub(crate) resolver: Arc<TargetResolver>,
    response_head: Duration,
}

impl Upstream {
    /// Builds the pooled client from config: roots, connect_to, timeouts.
    pub fn from_config(config: &Config) -> Result<Self, String> {
        let resolver = Arc::new(TargetResolver::new(
            &config.upstream.connect_to,
            &config.egress,
        )?);
        let roots = tls::root_store(&config.upstream.extra_roots)?;
        let connect = config.timeouts.connect.0;
        let pooled = UpstreamConnector::new(
            resolver.clone(),
            tls::client_config(roots.clone(), &[b"h2", b"http/1.1"]),
            connect,
        );
        let upgrade = UpstreamConnector::new(
            resolver.clone(),
            tls::client_config(roots, &[b"http/1.1"]),
            connect,
        );
        let ConfigDuration(idle) = config.upstream.pool_idle_timeout;
        let client = Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(idle)
            .pool_max_idle_per_host(config.upstream.pool_max_idle_per_host)
            .http2_keep_alive_interval(Some(Duration::from_secs(30)))
            .http2_adaptive_window(true)
            .build(pooled);
        Ok(Self {
            client,
            upgrade_connector: upgrade,
            resolver,
            response_head: config.timeouts.response_head.0,
        })
    }

    /// Sends a request (absolute URI) and waits for the response head.
    pub async fn send(
        &self,
        request: Request<ProxyBody>,
    ) -> Result<Response<Incoming>, UpstreamError> {
        match tokio::time::timeout(self.response_head, self.client.request(request)).await {
            Err(_) => Err(UpstreamError::ResponseTimeout(self.response_head)),
            Ok(Err(e)) => Err(UpstreamError::from_client(e)),
            Ok(Ok(response)) => Ok(response),
        }
    }
}
