//! DLP on a streamed answer, as it passes: each text delta of the provider's stream (OpenAI
//! `delta.content` per choice, Anthropic `text_delta` per content block) goes through a
//! [`TextScan`] that releases all but the few bytes a finding could still span — the last
//! word, and the digit groups before it that a card or an IBAN could continue — and scans
//! the released text with what it released just before ([`CONTEXT`] bytes), so a secret
//! split across deltas is seen whole. The stream is never buffered: at most [`MAX_HOLD`]
//! bytes per text are held back. What is held is released when the text ends (a finish
//! reason, `content_block_stop`, the end of the message), before the event that ends it.
//!
//! [`StreamGuard`] (`guard`) reads OpenAI chunks and Anthropic events: an OpenAI or
//! Anthropic provider's, before translation (one guard serves both callers), or — for
//! Gemini and Bedrock, whose events it does not read — the caller's, after translation.
//! A Responses API stream is guarded on the caller's events (`responses`), its `.done`
//! events and the final response included. Every text a caller reads is scanned: message
//! text, thinking, refusals and tool-call arguments (each call's own text, so a card split
//! across two argument deltas is seen whole). The guard rewrites a delta's text (held back,
//! or masked) and adds the deltas that release what was held. `block` ends the stream at the
//! first finding ([`crate::body::Relay`] writes the error event in the caller's dialect).
//!
//! Limits (documented): a finding longer than [`MAX_HOLD`] bytes (a PEM private key) is seen
//! once its end arrives, when its start has been released; block then ends the stream and
//! redact masks the part not yet sent. Under `monitor` nothing is held back.
//!
//! Never: put what was found in an event, a log line or an error (detector ids only).

use config::AigwResponseDlp;

use crate::response_dlp::{ResponseScanner, Tally};

mod guard;
mod responses;

pub use guard::{Events, StreamGuard};

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
/// digit groups before it joined by single spaces (a card or IBAN still growing, quoted as
/// in a tool call's JSON arguments too), and at most [`MAX_HOLD`] bytes.
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
                .all(|b| b.is_ascii_alphanumeric() || b"()+-./\"'".contains(b))
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

#[cfg(test)]
mod tests;
