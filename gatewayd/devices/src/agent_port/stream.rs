//! One agent CONNECT stream as a byte stream: tokio `AsyncRead + AsyncWrite` over the h2
//! stream's two halves, so `intercept::handle_tunnel` reads and writes it like a TCP socket.
//!
//! Reads hand out the peer's DATA frames as they come and give their bytes back to the flow
//! control window once consumed; the peer's end of stream (or a NO_ERROR / CANCEL reset) reads
//! as EOF. Writes send no more than the capacity h2 assigned to the stream, so nothing is
//! buffered beyond the flow-control windows; a reset or closed stream fails them with
//! `BrokenPipe`. Shutdown ends our half with an empty DATA frame. It must never spawn or
//! buffer without bound: the connection's own driver moves the frames.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes};
use h2::{Reason, RecvStream, SendStream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The bytes of one CONNECT stream of an agent connection.
pub struct AgentStream {
    send: SendStream<Bytes>,
    recv: RecvStream,
    /// What is left of the last DATA frame read.
    pending: Bytes,
    /// The peer ended its half (end of stream or a graceful reset).
    read_done: bool,
    /// Our half is ended (the empty end-of-stream DATA frame went out).
    write_done: bool,
}

impl AgentStream {
    pub fn new(send: SendStream<Bytes>, recv: RecvStream) -> Self {
        Self {
            send,
            recv,
            pending: Bytes::new(),
            read_done: false,
            write_done: false,
        }
    }

    /// Waits for the next non-empty DATA frame; `false` once the peer's half has ended.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<bool>> {
        while self.pending.is_empty() && !self.read_done {
            match ready!(self.recv.poll_data(cx)) {
                Some(Ok(data)) => self.pending = data,
                Some(Err(error)) if ends_gracefully(&error) => self.read_done = true,
                Some(Err(error)) => return Poll::Ready(Err(read_error(error))),
                None => self.read_done = true,
            }
        }
        Poll::Ready(Ok(!self.pending.is_empty()))
    }
}

/// A reset that means "no more data" rather than "something broke".
fn ends_gracefully(error: &h2::Error) -> bool {
    matches!(error.reason(), Some(Reason::NO_ERROR | Reason::CANCEL))
}

/// A read failure: the connection's own I/O error when there is one, else the h2 error.
fn read_error(error: h2::Error) -> io::Error {
    if error.is_io() {
        if let Some(io) = error.into_io() {
            return io;
        }
        return io::ErrorKind::BrokenPipe.into();
    }
    io::Error::other(error)
}

/// A write failure: whatever the cause (reset, closed stream, connection gone), the bytes
/// have nowhere to go.
fn broken_pipe(cause: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, cause.to_string())
}

impl AsyncRead for AgentStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if buf.remaining() == 0 || !ready!(this.poll_fill(cx))? {
            return Poll::Ready(Ok(()));
        }
        let n = this.pending.len().min(buf.remaining());
        buf.put_slice(&this.pending[..n]);
        this.pending.advance(n);
        // Only fails when the stream is already gone; the next read reports that.
        let _ = this.recv.flow_control().release_capacity(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for AgentStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if this.write_done {
            return Poll::Ready(Err(broken_pipe("write after shutdown")));
        }
        loop {
            let capacity = this.send.capacity();
            if capacity > 0 {
                let n = capacity.min(buf.len());
                this.send
                    .send_data(Bytes::copy_from_slice(&buf[..n]), false)
                    .map_err(broken_pipe)?;
                return Poll::Ready(Ok(n));
            }
            // The request is the total wanted, not an increment: asking again is harmless.
            this.send.reserve_capacity(buf.len());
            match this.send.poll_capacity(cx) {
                Poll::Ready(Some(Ok(_))) => {}
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Err(broken_pipe(error))),
                Poll::Ready(None) => return Poll::Ready(Err(broken_pipe("stream closed"))),
                Poll::Pending => {
                    // No capacity yet; a reset by the peer must still wake and fail us.
                    return match this.send.poll_reset(cx) {
                        Poll::Ready(Ok(reason)) => {
                            Poll::Ready(Err(broken_pipe(format!("stream reset: {reason}"))))
                        }
                        Poll::Ready(Err(error)) => Poll::Ready(Err(broken_pipe(error))),
                        Poll::Pending => Poll::Pending,
                    };
                }
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Sent data sits in h2's queue, within the windows; the connection driver writes it.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.write_done {
            this.write_done = true;
            // Hand back capacity a partial write left reserved, for the connection's other
            // streams.
            this.send.reserve_capacity(0);
            this.send
                .send_data(Bytes::new(), true)
                .map_err(broken_pipe)?;
        }
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests;
