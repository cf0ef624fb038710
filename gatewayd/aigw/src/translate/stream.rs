//! Streams, event by event: each provider event is read as it arrives and written at once in
//! the caller's dialect (nothing is held back but the event being parsed). Usage is taken
//! from the provider's own events by its rules; OpenAI streams always ask for usage
//! upstream, and the extra usage chunk is removed when the caller did not ask for it.

use std::collections::BTreeMap;
use std::time::Instant;

use bytes::Bytes;
use serde_json::{json, Value};

use super::{finish_reason, stop_reason};
use crate::dialect::{anthropic, openai, unix_now, Usage};
use crate::sse::{write, SseEvent};

/// What a stream told the gateway, for accounting and the log.
#[derive(Debug, Default)]
pub struct StreamState {
    pub usage: Usage,
    pub model_served: Option<String>,
    pub first_token: Option<Instant>,
    /// The provider said the answer is complete (`[DONE]`, `message_stop`).
    pub completed: bool,
    /// An error event arrived mid-stream (its type).
    pub error: Option<String>,
    /// Deltas with content relayed (about one token each): the output counted when a caller
    /// hangs up before the provider reported it.
    pub deltas: u64,
}

impl StreamState {
    fn token(&mut self) {
        self.first_token.get_or_insert_with(Instant::now);
        self.deltas = self.deltas.saturating_add(1);
    }
}

/// How one stream's events become the caller's.
#[derive(Debug)]
pub enum StreamTranslator {
    /// OpenAI to an OpenAI caller: events pass unchanged, but the usage chunk only when asked.
    OpenAi {
        caller_wants_usage: bool,
    },
    /// Anthropic to an Anthropic caller: events pass unchanged.
    Anthropic,
    AnthropicToOpenAi(AnthropicToOpenAi),
    OpenAiToAnthropic(OpenAiToAnthropic),
    /// Gemini to either caller (`super::gemini::stream`).
    Gemini(Box<super::gemini::stream::GeminiStream>),
    /// A Responses API stream (`super::responses::stream`).
    Responses(Box<super::responses::stream::ResponsesStream>),
    /// Bedrock's ConverseStream to either caller (`super::bedrock::stream`); its events come
    /// in AWS's binary framing, not SSE (`crate::eventstream`).
    Bedrock(Box<super::bedrock::stream::BedrockStream>),
}

impl StreamTranslator {
    /// The caller's events for one provider event.
    pub fn event(&mut self, event: &SseEvent, state: &mut StreamState) -> Vec<Bytes> {
        match self {
            Self::OpenAi { caller_wants_usage } => {
                openai_passthrough(event, *caller_wants_usage, state)
            }
            Self::Anthropic => {
                read_anthropic(event, state);
                let name = (!event.event.is_empty()).then_some(event.event.as_str());
                vec![write(name, &event.data)]
            }
            Self::AnthropicToOpenAi(t) => t.event(event, state),
            Self::OpenAiToAnthropic(t) => t.event(event, state),
            Self::Gemini(t) => t.event(event, state),
            Self::Responses(t) => t.event(event, state),
            Self::Bedrock(t) => t.event(event, state),
        }
    }
}

fn openai_passthrough(event: &SseEvent, wants_usage: bool, state: &mut StreamState) -> Vec<Bytes> {
    if event.data == "[DONE]" {
        state.completed = true;
        return vec![write(None, "[DONE]")];
    }
    if let Ok(chunk) = serde_json::from_str::<Value>(&event.data) {
        read_openai(&chunk, state);
        let no_choices = chunk
            .get("choices")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty);
        if !wants_usage && no_choices && chunk.get("usage").is_some_and(Value::is_object) {
            return Vec::new();
        }
    }
    vec![write(None, &event.data)]
}

/// Usage, model, first token and errors of an OpenAI chunk.
fn read_openai(chunk: &Value, state: &mut StreamState) {
    if let Some(error) = chunk.get("error") {
        state.error = Some(
            error
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("error")
                .to_string(),
        );
    }
    if let Some(model) = chunk.get("model").and_then(Value::as_str) {
        state.model_served.get_or_insert_with(|| model.to_string());
    }
    if let Some(usage) = openai::usage(chunk) {
        state.usage = usage;
    }
    let produced = chunk
        .get("choices")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| {
            let d = &c["delta"];
            d["content"].as_str().is_some_and(|s| !s.is_empty()) || d["tool_calls"].is_array()
        });
    if produced {
        state.token();
    }
}

