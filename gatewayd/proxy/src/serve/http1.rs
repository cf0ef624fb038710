//! HTTP/1.1 serving that lets go of hyper's per-connection state while a keep-alive connection
//! waits for its next request.
//!
//! A hyper HTTP/1 connection holds an 8 KiB read buffer, an 8 KiB header write buffer and its
//! dispatcher for as long as it lives, also while the client merely keeps the connection open —
//! most of an idle intercepted connection's memory. After [`PARK_AFTER`] without a request in
//! flight the connection is *parked*: hyper is asked to finish (an idle hyper connection closes
//! its side at once; the stream is kept open by [`KeepOpen`], whose shutdown then only flushes), its
//! buffers are dropped, and the task waits for the client's next byte on the bare stream. That
//! byte, and anything hyper had read but not parsed, are replayed into a fresh hyper connection.
//! The client sees one keep-alive connection throughout.
//!
//! It must never change what the client sees: parking only happens with no request in flight
//! (so no response head is still to be written — hyper would add `Connection: close` to it), an
//! upgraded connection (WebSocket) is never parked again, and a client that was half-way through
//! a request head when the timer fired is resumed at once and not parked again until its next
//! request begins (so parking restarts hyper's header-read timer at most once per request).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{Request, Response};
use hyper::body::{Body, Incoming};
use hyper::server::conn::http1;
use hyper::service::Service;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::io::{Activity, Prefixed};

/// How long a connection goes without a request before it is parked. Long enough that a busy
/// keep-alive client never pays for a fresh hyper connection; short against how long idle
/// browser connections stay open.
const PARK_AFTER: Duration = Duration::from_secs(1);

/// Bound on closing the stream (TLS close_notify and FIN) once serving is over.
const CLOSE_WITHIN: Duration = Duration::from_secs(5);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Serves `io` until the client closes, `idle` or `shutdown` fires, or the connection is
/// upgraded. `header_read` is the builder's header timeout: hyper runs it while it waits for a
/// next request too, so a parked connection is closed when hyper would have closed it.
pub(super) async fn serve<I, S, B>(
    io: I,
    builder: &http1::Builder,
    header_read: Duration,
    service: S,
    activity: &Activity,
    mut idle: Pin<&mut impl Future<Output = ()>>,
    shutdown: &CancellationToken,
) -> Result<(), hyper::Error>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Unpin,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let parking = Arc::new(AtomicBool::new(false));
    let mut stream = KeepOpen {
        inner: io,
        parking: parking.clone(),
    };
    let mut replay = Bytes::new();
    // Parking is held off after resuming a half-sent request head, until the next request.
    let mut park_held_at: Option<u64> = None;
    loop {
        let io = TokioIo::new(Prefixed::new(std::mem::take(&mut replay), stream));
        // Boxed, so that a parked connection's task holds none of hyper's state.
        let mut connection = Box::new(
            builder
                .serve_connection(io, service.clone())
                .with_upgrades(),
        );
        let may_park = park_held_at.is_none_or(|begun| activity.begun() != begun);
        let park = async {
            if may_park {
                activity.idle_for(PARK_AFTER).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::pin!(park);
        // Ended any way but parking, hyper has shut the stream down (or handed it to an
        // upgrade's handler): serving is over.
        tokio::select! {
            result = &mut *connection => return result,
            () = shutdown.cancelled() => {
                Pin::new(&mut *connection).graceful_shutdown();
                return (&mut *connection).await;
            }
            () = idle.as_mut() => {
                tracing::debug!("closing a client connection without requests (timeouts.idle)");
                Pin::new(&mut *connection).graceful_shutdown();
                return (&mut *connection).await;
            }
            () = park.as_mut() => {
                parking.store(true, Ordering::Relaxed);
                Pin::new(&mut *connection).graceful_shutdown();
                (&mut *connection).await?;
                parking.store(false, Ordering::Relaxed);
            }
        }
        let Some(parts) = connection.into_parts() else {
            return Ok(());
        };
        let (unreplayed, inner) = parts.io.into_inner().into_parts();
        stream = inner;
        // Hyper read `parts.read_buf` before what the prefix still held.
        let pending = join(parts.read_buf, unreplayed);
        if !pending.is_empty() {
            park_held_at = Some(activity.begun());
            replay = pending;
            continue;
        }
        park_held_at = None;
        let waiting_since = activity.quiet_since().unwrap_or_else(Instant::now);
        let mut first = [0u8; 1];
        tokio::select! {
            read = stream.inner.read(&mut first) => match read {
                Ok(0) => {
                    close(&mut stream.inner).await;
                    return Ok(());
                }
                Ok(n) => replay = Bytes::copy_from_slice(&first[..n]),
                Err(error) => {
                    tracing::debug!(%error, "parked client connection failed");
                    return Ok(());
                }
            },
            () = shutdown.cancelled() => {
                close(&mut stream.inner).await;
                return Ok(());
            }
            () = idle.as_mut() => {
                tracing::debug!("closing a client connection without requests (timeouts.idle)");
                close(&mut stream.inner).await;
                return Ok(());
            }
            () = tokio::time::sleep_until(waiting_since + header_read) => {
                tracing::debug!("closing a client connection without a request (timeouts.header_read)");
                close(&mut stream.inner).await;
                return Ok(());
            }
        }
    }
}

fn join(first: Bytes, second: Bytes) -> Bytes {
    if first.is_empty() {
        return second;
    }
    if second.is_empty() {
        return first;
    }
    let mut both = BytesMut::with_capacity(first.len() + second.len());
    both.extend_from_slice(&first);
    both.extend_from_slice(&second);
    both.freeze()
}

async fn close<I: AsyncWrite + Unpin>(stream: &mut I) {
    if let Err(error) = tokio::time::timeout(CLOSE_WITHIN, stream.shutdown()).await {
        tracing::debug!(%error, "closing a client connection timed out");
    }
}

/// The stream as hyper sees it: while `parking` is set, hyper's shutdown at the end of the
/// connection only flushes, so the parked stream stays open. Otherwise (a connection that
/// ends, an upgraded one when its handler is done) shutdown is the stream's own.
struct KeepOpen<I> {
    inner: I,
    parking: Arc<AtomicBool>,
}

impl<I: AsyncRead + Unpin> AsyncRead for KeepOpen<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for KeepOpen<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.parking.load(Ordering::Relaxed) {
            Pin::new(&mut self.inner).poll_flush(cx)
        } else {
            Pin::new(&mut self.inner).poll_shutdown(cx)
        }
    }
}
