//! The answer to a device the gateway no longer serves (revoked, or unknown to the registry):
//! its connection gets HTTP/2 just long enough to be told why — `403` with
//! `{"error": "..."}` on its first few streams — and is then closed, so the agent can tell
//! a revocation from an outage and stop retrying instead of reconnecting forever.
//!
//! Bounded: at most [`MAX_STREAMS`] answers and [`WINDOW`] of time per connection, the
//! smallest HTTP/2 allowances, and no stream's body is ever read.

use std::time::Duration;

use bytes::Bytes;
use h2::server::Builder;
use http::{Response, StatusCode};
use tokio::io::{AsyncRead, AsyncWrite};

/// How long a refused device's connection stays open to hear its answer.
const WINDOW: Duration = Duration::from_secs(5);
/// How many of its streams are answered before the connection is closed.
const MAX_STREAMS: usize = 4;

/// What the refused device is told.
pub const REVOKED: &str = "this device has been revoked";
pub const NOT_ENROLLED: &str = "this device is not enrolled with this gateway";

/// Answers the device's streams with `message` until the window ends, then closes.
pub async fn refuse<T>(io: T, message: &'static str)
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let body = Bytes::from(serde_json::json!({ "error": message }).to_string());
    let answer = async {
        let mut builder = Builder::new();
        builder
            .max_concurrent_streams(1)
            .max_header_list_size(16 * 1024)
            .max_local_error_reset_streams(Some(16));
        let mut connection = builder.handshake::<_, Bytes>(io).await?;
        let mut answered = 0;
        while let Some(next) = connection.accept().await {
            let (_request, mut respond) = next?;
            let mut head = Response::new(());
            *head.status_mut() = StatusCode::FORBIDDEN;
            head.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
            if let Ok(mut stream) = respond.send_response(head, false) {
                let _ = stream.send_data(body.clone(), true);
            }
            answered += 1;
            if answered >= MAX_STREAMS {
                connection.graceful_shutdown();
            }
        }
        Ok::<(), h2::Error>(())
    };
    if let Ok(Err(error)) = tokio::time::timeout(WINDOW, answer).await {
        tracing::debug!(%error, "refused device's connection ended");
    }
}
