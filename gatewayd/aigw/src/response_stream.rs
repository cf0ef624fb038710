//! DLP on a streamed answer, as it passes: each text delta of the provider's stream (OpenAI
//! `delta.content` per choice, Anthropic `text_delta` per content block) goes through a
//! [`TextScan`] that releases all but the few bytes a finding could still span — the last
//! word, and the digit groups before it that a card or an IBAN could continue — and scans
//! the released text with what it released just before ([`CONTEXT`] bytes), so a secret
//! split across deltas is seen whole. The stream is never buffered: at most [`MAX_HOLD`]
//! bytes per text are held back. What is held is released when the text ends (a finish
//! reason, `content_block_stop`, the end of the message), before the event that ends it.
//!
//! [`StreamGuard`] works on the provider's events, before translation, so one guard serves
//! every caller dialect: it rewrites a delta's text (held back, or masked) and adds the
//! deltas that release what was held. `block` ends the stream at the first finding
//! ([`crate::body::Relay`] writes the error event in the caller's dialect).
//!
//! Limits (documented): a finding longer than [`MAX_HOLD`] bytes (a PEM private key) is seen
//! once its end arrives, when its start has been released; block then ends the stream and
//! redact masks the part not yet sent. Tool-call arguments and thinking deltas in a stream are
//! not scanned. Under `monitor` nothing is held back.
//!
//! Never: put what was found in an event, a log line or an error (detector ids only).

use std::collections::BTreeMap;
use std::sync::Arc;

use config::AigwResponseDlp;
use serde_json::{json, Value};

use crate::dialect::Dialect;
use crate::response_dlp::{ResponseScanner, Tally};
use crate::sse::SseEvent;

/// The most bytes of one text held back at once.
pub const MAX_HOLD: usize = 256;
/// The bytes released before that are scanned again with what follows.
pub const CONTEXT: usize = 256;
/// Under `monitor` (nothing held back), text is scanned once this much has passed unscanned,
/// and at its end: one scan per few words, not one per delta.
pub const MONITOR_BATCH: usize = 128;

/// Why a stream must end: the detectors found (never the data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked(pub Vec<String>);

/// One text of a stream (a choice, a content block) on its way out.
#[derive(Debug, Default)]
pub struct TextScan {
    /// What was released last, kept to scan with what follows.
    context: String,
    /// What arrived and was not released yet.
    pending: String,
}

impl TextScan {
    /// Adds `text`; returns what may be sent now (masked under redact). `last`: the text
    /// ends here, release everything.
    pub fn push(
        &mut self,
        text: &str,
        last: bool,
        scanner: &ResponseScanner,
        tally: &mut Tally,
    ) -> Result<String, Blocked> {
        self.pending.push_str(text);
        let holds = scanner.mode != AigwResponseDlp::Monitor;
        if !holds {
            // Monitor sends at once and scans behind, in batches (it never stops a stream, so
            // a scan that cannot run records nothing rather than ending it).
            if last || self.pending.len() >= MONITOR_BATCH {
                let scanned = std::mem::take(&mut self.pending);
                let base = self.context.len();
                let window = format!("{}{scanned}", self.context);
                for finding in scanner.findings(&window).unwrap_or_default() {
                    if finding.end > base {
                        tally.add(&finding);
                    }
                }
                self.keep(&scanned);
            }
            return Ok(text.to_string());
        }
        let cut = |pending: &str| {
            if last || !holds {
                pending.len()
            } else {
                releasable(pending)
            }
        };
        if cut(&self.pending) == 0 {
            return Ok(String::new());
        }
        let base = self.context.len();
        let window = format!("{}{}", self.context, self.pending);
        // A scan that cannot run is not a clean one: the stream ends.
        let findings = scanner
            .findings(&window)
            .map_err(|_| Blocked(vec!["dlp_error".into()]))?;
        let released_end = base + cut(&self.pending);
        let mut acted = Vec::new();
        for finding in findings.iter().filter(|f| f.end > base) {
            // A finding in the held part is counted when it is released or acted on.
            let mut with = tally.clone();
            with.add(finding);
            if holds && scanner.matches(&with, &finding.detector) {
                acted.push(finding.clone());
                tally.add(finding);
            } else if finding.end <= released_end {
                tally.add(finding);
            }
        }
        if !acted.is_empty() {
            if scanner.mode == AigwResponseDlp::Block {
                let mut ids: Vec<String> = acted.iter().map(|f| f.detector.to_string()).collect();
                ids.dedup();
                return Err(Blocked(ids));
            }
            // Redact: mask the part not sent yet (a finding that began in what was already
            // sent is masked from here on).
            let local: Vec<dlp::Finding> = acted
                .into_iter()
                .map(|mut f| {
                    f.start = f.start.saturating_sub(base);
                    f.end -= base;
                    f
                })
                .collect();
            self.pending = dlp::redact(&self.pending, &local);
        }
        let at = cut(&self.pending);
        let rest = self.pending.split_off(at);
        let out = std::mem::replace(&mut self.pending, rest);
        self.keep(&out);
        Ok(out)
    }

