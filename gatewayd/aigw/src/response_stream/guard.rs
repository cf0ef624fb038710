//! The DLP guard of one stream's events: OpenAI chat chunks and Anthropic Messages events
//! here, Responses API events in `responses`. Each text a caller reads — a choice's or a
//! content block's text, thinking, and each tool call's arguments — is its own
//! [`TextScan`], so what a finding could still span is held back per text and released
//! before the event that ends it.
//!
//! Never: let an event pass whose text was not scanned while `block` or `redact` is on;
//! put what was found anywhere but the tally (detector ids, counts, masked snippets).

use std::collections::BTreeMap;
use std::sync::Arc;

use config::AigwResponseDlp;
use serde_json::{json, Value};

use super::{Blocked, TextScan};
use crate::response_dlp::{ResponseScanner, Tally};
use crate::sse::SseEvent;

/// Which events a guard reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Events {
    /// OpenAI chat completion chunks.
    Chat,
    /// Anthropic Messages events.
    Messages,
    /// Responses API events.
    Responses,
}

/// What a held text is: it decides how the event that releases it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Text,
    Thinking,
    Refusal,
    Arguments,
}

/// One text of a stream: a choice, content block or output item (`.0`), and in it a tool
/// call or a content part (`.1`).
pub(super) type Slot = (u64, Option<u64>);

/// The slot of a chat choice's refusal text (`delta.refusal`), beside its tool calls.
const REFUSAL: u64 = u64::MAX;
/// The slots of OpenAI-compatible servers' reasoning text (`delta.reasoning_content`, as
/// DeepSeek and vLLM send it, and `delta.reasoning`): a model's thinking, which can copy
/// a secret as well as its answer can.
const REASONING_CONTENT: u64 = u64::MAX - 1;
const REASONING: u64 = u64::MAX - 2;
/// The delta fields of a chat choice scanned as texts of their own, with their slots.
const SIDE_TEXTS: [(u64, &str, Kind); 3] = [
    (REFUSAL, "refusal", Kind::Refusal),
    (REASONING_CONTENT, "reasoning_content", Kind::Thinking),
    (REASONING, "reasoning", Kind::Thinking),
];

#[derive(Debug)]
pub(super) struct Held {
    pub(super) scan: TextScan,
    pub(super) kind: Kind,
    /// Responses: the item id the releasing delta names.
    pub(super) item: Value,
}

/// DLP over one stream's events.
pub struct StreamGuard {
    pub(super) scanner: Arc<ResponseScanner>,
    events: Events,
    /// It reads the caller's events (after translation), not the provider's.
    after_translation: bool,
    pub(super) texts: BTreeMap<Slot, Held>,
    /// The last OpenAI chunk's id, model, created: for the chunks that release held text.
    template: Value,
    /// Responses: the sequence number the next event gets (events the guard adds move the
    /// provider's numbers up, so the caller's stay in order).
    pub(super) next_sequence: Option<u64>,
    pub(super) added: u64,
    pub tally: Tally,
}

impl StreamGuard {
    pub fn new(scanner: Arc<ResponseScanner>, events: Events, after_translation: bool) -> Self {
        Self {
            scanner,
            events,
            after_translation,
            texts: BTreeMap::new(),
            template: Value::Null,
            next_sequence: None,
            added: 0,
            tally: Tally::default(),
        }
    }

    /// Whether it reads the caller's events (after translation) rather than the provider's.
    pub fn after_translation(&self) -> bool {
        self.after_translation
    }

