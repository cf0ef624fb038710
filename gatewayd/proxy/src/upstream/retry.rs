//! Retrying, once and on a fresh connection, a request the upstream provably did not process,
//! so that an origin recycling its connections (HTTP/2 GOAWAY after N requests, a pooled
//! connection closed under us) never becomes a user-visible 502.
//!
//! What counts as "not processed" (see [`not_processed`]): an HTTP/2 GOAWAY with `NO_ERROR`
//! from the upstream that hit our stream (h2 applies it only to streams above the GOAWAY's
//! last-stream-id, or to streams opened after it), a `REFUSED_STREAM` reset (RFC 9113 §8.7),
//! hyper's "canceled" (the request was never written), or a failure while hyper-util was still
//! getting a connection for it (its pool's races). Those are retried whatever the method. An
//! HTTP/1.1 connection that closed before any response is ambiguous (the upstream may have
//! acted), so only GET, HEAD and OPTIONS are retried then.
//!
//! A request body can be replayed only when we still have it: a buffered body (inspected
//! bodies are whole `Bytes`) always; a streamed body while what the first attempt read of it
//! is at most 64 KiB ([`Tee`] records it, and the retry continues from the client where the
//! first attempt stopped), so a large upload is retried only if it had not started. It must
//! never send a body with a gap or twice over to one attempt, and never retry more than once.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::Method;
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Empty, Full};

use super::{BodyError, ConnectError, ProxyBody};

/// A request body as the pipeline hands it to the upstream, with what a retry needs.
pub enum Outgoing {
    /// Whole in memory (inspected, redacted, or empty): replayable.
    Buffered(Bytes),
    /// Streamed from the client: replayable only while the first attempt has not polled it.
    Streamed(ProxyBody),
}

impl Outgoing {
    /// The body as a plain stream (for paths that never retry, such as WebSocket upgrades).
    pub fn into_body(self) -> ProxyBody {
        match self {
            Self::Buffered(bytes) => full(bytes),
            Self::Streamed(body) => body,
        }
    }
}

fn full(bytes: Bytes) -> ProxyBody {
    if bytes.is_empty() {
        Empty::new().map_err(|e| match e {}).boxed()
    } else {
        Full::new(bytes).map_err(|e| match e {}).boxed()
    }
}

/// The most bytes of a streamed body kept for a replay: small requests (API calls, forms)
/// can be retried even after the first attempt sent them; larger ones only while unsent.
const REPLAY_BYTES: usize = 64 * 1024;

/// Builds attempt bodies: the same bytes again, or the streamed body replayed from what was
/// recorded of it (then continued from the client).
pub(super) enum Replay {
    Buffered(Bytes),
    Streamed(Arc<Mutex<Tee>>),
}

/// A streamed body shared by its attempts, and what the attempts have read of it so far.
pub(super) struct Tee {
    body: ProxyBody,
    /// Data frames read so far, while their total stays within `REPLAY_BYTES`.
    read: Vec<Bytes>,
    read_len: usize,
    trailers: Option<http::HeaderMap>,
    /// More than `REPLAY_BYTES` was read, or the body failed: no replay.
    lost: bool,
    ended: bool,
    /// The attempt allowed to read; older attempts get an error.
    current: u32,
}

impl Replay {
    pub(super) fn new(body: Outgoing) -> Self {
        match body {
            Outgoing::Buffered(bytes) => Self::Buffered(bytes),
            Outgoing::Streamed(body) => Self::Streamed(Arc::new(Mutex::new(Tee {
                body,
                read: Vec::new(),
                read_len: 0,
                trailers: None,
                lost: false,
                ended: false,
                current: 0,
            }))),
        }
    }

    /// The body for the next attempt, or `None` when it cannot be replayed.
    pub(super) fn attempt(&self) -> Option<ProxyBody> {
        match self {
            Self::Buffered(bytes) => Some(full(bytes.clone())),
            Self::Streamed(tee) => {
                let mut shared = lock(tee);
                if shared.lost {
                    return None;
                }
                shared.current += 1;
                Some(
                    Attempt {
                        tee: tee.clone(),
                        id: shared.current,
                        next: 0,
                    }
                    .boxed(),
                )
            }
        }
    }
}

fn lock(tee: &Mutex<Tee>) -> MutexGuard<'_, Tee> {
    // A panic while holding the lock leaves at worst a short record, which `lost` covers.
    tee.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One attempt's view of a streamed body: the recorded frames from the start, then the rest
/// read from the client (and recorded for a later attempt while small).
struct Attempt {
    tee: Arc<Mutex<Tee>>,
    id: u32,
    /// The next recorded frame this attempt replays (`read.len()` + 1 once past the trailers).
    next: usize,
}

