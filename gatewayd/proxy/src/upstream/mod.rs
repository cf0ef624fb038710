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
mod retry;
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
pub use error::{ConnectError, UpstreamConfigError, UpstreamError};
pub use resolve::TargetResolver;
pub use retry::Outgoing;

use crate::telemetry::events::{InternalEvent, UpstreamRetried};
use crate::telemetry::Metrics;
use config::{Config, ConfigDuration};
use retry::Replay;

/// A request or response body as the proxy passes it along.
pub type ProxyBody = BoxBody<Bytes, BodyError>;
/// Any error a body can fail with.
pub type BodyError = Box<dyn std::error::Error + Send + Sync>;

/// The upstream side of the gateway, rebuilt when its configuration changes.
pub struct Upstream {
    client: Client<UpstreamConnector, ProxyBody>,
    /// The same connector without a pool: a retry always gets a connection of its own.
    fresh: Client<UpstreamConnector, ProxyBody>,
    /// For WebSocket upgrades: HTTP/1.1 only, never pooled.
    pub(crate) upgrade_connector: UpstreamConnector,
    /// Where targets resolve and whether the egress policy allows them.
    pub(crate) resolver: Arc<TargetResolver>,
    response_head: Duration,
}

impl Upstream {
    /// Builds the pooled client from config: roots, connect_to, timeouts.
    pub fn from_config(config: &Config) -> Result<Self, UpstreamConfigError> {
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
        let mut builder = Client::builder(TokioExecutor::new());
        builder
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(idle)
            .http2_keep_alive_interval(Some(Duration::from_secs(30)))
            .http2_adaptive_window(true);
        // No idle connections kept: hyper-util disables the pool, so every request connects.
        let fresh = builder
            .clone()
            .pool_max_idle_per_host(0)
            .build(pooled.clone());
        let client = builder
            .pool_max_idle_per_host(config.upstream.pool_max_idle_per_host)
            .build(pooled);
        Ok(Self {
            client,
            fresh,
            upgrade_connector: upgrade,
            resolver,
            response_head: config.timeouts.response_head.0,
        })
    }

    /// Sends a request (absolute URI) and waits for the response head. A request the
    /// upstream did not process (GOAWAY, REFUSED_STREAM, a connection closed before use) is
    /// sent once more on a fresh connection when its body can be replayed (see `retry`);
    /// `response_head` bounds both attempts together.
    pub async fn send(
        &self,
        request: Request<Outgoing>,
        metrics: &Metrics,
    ) -> Result<Response<Incoming>, UpstreamError> {
        let deadline = tokio::time::Instant::now() + self.response_head;
        let (head, body) = request.into_parts();
        let replay = Replay::new(body);
        let first = attempt(&head, replay.attempt());
        let error = match tokio::time::timeout_at(deadline, self.client.request(first)).await {
            Err(_) => return Err(UpstreamError::ResponseTimeout(self.response_head)),
            Ok(Ok(response)) => return Ok(response),
            Ok(Err(error)) => error,
        };
        let body = match replay.attempt() {
            Some(body) if retry::not_processed(&error, &head.method) => body,
            _ => return Err(UpstreamError::from_client(error)),
        };
        let (uri, error) = (&head.uri, &error_chain(&error));
        UpstreamRetried { uri, error }.emit(metrics);
        let second = attempt(&head, Some(body));
        match tokio::time::timeout_at(deadline, self.fresh.request(second)).await {
            Err(_) => Err(UpstreamError::ResponseTimeout(self.response_head)),
            Ok(Err(e)) => Err(UpstreamError::from_client(e)),
            Ok(Ok(response)) => Ok(response),
        }
    }
}

/// One attempt's request: the head again (without extensions, which the pipeline never sets
/// on upstream requests) and the attempt's body.
fn attempt(head: &http::request::Parts, body: Option<ProxyBody>) -> Request<ProxyBody> {
    let mut request =
        Request::new(body.unwrap_or_else(|| Outgoing::Buffered(Bytes::new()).into_body()));
    *request.method_mut() = head.method.clone();
    *request.uri_mut() = head.uri.clone();
    *request.version_mut() = head.version;
    *request.headers_mut() = head.headers.clone();
    request
}