    /// Keeps the last [`CONTEXT`] bytes of what was released, to scan with what follows.
    fn keep(&mut self, released: &str) {
        self.context.push_str(released);
        if self.context.len() > CONTEXT {
            let from = ceil_boundary(&self.context, self.context.len() - CONTEXT);
            self.context.drain(..from);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

/// How much of `text` may be released: all but its last word (a token still growing), the
/// digit groups before it joined by single spaces (a card or IBAN still growing), and at
/// most [`MAX_HOLD`] bytes.
pub fn releasable(text: &str) -> usize {
    let bytes = text.as_bytes();
    let word_start = |end: usize| {
        bytes[..end]
            .iter()
            .rposition(u8::is_ascii_whitespace)
            .map_or(0, |i| i + 1)
    };
    let groupish = |t: &[u8]| {
        !t.is_empty()
            && t.len() <= 8
            && t.iter().any(u8::is_ascii_digit)
            && t.iter()
                .all(|b| b.is_ascii_alphanumeric() || b"()+-./".contains(b))
    };
    let mut start = word_start(bytes.len());
    loop {
        // `start` follows a whitespace byte (or is 0): extend over one space to a group.
        if start < 2 || bytes[start - 1] != b' ' || bytes[start - 2].is_ascii_whitespace() {
            break;
        }
        let end = bytes[start..]
            .iter()
            .position(u8::is_ascii_whitespace)
            .map_or(bytes.len(), |i| start + i);
        let later = &bytes[start..end];
        let before = word_start(start - 1);
        if !groupish(&bytes[before..start - 1]) || !(later.is_empty() || groupish(later)) {
            break;
        }
        start = before;
    }
    if bytes.len() - start > MAX_HOLD {
        start = ceil_boundary(text, bytes.len() - MAX_HOLD);
    }
    start
}

fn ceil_boundary(text: &str, mut i: usize) -> usize {
    while i < text.len() && !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// DLP over one provider stream's events.
pub struct StreamGuard {
    scanner: Arc<ResponseScanner>,
    provider: Dialect,
    /// Per choice (OpenAI) or content block (Anthropic) index.
    texts: BTreeMap<u64, TextScan>,
    /// The last OpenAI chunk's id, model, created: for the chunks that release held text.
    template: Value,
    pub tally: Tally,
}

impl StreamGuard {
    /// A guard for events it cannot read (a Gemini or Responses API stream, refused before it
    /// was sent when `response_dlp` is on): it ends the stream at its first event.
    pub fn unreadable(scanner: Arc<ResponseScanner>) -> Self {
        Self::new(scanner, Dialect::Gemini)
    }

    pub fn new(scanner: Arc<ResponseScanner>, provider: Dialect) -> Self {
        Self {
            scanner,
            provider,
            texts: BTreeMap::new(),
            template: Value::Null,
            tally: Tally::default(),
        }
    }

    pub fn action(&self) -> &'static str {
        self.scanner.action()
    }

    /// The findings of the detectors that reached their `min_matches`: what the call's row
    /// and `dlp_findings` record.
    pub fn matched(mut self) -> Tally {
        let counted = self.tally.clone();
        self.tally
            .0
            .retain(|detector, _| self.scanner.matches(&counted, detector));
        self.tally
    }

    /// The provider events to translate in place of `event`.
    pub fn event(&mut self, event: &SseEvent) -> Result<Vec<SseEvent>, Blocked> {
        match self.provider {
            Dialect::OpenAi => self.openai(event),
            Dialect::Anthropic => self.anthropic(event),
            Dialect::Gemini | Dialect::Bedrock => Err(Blocked(vec!["unscannable_stream".into()])),
        }
    }

    fn push(&mut self, index: u64, text: &str, last: bool) -> Result<String, Blocked> {
        let scan = self.texts.entry(index).or_default();
        scan.push(text, last, &self.scanner, &mut self.tally)
    }

    fn openai(&mut self, event: &SseEvent) -> Result<Vec<SseEvent>, Blocked> {
        let parsed = serde_json::from_str::<Value>(&event.data).ok();
        let Some(mut chunk) = parsed.filter(|c| {
            c.get("choices")
                .and_then(Value::as_array)
                .is_some_and(|c| !c.is_empty())
        }) else {
            // `[DONE]`, the usage chunk, an error: the texts end before it.
            let mut out = self.release_all()?;
            out.push(event.clone());
            return Ok(out);
        };
        let mut changed = false;
        for choice in chunk["choices"].as_array_mut().into_iter().flatten() {
            let index = choice["index"].as_u64().unwrap_or(0);
            let finished = choice.get("finish_reason").is_some_and(|f| !f.is_null());
            let text = choice["delta"]["content"].as_str().map(str::to_string);
            if text.is_none() && !(finished && self.texts.contains_key(&index)) {
                continue;
            }
            let text = text.unwrap_or_default();
            let out = self.push(index, &text, finished)?;
            if out != text {
                if !choice["delta"].is_object() {
                    choice["delta"] = json!({});
                }
                choice["delta"]["content"] = json!(out);
                changed = true;
            }
        }
        self.template = json!({
            "id": chunk["id"], "object": chunk["object"], "created": chunk["created"],
            "model": chunk["model"],
        });
        Ok(vec![if changed {
            SseEvent {
                event: event.event.clone(),
                data: chunk.to_string(),
            }
        } else {
            event.clone()
        }])
    }

    fn anthropic(&mut self, event: &SseEvent) -> Result<Vec<SseEvent>, Blocked> {
        match event.event.as_str() {
            "content_block_delta" | "content_block_start" => {
                let Ok(mut data) = serde_json::from_str::<Value>(&event.data) else {
                    return Ok(vec![event.clone()]);
                };
                let index = data["index"].as_u64().unwrap_or(0);
                let slot = if event.event == "content_block_start" {
                    &mut data["content_block"]
                } else {
                    &mut data["delta"]
                };
                let is_text = matches!(slot["type"].as_str(), Some("text_delta" | "text"));
                let Some(text) = slot["text"]
                    .as_str()
                    .filter(|_| is_text)
                    .map(str::to_string)
                else {
                    return Ok(vec![event.clone()]);
                };
                let out = self.push(index, &text, false)?;
                if out == text {
                    return Ok(vec![event.clone()]);
                }
                slot["text"] = json!(out);
                Ok(vec![SseEvent {
                    event: event.event.clone(),
                    data: data.to_string(),
                }])
            }
            "content_block_stop" => {
                let index = serde_json::from_str::<Value>(&event.data)
                    .ok()
                    .and_then(|d| d["index"].as_u64())
                    .unwrap_or(0);
                let mut out = self.release(index)?;
                out.push(event.clone());
                Ok(out)
            }
            "message_delta" | "message_stop" | "error" => {
                let mut out = self.release_all()?;
                out.push(event.clone());
                Ok(out)
            }
            _ => Ok(vec![event.clone()]),
        }
    }

    /// The events that release what `index` holds (none when it holds nothing).
    fn release(&mut self, index: u64) -> Result<Vec<SseEvent>, Blocked> {
        let Some(mut scan) = self.texts.remove(&index) else {
            return Ok(Vec::new());
        };
        if scan.is_empty() {
            return Ok(Vec::new());
        }
        let text = scan.push("", true, &self.scanner, &mut self.tally)?;
        Ok(vec![match self.provider {
            // An unreadable guard holds no text (its first event ends the stream).
            Dialect::OpenAi | Dialect::Gemini | Dialect::Bedrock => {
                let mut chunk = self.template.clone();
                chunk["choices"] = json!([{"index": index, "delta": {"content": text}, "finish_reason": null}]);
                SseEvent {
                    event: String::new(),
                    data: chunk.to_string(),
                }
            }
            Dialect::Anthropic => SseEvent {
                event: "content_block_delta".into(),
                data: json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": text}}).to_string(),
            },
        }])
    }

    fn release_all(&mut self) -> Result<Vec<SseEvent>, Blocked> {
        let mut out = Vec::new();
        let indexes: Vec<u64> = self.texts.keys().copied().collect();
        for index in indexes {
            out.extend(self.release(index)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
