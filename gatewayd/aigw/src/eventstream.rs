//! AWS's binary event-stream framing (Bedrock's `converse-stream` answers), read
//! incrementally into the same [`SseEvent`]s the SSE parser yields, so one relay serves
//! both: each message's `:event-type` becomes the event's name and its JSON payload its
//! data; an exception message (`:message-type` = `exception`, or `error`) becomes an event
//! named `exception` whose data is `{"type": ..., "message": ...}`.
//!
//! Messages are decoded by the maintained `aws-smithy-eventstream` crate, which checks both
//! CRCs; this module only cuts the byte stream into whole messages. Never: buffer more than
//! one message of at most [`MAX_MESSAGE`] bytes, or pass on a message whose checksums fail.

use aws_smithy_eventstream::frame::read_message_from;
use aws_smithy_types::event_stream::{HeaderValue, Message};
use bytes::{Buf, BytesMut};
use serde_json::json;

use crate::sse::SseEvent;

/// The largest message accepted (Bedrock's deltas are a few hundred bytes).
pub const MAX_MESSAGE: usize = 1024 * 1024;
/// A prelude (total length, headers length, prelude CRC) and the message CRC.
const MIN_MESSAGE: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum EventStreamError {
    #[error("an event-stream message of {0} bytes (at most {MAX_MESSAGE})")]
    TooLarge(usize),
    #[error("an event-stream message that is not valid ({0})")]
    Invalid(String),
    #[error("the event stream ended inside a message")]
    Truncated,
}

/// The decoder's state between chunks: the bytes of the unfinished message.
#[derive(Debug, Default)]
pub struct EventStreamParser {
    buffer: BytesMut,
}

impl EventStreamParser {
    /// Feeds `bytes`; returns the events of the messages they completed.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<SseEvent>, EventStreamError> {
        let mut events = Vec::new();
        let mut rest = bytes;
        loop {
            // Take only what the current message still needs, so the buffer never holds
            // more than one message whatever the provider sends.
            let need = self.needed()?;
            let take = need.saturating_sub(self.buffer.len()).min(rest.len());
            self.buffer.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.buffer.len() < need {
                // `take` was short only because `rest` ran out.
                return Ok(events);
            }
            if need < MIN_MESSAGE {
                // The 4 length bytes are in: the next turn reads (and bounds) the length.
                self.needed()?;
                continue;
            }
            let mut message = self.buffer.split_to(need).freeze();
            let message = read_message_from(&mut message)
                .map_err(|e| EventStreamError::Invalid(e.to_string()))?;
            events.push(event(&message));
            if rest.is_empty() {
                return Ok(events);
            }
        }
    }

    /// The length of the message being read: its prelude's total length once its first 4
    /// bytes are in (bounded), 4 until then.
    fn needed(&self) -> Result<usize, EventStreamError> {
        if self.buffer.len() < 4 {
            return Ok(4);
        }
        let total = (&self.buffer[..4]).get_u32() as usize;
        if total > MAX_MESSAGE {
            return Err(EventStreamError::TooLarge(total));
        }
        if total < MIN_MESSAGE {
            return Err(EventStreamError::Invalid(format!("a length of {total}")));
        }
        Ok(total)
    }

    /// At the end of the stream: an unfinished message is an error.
    pub fn finish(&mut self) -> Result<(), EventStreamError> {
        if self.buffer.is_empty() {
            Ok(())
        } else {
            Err(EventStreamError::Truncated)
        }
    }
}

fn header<'a>(message: &'a Message, name: &str) -> Option<&'a str> {
    message
        .headers()
        .iter()
        .find(|h| h.name().as_str() == name)
        .and_then(|h| match h.value() {
            HeaderValue::String(s) => Some(s.as_str()),
            _ => None,
        })
}

