//! The bodies the gateway answers with. Each carries the call's [`CallLog`], so the log
//! phase runs when the body ends or is dropped. A streamed answer is a [`Relay`]: provider
//! bytes in, SSE events parsed and translated as they come, caller events out; nothing is
//! buffered beyond the event being parsed.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt};
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::json;

use crate::call_log::CallLog;
use crate::dialect::Dialect;
use crate::sse::{write, SseParser};
use crate::translate::stream::{StreamState, StreamTranslator};

/// An answer's body.
pub struct CallBody {
    inner: Inner,
    /// Dropped (and so logged) when a whole body has been sent.
    log: Option<CallLog>,
}

enum Inner {
    Whole(Option<Bytes>),
    Stream(BoxStream<'static, Bytes>),
}

impl CallBody {
    pub fn whole(bytes: Bytes, log: CallLog) -> Self {
        Self {
            inner: Inner::Whole(Some(bytes)),
            log: Some(log),
        }
    }

    pub fn stream(relay: Relay) -> Self {
        let stream = futures_util::stream::unfold(relay, |mut relay| async move {
            relay.next().await.map(|bytes| (bytes, relay))
        });
        Self {
            inner: Inner::Stream(stream.boxed()),
            log: None,
        }
    }
}

impl Body for CallBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        match &mut this.inner {
            Inner::Whole(bytes) => {
                let next = bytes.take();
                if next.is_none() {
                    this.log.take();
                }
                Poll::Ready(next.map(|b| Ok(Frame::data(b))))
            }
            Inner::Stream(stream) => stream
                .poll_next_unpin(cx)
                .map(|next| next.map(|b| Ok(Frame::data(b)))),
        }
    }
}

/// A provider's stream on its way to the caller.
pub struct Relay {
    upstream: Incoming,
    parser: SseParser,
    translator: StreamTranslator,
    state: StreamState,
    queue: VecDeque<Bytes>,
    /// The provider's side is over (ended, failed or timed out).
    ended: bool,
    idle: Duration,
    /// When the provider last sent an event with content (pings and comments do not count:
    /// a provider that only keeps the line alive is idle).
    last_content: tokio::time::Instant,
    caller: Dialect,
    log: CallLog,
}

impl Relay {
    pub fn new(
        upstream: Incoming,
        translator: StreamTranslator,
        idle: Duration,
        caller: Dialect,
        log: CallLog,
    ) -> Self {
        Self {
            upstream,
            parser: SseParser::default(),
            translator,
            state: StreamState::default(),
            queue: VecDeque::new(),
            ended: false,
            idle,
            last_content: tokio::time::Instant::now(),
            caller,
            log,
        }
    }

    async fn next(&mut self) -> Option<Bytes> {
        loop {
            if let Some(bytes) = self.queue.pop_front() {
                return Some(bytes);
            }
            if self.ended {
                return None;
            }
            let left = self.idle.saturating_sub(self.last_content.elapsed());
            if left.is_zero() {
                self.cut("the provider sent no content for stream_idle_timeout");
                continue;
            }
            match tokio::time::timeout(left, self.upstream.frame()).await {
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        match self.parser.feed(&data) {
                            Ok(events) => {
                                for event in &events {
                                    if event.event != "ping" && !event.data.trim().is_empty() {
                                        self.last_content = tokio::time::Instant::now();
                                    }
                                    let out = self.translator.event(event, &mut self.state);
                                    self.queue.extend(out);
                                }
                            }
                            Err(error) => self.cut(&error.to_string()),
                        }
                    }
                }
                Ok(Some(Err(_))) => self.cut("the provider's connection failed mid-stream"),
                Ok(None) => {
                    if let Ok(Some(event)) = self.parser.finish() {
                        let out = self.translator.event(&event, &mut self.state);
                        self.queue.extend(out);
                    }
                    if self.state.completed || self.state.error.is_some() {
                        self.ended = true;
                    } else {
                        self.cut("the provider's stream ended before the answer was complete");
                    }
                }
                Err(_) => self.cut("the provider sent nothing for stream_idle_timeout"),
            }
        }
    }

    /// Ends the stream early with an error event in the caller's dialect, so its SDK raises
    /// instead of taking a cut answer for a whole one.
    fn cut(&mut self, why: &str) {
        self.ended = true;
        if self.state.error.is_none() {
            self.state.error = Some("stream_cut".into());
        }
        let message = format!("Warden AI gateway: {why}");
        self.queue.push_back(match self.caller {
            Dialect::OpenAi | Dialect::Gemini => write(
                None,
                &json!({"error": {"message": message, "type": "server_error", "param": null, "code": "stream_cut"}}).to_string(),
            ),
            Dialect::Anthropic => write(
                Some("error"),
                &json!({"type": "error", "error": {"type": "api_error", "message": message}}).to_string(),
            ),
        });
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let record = self.log.record_mut();
        record.usage = self.state.usage;
        record.first_token = self.state.first_token;
        if let Some(model) = self.state.model_served.take() {
            record.model_served = Some(model);
        }
        // A caller that hung up after the provider's last event was handed to it (an SDK
        // closes on `[DONE]` or `message_stop` without waiting for the end of the body)
        // got the whole answer.
        let answered = self.state.completed && self.queue.is_empty();
        if !self.ended && !answered {
            // The caller went away before the provider finished.
            record.status = 499;
            record.error = Some("client_closed".into());
        } else if let Some(error) = self.state.error.take() {
            record.status = 502;
            record.error = Some(error);
        }
    }
}