    pub fn events(&self) -> Events {
        self.events
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

    /// The events to pass on in place of `event`.
    pub fn event(&mut self, event: &SseEvent) -> Result<Vec<SseEvent>, Blocked> {
        match self.events {
            Events::Chat => self.openai(event),
            Events::Messages => self.anthropic(event),
            Events::Responses => self.responses(event),
        }
    }

    pub(super) fn push(
        &mut self,
        slot: Slot,
        kind: Kind,
        text: &str,
        last: bool,
    ) -> Result<String, Blocked> {
        let held = self.texts.entry(slot).or_insert_with(|| Held {
            scan: TextScan::default(),
            kind,
            item: Value::Null,
        });
        held.scan.push(text, last, &self.scanner, &mut self.tally)
    }

    /// Scans every string in `value` whole (a `.done` event's text, a tool input sent in one
    /// piece): block refuses, redact masks in place. Returns whether anything was masked.
    /// The deltas before already counted the same text, so counts merge by the larger.
    pub(super) fn settle(&mut self, value: &mut Value) -> Result<bool, Blocked> {
        let mut texts = Vec::new();
        crate::response_dlp::strings(value, &mut texts);
        let mut changed = false;
        for text in texts {
            let findings = self
                .scanner
                .findings(text)
                .map_err(|_| Blocked(vec!["dlp_error".into()]))?;
            if findings.is_empty() {
                continue;
            }
            let mut local = Tally::default();
            findings.iter().for_each(|f| local.add(f));
            self.tally.merge_max(&local);
            if self.scanner.mode == AigwResponseDlp::Monitor {
                continue;
            }
            let acted: Vec<dlp::Finding> = findings
                .into_iter()
                .filter(|f| self.scanner.matches(&self.tally, &f.detector))
                .collect();
            if acted.is_empty() {
                continue;
            }
            if self.scanner.mode == AigwResponseDlp::Block {
                let mut ids: Vec<String> = acted.iter().map(|f| f.detector.to_string()).collect();
                ids.sort();
                ids.dedup();
                return Err(Blocked(ids));
            }
            *text = dlp::redact(text, &acted);
            changed = true;
        }
        Ok(changed)
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
        self.template = json!({
            "id": chunk["id"], "object": chunk["object"], "created": chunk["created"],
            "model": chunk["model"],
        });
        let mut changed = false;
        let mut before = Vec::new();
        let choices = chunk
            .get_mut("choices")
            .and_then(Value::as_array_mut)
            .map(std::mem::take)
            .unwrap_or_default();
        let mut rewritten = Vec::with_capacity(choices.len());
        for mut choice in choices {
            let index = choice["index"].as_u64().unwrap_or(0);
            let finished = choice.get("finish_reason").is_some_and(|f| !f.is_null());
            let mut in_chunk = Vec::new();
            let calls = choice
                .get_mut("delta")
                .and_then(|d| d.get_mut("tool_calls"))
                .and_then(Value::as_array_mut);
            for call in calls.into_iter().flatten() {
                let tool = call["index"].as_u64().unwrap_or(0);
                in_chunk.push(tool);
                let Some(function) = call.get_mut("function").filter(|f| f.is_object()) else {
                    continue;
                };
                let Some(args) = function["arguments"].as_str().map(str::to_string) else {
                    continue;
                };
                let out = self.push((index, Some(tool)), Kind::Arguments, &args, finished)?;
                if out != args {
                    function["arguments"] = json!(out);
                    changed = true;
                }
            }
            if finished {
                // Calls of this choice that hold text but had no delta here.
                let others: Vec<Slot> = self
                    .texts
                    .keys()
                    .filter(|(i, t)| {
                        *i == index && t.is_some_and(|t| t < REASONING && !in_chunk.contains(&t))
                    })
                    .copied()
                    .collect();
                for slot in others {
                    before.extend(self.release(slot)?);
                }
            }
            for (side, field, kind) in SIDE_TEXTS {
                let piece = choice["delta"][field].as_str().map(str::to_string);
                if piece.is_some() || (finished && self.texts.contains_key(&(index, Some(side)))) {
                    let piece = piece.unwrap_or_default();
                    let out = self.push((index, Some(side)), kind, &piece, finished)?;
                    if out != piece && choice["delta"].is_object() {
                        choice["delta"][field] = json!(out);
                        changed = true;
                    }
                }
            }
            let text = choice["delta"]["content"].as_str().map(str::to_string);
            if text.is_some() || (finished && self.texts.contains_key(&(index, None))) {
                let text = text.unwrap_or_default();
                let out = self.push((index, None), Kind::Text, &text, finished)?;
                if out != text && choice.is_object() {
                    if !choice["delta"].is_object() {
                        choice["delta"] = json!({});
                    }
                    choice["delta"]["content"] = json!(out);
                    changed = true;
                }
            }
            rewritten.push(choice);
        }
        chunk["choices"] = Value::Array(rewritten);
        before.push(if changed {
            SseEvent {
                event: event.event.clone(),
                data: chunk.to_string(),
            }
        } else {
            event.clone()
        });
        Ok(before)
    }

    fn anthropic(&mut self, event: &SseEvent) -> Result<Vec<SseEvent>, Blocked> {
        let name = event.event.as_str();
        if name == "message_start" {
            // Content that comes with the message's start (none, usually) is scanned whole.
            let Ok(mut data) = serde_json::from_str::<Value>(&event.data) else {
                return Ok(vec![event.clone()]);
            };
            let changed = match data.get_mut("message").and_then(|m| m.get_mut("content")) {
                Some(content) => self.settle(content)?,
                None => false,
            };
            return Ok(vec![rewritten(event, &data, changed)]);
        }
        if !matches!(
            name,
            "content_block_start"
                | "content_block_delta"
                | "content_block_stop"
                | "message_delta"
                | "message_stop"
                | "error"
        ) {
            return Ok(vec![event.clone()]);
        }
        let Ok(mut data) = serde_json::from_str::<Value>(&event.data) else {
            // Not JSON: nothing a caller's SDK reads as text.
            return Ok(vec![event.clone()]);
        };
        let index = data["index"].as_u64().unwrap_or(0);
        match name {
            "content_block_stop" => {
                let mut out = self.release((index, None))?;
                out.push(event.clone());
                return Ok(out);
            }
            "message_delta" | "message_stop" | "error" => {
                let mut out = self.release_all()?;
                out.push(event.clone());
                return Ok(out);
            }
            _ => {}
        }
        let start = name == "content_block_start";
        let key = if start { "content_block" } else { "delta" };
        let Some(slot) = data.get_mut(key).filter(|s| s.is_object()) else {
            return Ok(vec![event.clone()]);
        };
        let (field, kind) = match slot["type"].as_str() {
            Some("text" | "text_delta") => ("text", Kind::Text),
            Some("thinking" | "thinking_delta") => ("thinking", Kind::Thinking),
            Some("input_json_delta") => ("partial_json", Kind::Arguments),
            Some("tool_use" | "server_tool_use") => {
                // The call's input comes in input_json_delta events; one sent whole at the
                // start is scanned whole.
                self.push((index, None), Kind::Arguments, "", false)?;
                let changed = match slot.get_mut("input") {
                    Some(input) => self.settle(input)?,
                    None => false,
                };
                return Ok(vec![rewritten(event, &data, changed)]);
            }
            _ => return Ok(vec![event.clone()]),
        };
        let Some(text) = slot[field].as_str().map(str::to_string) else {
            return Ok(vec![event.clone()]);
        };
        let out = self.push((index, None), kind, &text, false)?;
        if out == text {
            return Ok(vec![event.clone()]);
        }
        slot[field] = json!(out);
        Ok(vec![rewritten(event, &data, true)])
    }

    /// The events that release what `slot` holds (none when it holds nothing).
    pub(super) fn release(&mut self, slot: Slot) -> Result<Vec<SseEvent>, Blocked> {
        let Some(mut held) = self.texts.remove(&slot) else {
            return Ok(Vec::new());
        };
        if held.scan.is_empty() {
            return Ok(Vec::new());
        }
        let text = held.scan.push("", true, &self.scanner, &mut self.tally)?;
        if text.is_empty() {
            return Ok(Vec::new());
        }
        Ok(vec![match self.events {
            Events::Chat => {
                let delta = match slot.1 {
                    Some(REFUSAL) => json!({"refusal": text}),
                    Some(REASONING_CONTENT) => json!({"reasoning_content": text}),
                    Some(REASONING) => json!({"reasoning": text}),
                    Some(tool) => {
                        json!({"tool_calls": [{"index": tool, "function": {"arguments": text}}]})
                    }
                    None => json!({"content": text}),
                };
                let mut chunk = self.template.clone();
                chunk["choices"] =
                    json!([{"index": slot.0, "delta": delta, "finish_reason": null}]);
                SseEvent {
                    event: String::new(),
                    data: chunk.to_string(),
                }
            }
            Events::Messages => {
                let delta = match held.kind {
                    Kind::Arguments => json!({"type": "input_json_delta", "partial_json": text}),
                    Kind::Thinking => json!({"type": "thinking_delta", "thinking": text}),
                    Kind::Text | Kind::Refusal => json!({"type": "text_delta", "text": text}),
                };
                SseEvent {
                    event: "content_block_delta".into(),
                    data: json!({"type": "content_block_delta", "index": slot.0, "delta": delta})
                        .to_string(),
                }
            }
            Events::Responses => self.responses_release(slot, &held, text),
        }])
    }

    /// The events that release every held text, in slot order.
    pub(super) fn release_all(&mut self) -> Result<Vec<SseEvent>, Blocked> {
        self.release_where(|_| true)
    }

    pub(super) fn release_where(
        &mut self,
        which: impl Fn(&Slot) -> bool,
    ) -> Result<Vec<SseEvent>, Blocked> {
        let slots: Vec<Slot> = self.texts.keys().filter(|s| which(s)).copied().collect();
        let mut out = Vec::new();
        for slot in slots {
            out.extend(self.release(slot)?);
        }
        Ok(out)
    }
}

/// `event` with `data` when `changed`, else as it came.
pub(super) fn rewritten(event: &SseEvent, data: &Value, changed: bool) -> SseEvent {
    if !changed {
        return event.clone();
    }
    SseEvent {
        event: event.event.clone(),
        data: data.to_string(),
    }
}
