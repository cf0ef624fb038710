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
