//! Serving HTTP on an accepted stream (HTTP/1.1 with upgrades, or HTTP/2) with the configured
//! timeouts and limits, and finishing gracefully when the gateway shuts down — or when the
//! connection has carried no request for `timeouts.idle` (PINGs and keep-alive do not count;
//! a request in flight, however long its response, keeps it open). An HTTP/1.1 connection
//! waiting for its next request is parked without hyper's buffers (`http1.rs`).

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;

mod http1;

use crate::io::{Activity, HoldBody};
use crate::upstream::ProxyBody;
use config::Config;

/// Which protocol to speak on the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http1,
    Http2,
}

/// Serves `io` until the client closes, a timeout fires, or shutdown completes the
/// in-flight requests.
pub async fn serve_http<I, F, Fut>(
    io: I,
    protocol: Protocol,
    config: &Config,
    shutdown: CancellationToken,
    handler: F,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    F: Fn(Request<Incoming>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<ProxyBody>, Infallible>> + Send + 'static,
{
    let handler = Arc::new(handler);
    let activity = Activity::new();
    let requests = activity.clone();
    let service = service_fn(move |request| {
        let handler = handler.clone();
        let in_flight = requests.begin();
        async move {
            let response = handler(request).await?;
            Ok::<_, Infallible>(response.map(|body| HoldBody::new(body, in_flight).boxed()))
        }
    });
    let idle = activity.idle_for(config.timeouts.idle.0);
    tokio::pin!(idle);
    let result = match protocol {
        Protocol::Http1 => {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(config.timeouts.header_read.0)
                .max_buf_size(config.limits.max_header_bytes.max(8192));
            http1::serve(
                io,
                &builder,
                config.timeouts.header_read.0,
                service,
                &activity,
                idle,
                &shutdown,
            )
            .await
        }
        Protocol::Http2 => {
            let mut builder = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
            builder
                .timer(TokioTimer::new())
                .max_header_list_size(
                    u32::try_from(config.limits.max_header_bytes).unwrap_or(u32::MAX),
                )
                .keep_alive_interval(Some(Duration::from_secs(30)))
                .adaptive_window(true);
            // Boxed: h2's connection state is large, and inline it would size every
            // connection's task, HTTP/1.1 ones included.
            let mut connection = Box::pin(builder.serve_connection(TokioIo::new(io), service));
            tokio::select! {
                result = connection.as_mut() => result,
                () = shutdown.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
                () = idle.as_mut() => {
                    tracing::debug!("closing a client connection without requests (timeouts.idle)");
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            }
        }
    };
    if let Err(error) = result {
        tracing::debug!(%error, "client connection ended with an error");
    }
}
