//! Responses API streams. From an OpenAI provider its named events pass unchanged and are
//! only read: the model from `response.created`, the first token from the first delta, the
//! usage from `response.completed` (or `response.incomplete` / `response.failed`) by the
//! Responses rules. From any other provider the chat chunks its stream was translated to
//! become the Responses events, one by one as they come: `response.created`,
//! `response.in_progress`, `response.output_item.added`, `response.content_part.added`,
//! `response.output_text.delta` ..., `response.function_call_arguments.delta` ..., the
//! matching `.done` events, then `response.completed` (or `response.incomplete`) with the
//! whole response and the usage the provider reported.
//!
//! Never: hold back more than the event being translated; invent usage.

use std::collections::BTreeMap;
use std::time::Instant;

use bytes::Bytes;
use serde_json::{json, Value};

use super::answer::{function_call_item, message_item, shell, status, suffix};
use crate::dialect::{responses, unix_now};
use crate::sse::{write, SseEvent, SseParser};
use crate::translate::stream::{StreamState, StreamTranslator};

/// How a Responses stream reaches its caller.
#[derive(Debug)]
pub enum ResponsesStream {
    /// An OpenAI provider's own Responses events.
    Passthrough,
    /// Chat chunks (from `inner`, the chat translator for the provider) as Responses events.
    FromChat(Box<FromChat>),
}

impl ResponsesStream {
    /// The caller's events for one provider event.
    pub fn event(&mut self, event: &SseEvent, state: &mut StreamState) -> Vec<Bytes> {
        match self {
            Self::Passthrough => {
                read(event, state);
                let name = (!event.event.is_empty()).then_some(event.event.as_str());
                vec![write(name, &event.data)]
            }
            Self::FromChat(t) => t.event(event, state),
        }
    }
}

/// Model, first token, usage, completion and errors of a provider's Responses event.
fn read(event: &SseEvent, state: &mut StreamState) {
    let Ok(data) = serde_json::from_str::<Value>(&event.data) else {
        return;
    };
    let kind = data.get("type").and_then(Value::as_str).unwrap_or("");
    let response = &data["response"];
    if let Some(model) = response.get("model").and_then(Value::as_str) {
        state.model_served = Some(model.to_string());
    }
    match kind {
        "response.output_text.delta"
        | "response.refusal.delta"
        | "response.function_call_arguments.delta"
        | "response.reasoning_summary_text.delta" => {
            state.first_token.get_or_insert_with(Instant::now);
        }
        "response.completed" | "response.incomplete" | "response.failed" => {
            if let Some(usage) = responses::usage(response) {
                state.usage = usage;
            }
            if kind == "response.failed" {
                let code = response["error"]["code"]
                    .as_str()
                    .unwrap_or("response_failed");
                state.error = Some(code.to_string());
            } else {
                state.completed = true;
            }
        }
        "error" => {
            let code = data.get("code").and_then(Value::as_str).unwrap_or("error");
            state.error = Some(code.to_string());
        }
        _ => {}
    }
}

/// One function call being streamed.
#[derive(Debug)]
struct Call {
    output_index: usize,
    call_id: String,
    name: Value,
    arguments: String,
}

/// Chat chunks as Responses events.
#[derive(Debug)]
pub struct FromChat {
    inner: StreamTranslator,
    /// Reads the chat events `inner` writes.
    parser: SseParser,
    id: String,
    request: Value,
    created: u64,
    model: String,
    sequence: u64,
    started: bool,
    done: bool,
    next_index: usize,
    /// The open message item: its output index and its text so far.
    text: Option<(usize, String)>,
    /// Chat tool call index → the call.
    calls: BTreeMap<u64, Call>,
    /// Finished output items by output index.
    output: BTreeMap<usize, Value>,
    finish: Option<String>,
}

impl FromChat {
    /// `inner` translates the provider's stream to chat chunks; `id` names the response;
    /// `request` is the caller's Responses request (its settings are echoed).
    pub fn new(inner: StreamTranslator, id: String, request: Value) -> Self {
        Self {
            inner,
            parser: SseParser::default(),
            id,
            request,
            created: unix_now(),
            model: String::new(),
            sequence: 0,
            started: false,
            done: false,
            next_index: 0,
            text: None,
            calls: BTreeMap::new(),
            output: BTreeMap::new(),
            finish: None,
        }
    }

    fn emit(&mut self, out: &mut Vec<Bytes>, kind: &str, mut data: Value) {
        data["type"] = json!(kind);
        data["sequence_number"] = json!(self.sequence);
        self.sequence += 1;
        out.push(write(Some(kind), &data.to_string()));
    }

    fn event(&mut self, event: &SseEvent, state: &mut StreamState) -> Vec<Bytes> {
        let mut out = Vec::new();
        for bytes in self.inner.event(event, state) {
            // The inner translator writes whole events: the parser never holds a partial one
            // across provider events.
            let Ok(chat) = self.parser.feed(&bytes) else {
                continue;
            };
            for chat in chat {
                self.chat_event(&chat.data, state, &mut out);
            }
        }
        out
    }

    fn chat_event(&mut self, data: &str, state: &StreamState, out: &mut Vec<Bytes>) {
        if self.done {
            return;
        }
        if data == "[DONE]" {
            self.finish_response(state, out);
            return;
        }
        let Ok(chunk) = serde_json::from_str::<Value>(data) else {
            return;
        };
        if let Some(error) = chunk.get("error") {
            self.fail(error, out);
            return;
        }
        if let Some(model) = chunk.get("model").and_then(Value::as_str) {
            if self.model.is_empty() {
                model.clone_into(&mut self.model);
            }
        }
        self.start(out);
        for choice in chunk["choices"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["index"].as_u64().unwrap_or(0) == 0)
        {
            let delta = &choice["delta"];
            if let Some(text) = delta["content"].as_str().filter(|t| !t.is_empty()) {
                self.text_delta(text, out);
            }
            for call in delta["tool_calls"].as_array().into_iter().flatten() {
                self.call_delta(call, out);
            }
            if let Some(reason) = choice["finish_reason"].as_str() {
                self.finish = Some(reason.to_string());
            }
        }
    }

