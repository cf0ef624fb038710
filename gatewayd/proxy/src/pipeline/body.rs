//! Body wrappers: count the bytes that pass, and run the log phase when a response body is
//! finished or dropped (so it runs for completed, aborted and refused transactions alike).

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use super::log::TransactionLog;

pin_project_lite::pin_project! {
    /// A body that adds the length of every data frame to a shared counter.
    pub struct CountingBody<B> {
        #[pin]
        inner: B,
        counter: Arc<AtomicU64>,
    }
}

impl<B> CountingBody<B> {
    pub fn new(inner: B, counter: Arc<AtomicU64>) -> Self {
        Self { inner, counter }
    }
}

impl<B: Body<Data = Bytes>> Body for CountingBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                this.counter.fetch_add(data.len() as u64, Relaxed);
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

pin_project_lite::pin_project! {
    /// The response body sent to the client; dropping it completes the transaction's log.
    pub struct LoggedBody<B> {
        #[pin]
        inner: CountingBody<B>,
        log: Option<TransactionLog>,
    }

    impl<B> PinnedDrop for LoggedBody<B> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(log) = this.log.take() {
                log.finish();
            }
        }
    }
}

impl<B> LoggedBody<B> {
    pub fn new(inner: B, log: TransactionLog) -> Self {
        let counter = log.bytes_down.clone();
        Self {
            inner: CountingBody::new(inner, counter),
            log: Some(log),
        }
    }
}

impl<B: Body<Data = Bytes>> Body for LoggedBody<B>
where
    B::Error: std::fmt::Display,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        match &polled {
            Poll::Ready(None) => {
                if let Some(log) = this.log.take() {
                    log.finish();
                }
            }
            Poll::Ready(Some(Err(e))) => {
                if let Some(log) = this.log.as_mut() {
                    log.body_error = Some(e.to_string());
                }
            }
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

pin_project_lite::pin_project! {
    /// Bytes already read from a body, followed by the rest of that body.
    pub struct Prepended<B> {
        head: Option<Bytes>,
        #[pin]
        rest: B,
    }
}

impl<B> Prepended<B> {
    pub fn new(head: Bytes, rest: B) -> Self {
        Self {
            head: Some(head).filter(|h| !h.is_empty()),
            rest,
        }
    }
}

impl<B> Body for Prepended<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<crate::upstream::BodyError>,
{
    type Data = Bytes;
    type Error = crate::upstream::BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.project();
        if let Some(head) = this.head.take() {
            return Poll::Ready(Some(Ok(Frame::data(head))));
        }
        this.rest
            .poll_frame(cx)
            .map(|f| f.map(|r| r.map_err(Into::into)))
    }
}

/// Called once with the first data frame of a body.
pub type FirstChunkHook = Box<dyn FnOnce(&[u8]) + Send + Sync>;

pin_project_lite::pin_project! {
    /// A body that shows its first data frame to a hook (shadow-AI discovery of streamed
    /// completions) and is otherwise untouched.
    pub struct Sniffed<B> {
        #[pin]
        inner: B,
        hook: Option<FirstChunkHook>,
    }
}

impl<B> Sniffed<B> {
    pub fn new(inner: B, hook: FirstChunkHook) -> Self {
        Self {
            inner,
            hook: Some(hook),
        }
    }
}

impl<B: Body<Data = Bytes>> Body for Sniffed<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                if let Some(hook) = this.hook.take() {
                    hook(data);
                }
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Most bytes of a request body drained after the upstream stopped reading it.
const DRAIN_LIMIT: u64 = 64 * 1024 * 1024;

pin_project_lite::pin_project! {
    /// A client request body going upstream. When the upstream answers before reading all of
    /// it (an early 413 or 401) and the body is dropped, the rest is read and discarded in the
    /// background (bounded), so the client's connection is not reset under it and the client
    /// sees the upstream's response.
    pub struct DrainOnDrop {
        #[pin]
        inner: Option<hyper::body::Incoming>,
    }

    impl PinnedDrop for DrainOnDrop {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // Incoming is Unpin, so taking it out of the pinned option is sound.
            let Some(mut body) = Pin::into_inner(this.inner).take() else { return };
            if body.is_end_stream() {
                return;
            }
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                // Untracked on purpose: draining an upstream body only lets its pooled
                // connection be reused; at shutdown there is nothing to reuse it for.
                #[allow(clippy::disallowed_methods)]
                handle.spawn(async move {
                    use http_body_util::BodyExt;
                    let mut drained = 0u64;
                    let deadline = tokio::time::sleep(std::time::Duration::from_secs(30));
                    tokio::pin!(deadline);
                    loop {
                        tokio::select! {
                            frame = body.frame() => match frame {
                                Some(Ok(frame)) => {
                                    drained += frame.data_ref().map_or(0, |d| d.len() as u64);
                                    if drained > DRAIN_LIMIT {
                                        break;
                                    }
                                }
                                _ => break,
                            },
                            () = &mut deadline => break,
                        }
                    }
                });
            }
        }
    }
}

impl DrainOnDrop {
    pub fn new(inner: hyper::body::Incoming) -> Self {
        Self { inner: Some(inner) }
    }
}

impl Body for DrainOnDrop {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.project().inner.as_pin_mut() {
            Some(inner) => inner.poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(|b| b.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map(|b| b.size_hint())
            .unwrap_or_default()
    }
}
