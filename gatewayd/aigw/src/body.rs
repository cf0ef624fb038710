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
use crate::eventstream::EventStreamParser;
use crate::response_stream::{Blocked, StreamGuard};
use crate::sse::{write, SseEvent, SseParser};
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

    /// A body that is not a call (the chat page and its files): nothing to log.
    pub fn plain(bytes: Bytes) -> Self {
        Self {
            inner: Inner::Whole(Some(bytes)),
            log: None,
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

/// How a provider's stream is cut into events: SSE, or AWS's binary event-stream (Bedrock).
enum Framing {
    Sse(SseParser),
    Aws(EventStreamParser),
}

impl Framing {
    fn of(translator: &StreamTranslator) -> Self {
        match translator {
            StreamTranslator::Bedrock(_) => Self::Aws(EventStreamParser::default()),
            _ => Self::Sse(SseParser::default()),
        }
    }

    fn feed(&mut self, bytes: &[u8]) -> Result<Vec<SseEvent>, String> {
        match self {
            Self::Sse(p) => p.feed(bytes).map_err(|e| e.to_string()),
            Self::Aws(p) => p.feed(bytes).map_err(|e| e.to_string()),
        }
    }

    fn finish(&mut self) -> Result<Option<SseEvent>, String> {
        match self {
            Self::Sse(p) => p.finish().map_err(|e| e.to_string()),
            Self::Aws(p) => p.finish().map(|()| None).map_err(|e| e.to_string()),
        }
    }
}

/// A provider's stream on its way to the caller.
pub struct Relay {
    upstream: Incoming,
    parser: Framing,
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
    /// DLP on the answer (`response_dlp`), when on.
    guard: Option<StreamGuard>,
    /// Reads the caller's events back for a guard that works after translation.
    translated: SseParser,
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
            parser: Framing::of(&translator),
            translator,
            state: StreamState::default(),
            queue: VecDeque::new(),
            ended: false,
            idle,
            last_content: tokio::time::Instant::now(),
            caller,
            log,
            guard: None,
            translated: SseParser::default(),
        }
    }

    /// Scans the answer's text as it passes ([`crate::response_stream`]).
    pub fn guarded(mut self, guard: Option<StreamGuard>) -> Self {
        self.guard = guard;
        self
    }

    /// The caller's events for one provider event, through the DLP guard when there is one:
    /// before translation, or on the caller's events after it (Gemini, Bedrock, Responses).
    fn relay(&mut self, event: &SseEvent) -> Result<Vec<Bytes>, Blocked> {
        let Some(guard) = &mut self.guard else {
            return Ok(self.translator.event(event, &mut self.state));
        };
        let mut out = Vec::new();
        if guard.after_translation() {
            for bytes in self.translator.event(event, &mut self.state) {
                // Translators write whole events: the parser never holds a partial one.
                let events = self
                    .translated
                    .feed(&bytes)
                    .map_err(|_| Blocked(vec!["dlp_error".into()]))?;
                for caller_event in events {
                    for e in guard.event(&caller_event)? {
                        let name = (!e.event.is_empty()).then_some(e.event.as_str());
                        out.push(write(name, &e.data));
                    }
                }
            }
            return Ok(out);
        }
        for event in guard.event(event)? {
            out.extend(self.translator.event(&event, &mut self.state));
        }
        Ok(out)
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
                                    match self.relay(event) {
                                        Ok(out) => self.queue.extend(out),
                                        Err(Blocked(detectors)) => {
                                            self.block(&detectors);
                                            break;
                                        }
                                    }
                                }
                            }
                            Err(error) => self.cut(&error),
                        }
                    }
                }
                Ok(Some(Err(_))) => self.cut("the provider's connection failed mid-stream"),
                Ok(None) => {
                    if let Ok(Some(event)) = self.parser.finish() {
                        match self.relay(&event) {
                            Ok(out) => self.queue.extend(out),
                            Err(Blocked(detectors)) => {
                                self.block(&detectors);
                                continue;
                            }
                        }
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
        let message = format!("Warden AI gateway: {why}");
        self.end_with("stream_cut", &message, "server_error", "api_error");
    }

    /// Ends the stream because DLP found `detectors` in the answer: the caller's SDK raises
    /// with the detectors named (never the data), and nothing more of the answer is sent.
    fn block(&mut self, detectors: &[String]) {
        let message = format!(
            "Warden blocked this answer: it contains data matched by DLP ({})",
            detectors.join(", ")
        );
        self.end_with(
            "response_dlp_blocked",
            &message,
            "invalid_request_error",
            "permission_error",
        );
    }

    fn end_with(&mut self, code: &str, message: &str, openai_type: &str, anthropic_type: &str) {
        self.ended = true;
        if self.state.error.is_none() {
            self.state.error = Some(code.into());
        }
        if matches!(self.translator, StreamTranslator::Responses(_)) {
            // The Responses API's `error` event, with the error object OpenAI's SDKs raise on.
            let error =
                json!({"message": message, "type": openai_type, "param": null, "code": code});
            let data = json!({"type": "error", "code": code, "message": message, "param": null, "error": error});
            self.queue
                .push_back(write(Some("error"), &data.to_string()));
            return;
        }
        self.queue.push_back(match self.caller {
            Dialect::OpenAi | Dialect::Gemini | Dialect::Bedrock => write(
                None,
                &json!({"error": {"message": message, "type": openai_type, "param": null, "code": code}}).to_string(),
            ),
            Dialect::Anthropic => write(
                Some("error"),
                &json!({"type": "error", "error": {"type": anthropic_type, "message": message}}).to_string(),
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
        if let Some(guard) = self.guard.take() {
            let action = guard.action();
            let tally = guard.matched();
            if !tally.is_empty() {
                record.response_dlp_action = Some(action);
                record.response_findings = tally;
            }
        }
        // A caller that hung up after the provider's last event was handed to it (an SDK
        // closes on `[DONE]` or `message_stop` without waiting for the end of the body)
        // got the whole answer.
        let answered = self.state.completed && self.queue.is_empty();
        if !self.ended && !answered {
            // The caller went away before the provider finished: the tokens it reported so
            // far, or the output counted from the deltas relayed (flagged as counted).
            record.status = 499;
            record.error = Some("client_closed".into());
            record.usage = crate::hangup::usage(self.state.usage, self.state.deltas);
        } else if self.state.error.as_deref() == Some("response_dlp_blocked") {
            record.status = 403;
            record.error = self.state.error.take();
        } else if let Some(error) = self.state.error.take() {
            record.status = 502;
            if error == "stream_cut" {
                // The provider cut the stream mid-answer: the output relayed so far was
                // produced (and billed), so it is counted as for a caller's hang-up.
                record.usage = crate::hangup::usage(self.state.usage, self.state.deltas);
            }
            record.error = Some(error);
        }
    }
}