    fn start(&mut self, out: &mut Vec<Bytes>) {
        if self.started {
            return;
        }
        self.started = true;
        let response = shell(&self.id, self.created, &self.model, &self.request);
        self.emit(out, "response.created", json!({"response": response}));
        self.emit(out, "response.in_progress", json!({"response": response}));
    }

    fn message_id(&self) -> String {
        format!("msg_{}", suffix(&self.id))
    }

    fn text_delta(&mut self, text: &str, out: &mut Vec<Bytes>) {
        let index = match &mut self.text {
            Some((index, so_far)) => {
                so_far.push_str(text);
                *index
            }
            None => {
                let index = self.next_index;
                self.next_index += 1;
                self.text = Some((index, text.to_string()));
                let item = json!({"type": "message", "id": self.message_id(), "status": "in_progress", "role": "assistant", "content": []});
                self.emit(
                    out,
                    "response.output_item.added",
                    json!({"output_index": index, "item": item}),
                );
                let part =
                    json!({"type": "output_text", "text": "", "annotations": [], "logprobs": []});
                let id = self.message_id();
                self.emit(
                    out,
                    "response.content_part.added",
                    json!({"item_id": id, "output_index": index, "content_index": 0, "part": part}),
                );
                index
            }
        };
        let id = self.message_id();
        self.emit(
            out,
            "response.output_text.delta",
            json!({"item_id": id, "output_index": index, "content_index": 0, "delta": text, "logprobs": []}),
        );
    }

    fn close_text(&mut self, out: &mut Vec<Bytes>) {
        let Some((index, text)) = self.text.take() else {
            return;
        };
        let id = self.message_id();
        self.emit(
            out,
            "response.output_text.done",
            json!({"item_id": id, "output_index": index, "content_index": 0, "text": text, "logprobs": []}),
        );
        let part = json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []});
        self.emit(
            out,
            "response.content_part.done",
            json!({"item_id": id, "output_index": index, "content_index": 0, "part": part}),
        );
        let item = message_item(&id, &text, "completed");
        self.emit(
            out,
            "response.output_item.done",
            json!({"output_index": index, "item": item}),
        );
        self.output.insert(index, item);
    }

    fn call_delta(&mut self, call: &Value, out: &mut Vec<Bytes>) {
        let key = call["index"].as_u64().unwrap_or(0);
        if !self.calls.contains_key(&key) {
            self.close_text(out);
            let index = self.next_index;
            self.next_index += 1;
            let call_id = call["id"].as_str().unwrap_or("").to_string();
            let name = call["function"]["name"].clone();
            let item = function_call_item(&call_id, &name, "", "in_progress");
            self.emit(
                out,
                "response.output_item.added",
                json!({"output_index": index, "item": item}),
            );
            self.calls.insert(
                key,
                Call {
                    output_index: index,
                    call_id,
                    name,
                    arguments: String::new(),
                },
            );
        }
        let Some(piece) = call["function"]["arguments"]
            .as_str()
            .filter(|a| !a.is_empty())
        else {
            return;
        };
        let Some(open) = self.calls.get_mut(&key) else {
            return;
        };
        open.arguments.push_str(piece);
        let (index, item_id) = (open.output_index, format!("fc_{}", open.call_id));
        self.emit(
            out,
            "response.function_call_arguments.delta",
            json!({"item_id": item_id, "output_index": index, "delta": piece}),
        );
    }

    fn finish_response(&mut self, state: &StreamState, out: &mut Vec<Bytes>) {
        self.start(out);
        self.done = true;
        self.close_text(out);
        for call in std::mem::take(&mut self.calls).into_values() {
            let item_id = format!("fc_{}", call.call_id);
            self.emit(
                out,
                "response.function_call_arguments.done",
                json!({"item_id": item_id, "output_index": call.output_index, "name": call.name, "arguments": call.arguments}),
            );
            let item = function_call_item(&call.call_id, &call.name, &call.arguments, "completed");
            self.emit(
                out,
                "response.output_item.done",
                json!({"output_index": call.output_index, "item": item}),
            );
            self.output.insert(call.output_index, item);
        }
        let (status, incomplete) = status(self.finish.as_deref());
        let mut response = shell(&self.id, self.created, &self.model, &self.request);
        response["status"] = json!(status);
        response["incomplete_details"] = incomplete;
        response["output"] = Value::Array(std::mem::take(&mut self.output).into_values().collect());
        response["usage"] = responses::usage_json(&state.usage);
        let kind = if status == "completed" {
            "response.completed"
        } else {
            "response.incomplete"
        };
        self.emit(out, kind, json!({"response": response}));
    }

    /// A provider error mid-stream: the Responses `error` event, which also carries the
    /// error object OpenAI's SDKs raise on.
    fn fail(&mut self, error: &Value, out: &mut Vec<Bytes>) {
        self.done = true;
        let message = error["message"].clone();
        let code = error
            .get("code")
            .filter(|c| !c.is_null())
            .or_else(|| error.get("type"))
            .cloned()
            .unwrap_or(Value::Null);
        self.emit(
            out,
            "error",
            json!({"code": code, "message": message, "param": null, "error": error}),
        );
    }
}

#[cfg(test)]
mod tests;