/// Usage, model, first token, completion and errors of an Anthropic event.
fn read_anthropic(event: &SseEvent, state: &mut StreamState) {
    let Ok(data) = serde_json::from_str::<Value>(&event.data) else {
        return;
    };
    match event.event.as_str() {
        "message_start" => {
            let message = &data["message"];
            state.usage = anthropic::usage(&message["usage"]);
            if let Some(model) = message["model"].as_str() {
                state.model_served = Some(model.to_string());
            }
        }
        "content_block_start" if data["content_block"]["type"] == "tool_use" => state.token(),
        "content_block_delta" => state.token(),
        "message_delta" => anthropic::merge(&mut state.usage, &data["usage"]),
        "message_stop" => state.completed = true,
        "error" => {
            state.error = Some(
                data["error"]["type"]
                    .as_str()
                    .unwrap_or("error")
                    .to_string(),
            );
        }
        _ => {}
    }
}

/// Anthropic's named events as OpenAI chunks.
#[derive(Debug)]
pub struct AnthropicToOpenAi {
    caller_wants_usage: bool,
    id: String,
    model: String,
    created: u64,
    /// Anthropic content block index → OpenAI tool call index.
    tools: BTreeMap<u64, usize>,
    finish: Option<&'static str>,
}

impl AnthropicToOpenAi {
    pub fn new(caller_wants_usage: bool) -> Self {
        Self {
            caller_wants_usage,
            id: String::new(),
            model: String::new(),
            created: unix_now(),
            tools: BTreeMap::new(),
            finish: None,
        }
    }

    fn chunk(&self, delta: Value, finish: Option<&str>) -> Bytes {
        let chunk = openai::chunk(
            &self.id,
            &self.model,
            self.created,
            Some(openai::delta(delta, finish)),
            None,
        );
        write(None, &chunk.to_string())
    }

    fn event(&mut self, event: &SseEvent, state: &mut StreamState) -> Vec<Bytes> {
        read_anthropic(event, state);
        let Ok(data) = serde_json::from_str::<Value>(&event.data) else {
            return Vec::new();
        };
        match event.event.as_str() {
            "message_start" => {
                self.id = data["message"]["id"].as_str().unwrap_or("").to_string();
                self.model = data["message"]["model"].as_str().unwrap_or("").to_string();
                vec![self.chunk(json!({"role": "assistant", "content": ""}), None)]
            }
            "content_block_start" => {
                let block = &data["content_block"];
                if block["type"] == "tool_use" {
                    let index = self.tools.len();
                    self.tools
                        .insert(data["index"].as_u64().unwrap_or(0), index);
                    let call = json!({"index": index, "id": block["id"], "type": "function", "function": {"name": block["name"], "arguments": ""}});
                    vec![self.chunk(json!({"tool_calls": [call]}), None)]
                } else if let Some(text) = block["text"].as_str().filter(|t| !t.is_empty()) {
                    vec![self.chunk(json!({"content": text}), None)]
                } else {
                    Vec::new()
                }
            }
            "content_block_delta" => {
                let delta = &data["delta"];
                match delta["type"].as_str() {
                    Some("text_delta") => vec![self.chunk(json!({"content": delta["text"]}), None)],
                    Some("input_json_delta") => {
                        let block = data["index"].as_u64().unwrap_or(0);
                        let index = self.tools.get(&block).copied().unwrap_or(0);
                        let call = json!({"index": index, "function": {"arguments": delta["partial_json"]}});
                        vec![self.chunk(json!({"tool_calls": [call]}), None)]
                    }
                    _ => Vec::new(),
                }
            }
            "message_delta" => match data["delta"]["stop_reason"].as_str() {
                Some(reason) => {
                    let finish = finish_reason(reason);
                    self.finish = Some(finish);
                    vec![self.chunk(json!({}), Some(finish))]
                }
                None => Vec::new(),
            },
            "message_stop" => {
                let mut out = Vec::new();
                if self.caller_wants_usage {
                    let usage = openai::usage_json(&state.usage);
                    let chunk =
                        openai::chunk(&self.id, &self.model, self.created, None, Some(usage));
                    out.push(write(None, &chunk.to_string()));
                }
                out.push(write(None, "[DONE]"));
                out
            }
            "error" => {
                let error = &data["error"];
                let body = json!({"error": {"message": error["message"], "type": error["type"], "param": null, "code": null}});
                vec![write(None, &body.to_string())]
            }
            _ => Vec::new(),
        }
    }
}

