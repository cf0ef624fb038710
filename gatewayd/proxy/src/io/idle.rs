//! Closes a connection on which no byte has moved either way for a configured time, so a
//! stalled or abandoned client cannot hold a connection slot forever.
//!
//! Activity only records a timestamp; the timer is re-armed lazily when it fires, which keeps
//! timer-wheel work off the per-read hot path.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

pin_project_lite::pin_project! {
    /// `inner` with an idle deadline pushed back by every successful read or write.
    pub struct IdleTimeout<S> {
        #[pin]
        inner: S,
        deadline: Pin<Box<Sleep>>,
        last_activity: Instant,
        idle: Duration,
    }
}

impl<S> IdleTimeout<S> {
    pub fn new(inner: S, idle: Duration) -> Self {
        Self {
            inner,
            deadline: Box::pin(tokio::time::sleep(idle)),
            last_activity: Instant::now(),
            idle,
        }
    }

    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

/// Polls the deadline; returns an error only when the connection really has been idle.
fn expired(
    deadline: &mut Pin<Box<Sleep>>,
    last_activity: Instant,
    idle: Duration,
    cx: &mut Context<'_>,
) -> bool {
    loop {
        if deadline.as_mut().poll(cx).is_pending() {
            return false;
        }
        let due = last_activity + idle;
        if due <= Instant::now() {
            return true;
        }
        deadline.as_mut().reset(due);
    }
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "connection idle timeout")
}

macro_rules! with_idle {
    ($self:ident, $cx:ident, |$inner:ident| $call:expr) => {{
        let this = $self.project();
        let $inner = this.inner;
        match $call {
            Poll::Ready(result) => {
                *this.last_activity = Instant::now();
                Poll::Ready(result)
            }
            Poll::Pending => {
                if expired(this.deadline, *this.last_activity, *this.idle, $cx) {
                    Poll::Ready(Err(timed_out()))
                } else {
                    Poll::Pending
                }
            }
        }
    }};
}

impl<S: AsyncRead> AsyncRead for IdleTimeout<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        with_idle!(self, cx, |inner| inner.poll_read(cx, buf))
    }
}

impl<S: AsyncWrite> AsyncWrite for IdleTimeout<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        with_idle!(self, cx, |inner| inner.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        with_idle!(self, cx, |inner| inner.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests own their tasks
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test(start_paused = true)]
    async fn silent_peer_times_out() {
        let (client, _server) = tokio::io::duplex(64);
        let mut guarded = IdleTimeout::new(client, Duration::from_secs(5));
        let mut buf = [0u8; 8];
        let err = guarded.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test(start_paused = true)]
    async fn activity_pushes_the_deadline_back() {
        use tokio::io::AsyncWriteExt;
        let (client, mut server) = tokio::io::duplex(64);
        let mut guarded = IdleTimeout::new(client, Duration::from_secs(5));
        let writer = tokio::spawn(async move {
            for _ in 0..3 {
                tokio::time::sleep(Duration::from_secs(3)).await;
                server.write_all(b"x").await.unwrap();
            }
            server
        });
        let mut buf = [0u8; 1];
        for _ in 0..3 {
            guarded.read_exact(&mut buf).await.unwrap();
        }
        let _server = writer.await.unwrap();
        assert!(guarded.read(&mut buf).await.is_err());
    }
}
