//! The guard on a Responses API stream (the caller's events, from an OpenAI provider's own
//! Responses stream or translated from chat chunks). Deltas — `response.output_text.delta`,
//! `response.refusal.delta`, `response.reasoning_summary_text.delta`,
//! `response.function_call_arguments.delta` — are scanned as they pass, a text per output
//! item and content part (or call). The Responses API repeats the whole answer in its
//! `.done` events and in `response.completed`: those are scanned whole and masked (redact)
//! or end the stream (block) too, so no text reaches the caller unscanned. Held text is
//! released as a delta before the `.done` event that ends it; the guard renumbers
//! `sequence_number` so the caller's events stay in order.
//!
//! Never: pass a `.done` or final event without scanning every string in it.

use serde_json::{json, Value};

use super::guard::{rewritten, Held, Kind, Slot, StreamGuard};
use super::Blocked;
use crate::sse::SseEvent;

impl StreamGuard {
    pub(super) fn responses(&mut self, event: &SseEvent) -> Result<Vec<SseEvent>, Blocked> {
        let Ok(mut data) = serde_json::from_str::<Value>(&event.data) else {
            return Ok(vec![event.clone()]);
        };
        if !data.is_object() {
            return Ok(vec![event.clone()]);
        }
        let kind = data
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or(event.event.as_str())
            .to_string();
        let sequence = data.get("sequence_number").and_then(Value::as_u64);
        self.next_sequence = sequence.map(|n| n.saturating_add(self.added));
        let output = data["output_index"].as_u64().unwrap_or(0);
        let part = data["content_index"]
            .as_u64()
            .or_else(|| data["summary_index"].as_u64())
            .unwrap_or(0);
        let mut out = Vec::new();
        let mut changed = false;
        match kind.as_str() {
            "response.output_text.delta"
            | "response.refusal.delta"
            | "response.reasoning_summary_text.delta"
            | "response.function_call_arguments.delta" => {
                let (slot, held) = match kind.as_str() {
                    "response.output_text.delta" => ((output, Some(part)), Kind::Text),
                    "response.refusal.delta" => ((output, Some(part)), Kind::Refusal),
                    "response.reasoning_summary_text.delta" => {
                        ((output, Some(part)), Kind::Thinking)
                    }
                    _ => ((output, None), Kind::Arguments),
                };
                if let Some(text) = data["delta"].as_str().map(str::to_string) {
                    let sent = self.push(slot, held, &text, false)?;
                    if let Some(h) = self.texts.get_mut(&slot) {
                        h.item = data["item_id"].clone();
                    }
                    if sent != text {
                        data["delta"] = json!(sent);
                        changed = true;
                    }
                }
            }
            "response.output_text.done"
            | "response.refusal.done"
            | "response.reasoning_summary_text.done" => {
                out.extend(self.release((output, Some(part)))?);
                for field in ["text", "refusal"] {
                    if let Some(value) = data.get_mut(field) {
                        changed |= self.settle(value)?;
                    }
                }
            }
            "response.function_call_arguments.done" => {
                out.extend(self.release((output, None))?);
                if let Some(value) = data.get_mut("arguments") {
                    changed |= self.settle(value)?;
                }
            }
            "response.content_part.done" | "response.reasoning_summary_part.done" => {
                if let Some(value) = data.get_mut("part") {
                    changed |= self.settle(value)?;
                }
            }
            "response.output_item.done" => {
                out.extend(self.release_where(|s| s.0 == output)?);
                if let Some(value) = data.get_mut("item") {
                    changed |= self.settle(value)?;
                }
            }
            "response.completed" | "response.incomplete" | "response.failed" | "error" => {
                out.extend(self.release_all()?);
                if let Some(value) = data.get_mut("response").and_then(|r| r.get_mut("output")) {
                    changed |= self.settle(value)?;
                }
            }
            _ => {
                // Any other event: what it carries is scanned whole — an item or a part
                // added with text already in it, the output of `response.created`, a
                // delta of a kind not followed above.
                for field in ["item", "part", "delta", "text"] {
                    if let Some(value) = data.get_mut(field) {
                        changed |= self.settle(value)?;
                    }
                }
                if let Some(value) = data.get_mut("response").and_then(|r| r.get_mut("output")) {
                    changed |= self.settle(value)?;
                }
            }
        }
        if let (Some(_), Some(next)) = (sequence, self.next_sequence) {
            if next != sequence.unwrap_or(next) {
                data["sequence_number"] = json!(next);
                changed = true;
            }
        }
        out.push(rewritten(event, &data, changed));
        Ok(out)
    }

    /// The delta that releases `text` held for `slot`, numbered before the event that
    /// released it.
    pub(super) fn responses_release(&mut self, slot: Slot, held: &Held, text: String) -> SseEvent {
        let (output, part) = (slot.0, slot.1.unwrap_or(0));
        let item = held.item.clone();
        let (kind, mut data) = match held.kind {
            Kind::Text => (
                "response.output_text.delta",
                json!({"item_id": item, "output_index": output, "content_index": part, "delta": text, "logprobs": []}),
            ),
            Kind::Refusal => (
                "response.refusal.delta",
                json!({"item_id": item, "output_index": output, "content_index": part, "delta": text}),
            ),
            Kind::Thinking => (
                "response.reasoning_summary_text.delta",
                json!({"item_id": item, "output_index": output, "summary_index": part, "delta": text}),
            ),
            Kind::Arguments => (
                "response.function_call_arguments.delta",
                json!({"item_id": item, "output_index": output, "delta": text}),
            ),
        };
        data["type"] = json!(kind);
        if let Some(next) = self.next_sequence {
            data["sequence_number"] = json!(next);
            self.next_sequence = Some(next.saturating_add(1));
            self.added = self.added.saturating_add(1);
        }
        SseEvent {
            event: kind.into(),
            data: data.to_string(),
        }
    }
}