/// OpenAI chunks as Anthropic's named events.
#[derive(Debug, Default)]
pub struct OpenAiToAnthropic {
    started: bool,
    /// The open content block: its Anthropic index.
    open: Option<u64>,
    open_is_text: bool,
    next_index: u64,
    /// OpenAI tool call index → Anthropic content block index.
    tools: BTreeMap<u64, u64>,
    finish: Option<&'static str>,
    done: bool,
}

impl OpenAiToAnthropic {
    fn start(&mut self, chunk: &Value, out: &mut Vec<Bytes>) {
        if self.started {
            return;
        }
        self.started = true;
        let message = json!({
            "id": chunk["id"], "type": "message", "role": "assistant", "model": chunk["model"],
            "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        });
        out.push(write(
            Some("message_start"),
            &json!({"type": "message_start", "message": message}).to_string(),
        ));
    }

    fn close(&mut self, out: &mut Vec<Bytes>) {
        if let Some(index) = self.open.take() {
            out.push(write(
                Some("content_block_stop"),
                &json!({"type": "content_block_stop", "index": index}).to_string(),
            ));
        }
    }

    fn open(&mut self, block: Value, is_text: bool, out: &mut Vec<Bytes>) -> u64 {
        self.close(out);
        let index = self.next_index;
        self.next_index += 1;
        self.open = Some(index);
        self.open_is_text = is_text;
        out.push(write(
            Some("content_block_start"),
            &json!({"type": "content_block_start", "index": index, "content_block": block})
                .to_string(),
        ));
        index
    }

    fn delta(index: u64, delta: Value) -> Bytes {
        write(
            Some("content_block_delta"),
            &json!({"type": "content_block_delta", "index": index, "delta": delta}).to_string(),
        )
    }

    fn event(&mut self, event: &SseEvent, state: &mut StreamState) -> Vec<Bytes> {
        let mut out = Vec::new();
        if self.done {
            return out;
        }
        if event.data == "[DONE]" {
            state.completed = true;
            self.finish_message(state, &mut out);
            return out;
        }
        let Ok(chunk) = serde_json::from_str::<Value>(&event.data) else {
            return out;
        };
        read_openai(&chunk, state);
        if let Some(error) = chunk.get("error") {
            let body = json!({"type": "error", "error": {"type": "api_error", "message": error["message"]}});
            out.push(write(Some("error"), &body.to_string()));
            self.done = true;
            return out;
        }
        self.start(&chunk, &mut out);
        for choice in chunk["choices"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["index"].as_u64().unwrap_or(0) == 0)
        {
            let delta = &choice["delta"];
            if let Some(text) = delta["content"].as_str().filter(|t| !t.is_empty()) {
                let index = match self.open {
                    Some(index) if self.open_is_text => index,
                    _ => self.open(json!({"type": "text", "text": ""}), true, &mut out),
                };
                out.push(Self::delta(
                    index,
                    json!({"type": "text_delta", "text": text}),
                ));
            }
            for call in delta["tool_calls"].as_array().into_iter().flatten() {
                let key = call["index"].as_u64().unwrap_or(0);
                let index = match self.tools.get(&key) {
                    Some(index) => *index,
                    None => {
                        let block = json!({"type": "tool_use", "id": call["id"], "name": call["function"]["name"], "input": {}});
                        let index = self.open(block, false, &mut out);
                        self.tools.insert(key, index);
                        index
                    }
                };
                if let Some(part) = call["function"]["arguments"]
                    .as_str()
                    .filter(|a| !a.is_empty())
                {
                    out.push(Self::delta(
                        index,
                        json!({"type": "input_json_delta", "partial_json": part}),
                    ));
                }
            }
            if let Some(reason) = choice["finish_reason"].as_str() {
                self.finish = Some(stop_reason(reason));
            }
        }
        out
    }

    fn finish_message(&mut self, state: &StreamState, out: &mut Vec<Bytes>) {
        self.done = true;
        if !self.started {
            return;
        }
        self.close(out);
        let delta = json!({
            "type": "message_delta",
            "delta": {"stop_reason": self.finish.unwrap_or("end_turn"), "stop_sequence": null},
            "usage": anthropic::usage_json(&state.usage),
        });
        out.push(write(Some("message_delta"), &delta.to_string()));
        out.push(write(
            Some("message_stop"),
            &json!({"type": "message_stop"}).to_string(),
        ));
    }
}

#[cfg(test)]
mod tests;
