//! Server-sent events, read incrementally: bytes arrive split anywhere (inside a line, a
//! `\r\n`, a UTF-8 character), events come out whole as soon as their blank line arrives.
//! Comments (`: ping`) are skipped. A line longer than [`MAX_LINE`] is an error, so a
//! provider cannot make the gateway buffer without bound.
//!
//! Never: hold more than one unfinished line and one unfinished event.

use bytes::{Bytes, BytesMut};

/// The longest line accepted (a provider's biggest chunk is far smaller).
pub const MAX_LINE: usize = 4 * 1024 * 1024;

/// One event: its `event:` name (empty when none) and its `data:` lines joined by `\n`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    pub event: String,
    pub data: String,
}

/// The parser's state between chunks.
#[derive(Debug, Default)]
pub struct SseParser {
    line: BytesMut,
    /// The previous chunk ended in `\r`: a `\n` first in the next one belongs to it.
    after_cr: bool,
    event: String,
    data: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SseError {
    #[error("an event stream line over {MAX_LINE} bytes")]
    LineTooLong,
    #[error("an event stream line that is not UTF-8")]
    NotUtf8,
}

impl SseParser {
    /// Feeds `bytes`; returns the events they completed.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        let mut events = Vec::new();
        let mut rest = bytes;
        if self.after_cr {
            self.after_cr = false;
            if let Some(stripped) = rest.strip_prefix(b"\n") {
                rest = stripped;
            }
        }
        while let Some(end) = rest.iter().position(|b| *b == b'\n' || *b == b'\r') {
            self.push(&rest[..end])?;
            if rest[end] == b'\r' {
                match rest.get(end + 1) {
                    Some(b'\n') => rest = &rest[end + 2..],
                    Some(_) => rest = &rest[end + 1..],
                    None => {
                        self.after_cr = true;
                        rest = &[];
                    }
                }
            } else {
                rest = &rest[end + 1..];
            }
            let line = std::mem::take(&mut self.line);
            if let Some(event) = self.line_done(&line)? {
                events.push(event);
            }
        }
        self.push(rest)?;
        Ok(events)
    }

    /// Whatever a stream that ended without a final blank line left (an unterminated event).
    pub fn finish(&mut self) -> Result<Option<SseEvent>, SseError> {
        let line = std::mem::take(&mut self.line);
        if !line.is_empty() {
            if let Some(event) = self.line_done(&line)? {
                return Ok(Some(event));
            }
        }
        Ok(self.dispatch())
    }

    fn push(&mut self, bytes: &[u8]) -> Result<(), SseError> {
        if self.line.len() + bytes.len() > MAX_LINE {
            return Err(SseError::LineTooLong);
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    fn line_done(&mut self, line: &[u8]) -> Result<Option<SseEvent>, SseError> {
        if line.is_empty() {
            return Ok(self.dispatch());
        }
        let line = std::str::from_utf8(line).map_err(|_| SseError::NotUtf8)?;
        if line.starts_with(':') {
            return Ok(None);
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => self.event = value.to_string(),
            "data" => match &mut self.data {
                Some(data) => {
                    if data.len() + value.len() > MAX_LINE {
                        return Err(SseError::LineTooLong);
                    }
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_string()),
            },
            _ => {}
        }
        Ok(None)
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = std::mem::take(&mut self.event);
        self.data.take().map(|data| SseEvent { event, data })
    }
}

/// An event written for a caller: `event: NAME` when named, then its data.
pub fn write(event: Option<&str>, data: &str) -> Bytes {
    let mut out = String::with_capacity(data.len() + 32);
    if let Some(name) = event {
        out.push_str("event: ");
        out.push_str(name);
        out.push('\n');
    }
    for line in data.split('\n') {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str =
        ": ping\r\nevent: message_start\r\ndata: {\"a\":\"é€\"}\r\n\r\ndata: one\ndata: two\n\n\
                          event: ping\ndata: {}\n\ndata: [DONE]\n\n";

    fn expected() -> Vec<SseEvent> {
        vec![
            SseEvent {
                event: "message_start".into(),
                data: "{\"a\":\"é€\"}".into(),
            },
            SseEvent {
                event: String::new(),
                data: "one\ntwo".into(),
            },
            SseEvent {
                event: "ping".into(),
                data: "{}".into(),
            },
            SseEvent {
                event: String::new(),
                data: "[DONE]".into(),
            },
        ]
    }

    #[test]
    fn events_come_out_whole_whatever_the_split() {
        let bytes = STREAM.as_bytes();
        for size in 1..bytes.len() {
            let mut parser = SseParser::default();
            let mut events = Vec::new();
            for piece in bytes.chunks(size) {
                events.extend(parser.feed(piece).unwrap());
            }
            assert_eq!(parser.finish().unwrap(), None);
            assert_eq!(events, expected(), "split every {size} bytes");
        }
    }

    #[test]
    fn an_endless_line_is_refused_and_a_cut_event_is_kept() {
        let mut parser = SseParser::default();
        let big = vec![b'x'; MAX_LINE + 1];
        assert!(parser.feed(&big).is_err());
        let mut parser = SseParser::default();
        assert!(parser.feed(b"data: last").unwrap().is_empty());
        assert_eq!(parser.finish().unwrap().unwrap().data, "last");
        assert_eq!(&write(Some("ping"), "{}")[..], b"event: ping\ndata: {}\n\n");
    }
}