fn event(message: &Message) -> SseEvent {
    let payload = String::from_utf8_lossy(message.payload()).into_owned();
    match header(message, ":message-type") {
        Some("event") | None => SseEvent {
            event: header(message, ":event-type")
                .unwrap_or_default()
                .to_string(),
            data: payload,
        },
        Some(_) => {
            let kind = header(message, ":exception-type")
                .or_else(|| header(message, ":error-code"))
                .unwrap_or("exception");
            let text = serde_json::from_str::<serde_json::Value>(&payload)
                .ok()
                .and_then(|v| {
                    v["message"]
                        .as_str()
                        .or(v["Message"].as_str())
                        .map(str::to_string)
                })
                .or_else(|| header(message, ":error-message").map(str::to_string))
                .unwrap_or_default();
            SseEvent {
                event: "exception".into(),
                data: json!({"type": kind, "message": text}).to_string(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_smithy_eventstream::frame::write_message_to;
    use aws_smithy_types::event_stream::Header;

    use super::*;

    fn message(kind: &str, name: &str, payload: &str) -> Vec<u8> {
        let type_header = if kind == "event" {
            ":event-type"
        } else {
            ":exception-type"
        };
        let m = Message::new(payload.as_bytes().to_vec())
            .add_header(Header::new(
                ":message-type",
                HeaderValue::String(kind.to_string().into()),
            ))
            .add_header(Header::new(
                type_header,
                HeaderValue::String(name.to_string().into()),
            ))
            .add_header(Header::new(
                ":content-type",
                HeaderValue::String("application/json".to_string().into()),
            ));
        let mut out = Vec::new();
        write_message_to(&m, &mut out).unwrap();
        out
    }

    #[test]
    fn messages_split_anywhere_come_out_whole() {
        let mut wire = message("event", "messageStart", r#"{"role":"assistant"}"#);
        wire.extend(message(
            "event",
            "contentBlockDelta",
            r#"{"contentBlockIndex":0,"delta":{"text":"Hé"}}"#,
        ));
        wire.extend(message(
            "exception",
            "throttlingException",
            r#"{"message":"slow down"}"#,
        ));
        for step in [1, 2, 3, 7, 13, wire.len()] {
            let mut parser = EventStreamParser::default();
            let mut events = Vec::new();
            for piece in wire.chunks(step) {
                events.extend(parser.feed(piece).unwrap());
            }
            parser.finish().unwrap();
            assert_eq!(events.len(), 3, "step {step}");
            assert_eq!(events[0].event, "messageStart");
            assert!(events[1].data.contains("Hé"));
            assert_eq!(events[2].event, "exception");
            assert_eq!(
                events[2].data,
                r#"{"message":"slow down","type":"throttlingException"}"#
            );
        }
    }

    /// Hostile bytes (random, or a valid stream with bytes flipped and lengths forged) end in
    /// an error or in events, never a panic or an unbounded buffer.
    #[test]
    fn hostile_bytes_never_panic_and_never_grow_the_buffer() {
        let valid = message("event", "contentBlockDelta", r#"{"delta":{"text":"x"}}"#);
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..2000 {
            let mut bytes = if round % 2 == 0 {
                valid.repeat(3)
            } else {
                (0..64).map(|_| next() as u8).collect()
            };
            for _ in 0..(next() % 4) {
                let at = (next() as usize) % bytes.len();
                bytes[at] = next() as u8;
            }
            let mut parser = EventStreamParser::default();
            let step = 1 + (next() as usize) % 9;
            for piece in bytes.chunks(step) {
                if parser.feed(piece).is_err() {
                    break;
                }
                assert!(parser.buffer.len() <= MAX_MESSAGE);
            }
        }
    }

    #[test]
    fn bad_checksums_huge_lengths_and_cut_messages_are_errors() {
        let good = message("event", "messageStop", r#"{"stopReason":"end_turn"}"#);
        let mut flipped = good.clone();
        let last = flipped.len() - 6;
        flipped[last] ^= 1;
        assert!(EventStreamParser::default().feed(&flipped).is_err());
        let mut prelude = good.clone();
        prelude[9] ^= 1;
        assert!(EventStreamParser::default().feed(&prelude).is_err());
        let huge = [0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0];
        assert!(matches!(
            EventStreamParser::default().feed(&huge),
            Err(EventStreamError::TooLarge(_))
        ));
        assert!(EventStreamParser::default().feed(&[0, 0, 0, 3]).is_err());
        let mut cut = EventStreamParser::default();
        assert!(cut.feed(&good[..good.len() - 1]).unwrap().is_empty());
        assert!(matches!(cut.finish(), Err(EventStreamError::Truncated)));
    }
}