impl Body for Attempt {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let tee = self.tee.clone();
        let mut shared = lock(&tee);
        if shared.current != self.id {
            // A later attempt owns the body now: this one must not end it cleanly.
            return Poll::Ready(Some(Err("the request body moved to a retry".into())));
        }
        if let Some(chunk) = shared.read.get(self.next) {
            let chunk = chunk.clone();
            self.next += 1;
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
        if shared.ended {
            if self.next == shared.read.len() {
                self.next += 1;
                if let Some(trailers) = shared.trailers.clone() {
                    return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
                }
            }
            return Poll::Ready(None);
        }
        let polled = Pin::new(&mut shared.body).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    shared.read_len = shared.read_len.saturating_add(data.len());
                    if shared.read_len > REPLAY_BYTES {
                        shared.lost = true;
                        shared.read = Vec::new();
                    } else if !shared.lost {
                        shared.read.push(data.clone());
                    }
                    self.next = shared.read.len();
                } else if let Some(trailers) = frame.trailers_ref() {
                    shared.trailers = Some(trailers.clone());
                }
            }
            Poll::Ready(None) => {
                shared.ended = true;
                self.next = shared.read.len() + 1;
            }
            Poll::Ready(Some(Err(_))) => shared.lost = true,
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        let shared = lock(&self.tee);
        shared.current == self.id
            && self.next >= shared.read.len()
            && (shared.ended || shared.body.is_end_stream())
            && (shared.trailers.is_none() || self.next > shared.read.len())
    }

    fn size_hint(&self) -> SizeHint {
        let shared = lock(&self.tee);
        if shared.ended {
            let left: usize = shared.read.iter().skip(self.next).map(Bytes::len).sum();
            return SizeHint::with_exact(left as u64);
        }
        let replayed: usize = shared.read.iter().skip(self.next).map(Bytes::len).sum();
        let rest = shared.body.size_hint();
        let mut hint = SizeHint::new();
        hint.set_lower(rest.lower().saturating_add(replayed as u64));
        if let Some(upper) = rest.upper() {
            hint.set_upper(upper.saturating_add(replayed as u64));
        }
        hint
    }
}

/// Whether `error` shows that the upstream did not process the request (see the module doc).
pub(super) fn not_processed(error: &hyper_util::client::legacy::Error, method: &Method) -> bool {
    // hyper-util attaches connection info to every error after the request was handed to a
    // connection. Without it, the failure came from getting a connection (pool races such as
    // "checked out connection was closed" or "ALPN upgraded to HTTP/2"): nothing was sent.
    // Our own connector's failures (DNS, TCP, certificate, egress) are final, not races.
    if error.connect_info().is_none() && !has_source::<ConnectError>(error) {
        return true;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(h2) = current.downcast_ref::<h2::Error>() {
            let reason = h2.reason();
            if h2.is_remote() && reason == Some(h2::Reason::REFUSED_STREAM) {
                return true;
            }
            return h2.is_go_away() && h2.is_remote() && reason == Some(h2::Reason::NO_ERROR);
        }
        if let Some(hyper) = current.downcast_ref::<hyper::Error>() {
            if hyper.is_canceled() {
                return true;
            }
            if hyper.is_incomplete_message() {
                return matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
            }
        }
        source = current.source();
    }
    false
}

fn has_source<E: std::error::Error + 'static>(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(error);
    while let Some(current) = source {
        if current.is::<E>() {
            return true;
        }
        source = current.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_small_streamed_body_replays_after_it_was_sent() {
        let replay = Replay::new(Outgoing::Streamed(full(Bytes::from_static(b"hello"))));
        let first = replay.attempt().expect("first attempt");
        assert_eq!(first.size_hint().exact(), Some(5));
        assert_eq!(first.collect().await.expect("body").to_bytes().len(), 5);
        let second = replay.attempt().expect("small: replayable");
        assert_eq!(second.size_hint().exact(), Some(5));
        let bytes = second.collect().await.expect("body").to_bytes();
        assert_eq!(bytes, Bytes::from_static(b"hello"));
    }

    #[tokio::test]
    async fn a_large_streamed_body_replays_only_while_unsent() {
        let big = || Outgoing::Streamed(full(Bytes::from(vec![b'x'; REPLAY_BYTES + 1])));
        let replay = Replay::new(big());
        drop(replay.attempt().expect("first"));
        let second = replay.attempt().expect("never read: replayable");
        assert_eq!(
            second.collect().await.expect("body").to_bytes().len(),
            REPLAY_BYTES + 1
        );
        assert!(replay.attempt().is_none(), "sent and too large to keep");
    }

    #[tokio::test]
    async fn an_old_attempt_cannot_end_a_body_that_moved() {
        let replay = Replay::new(Outgoing::Streamed(full(Bytes::from_static(b"x"))));
        let old = replay.attempt().expect("first");
        let new = replay.attempt().expect("second");
        assert_eq!(new.collect().await.expect("body").to_bytes().len(), 1);
        assert!(old.collect().await.is_err());
    }

    #[tokio::test]
    async fn a_buffered_body_replays_whole() {
        let replay = Replay::new(Outgoing::Buffered(Bytes::from_static(b"abc")));
        for _ in 0..2 {
            let body = replay.attempt().expect("buffered");
            assert_eq!(body.size_hint().exact(), Some(3));
            assert_eq!(body.collect().await.expect("body").to_bytes().len(), 3);
        }
    }
}
