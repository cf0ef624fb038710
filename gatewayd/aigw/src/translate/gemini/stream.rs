//! A Gemini stream (`streamGenerateContent?alt=sse`: each event a whole
//! `GenerateContentResponse` with the next piece of the answer, `usageMetadata` growing to
//! its final value on the last) as OpenAI chunks, and through them as Anthropic's named
//! events. Gemini sends no end marker: the chunk with a `finishReason` ends the answer, so
//! the usage chunk (when asked for) and `[DONE]` follow it at once. Usage is read from every
//! chunk that has it, so a later one still counts in the log.

use bytes::Bytes;
use serde_json::{json, Value};

use super::response::{call_id, parts};
use crate::dialect::{gemini, openai, unix_now};
use crate::sse::{write, SseEvent};
use crate::translate::stream::{OpenAiToAnthropic, StreamState, StreamTranslator};

/// Gemini's events for an OpenAI caller, or (with `anthropic`) an Anthropic one.
#[derive(Debug)]
pub struct GeminiStream {
    caller_wants_usage: bool,
    /// For an Anthropic caller: the OpenAI → Anthropic translator the chunks go through.
    anthropic: Option<Box<StreamTranslator>>,
    id: String,
    model: String,
    created: u64,
    started: bool,
    tools: usize,
    done: bool,
}

impl GeminiStream {
    pub fn new(caller_wants_usage: bool, anthropic_caller: bool) -> Self {
        Self {
            caller_wants_usage,
            anthropic: anthropic_caller.then(|| {
                Box::new(StreamTranslator::OpenAiToAnthropic(
                    OpenAiToAnthropic::default(),
                ))
            }),
            id: String::new(),
            model: String::new(),
            created: unix_now(),
            started: false,
            tools: 0,
            done: false,
        }
    }

    fn chunk(&self, delta: Option<Value>, finish: Option<&str>, usage: Option<Value>) -> Value {
        let choice = delta.map(|d| openai::delta(d, finish));
        openai::chunk(&self.id, &self.model, self.created, choice, usage)
    }

    /// The caller's events for one Gemini event.
    pub fn event(&mut self, event: &SseEvent, state: &mut StreamState) -> Vec<Bytes> {
        let Ok(data) = serde_json::from_str::<Value>(&event.data) else {
            return Vec::new();
        };
        if !data["usageMetadata"].is_null() {
            state.usage = gemini::usage(&data["usageMetadata"]);
        }
        if self.done {
            return Vec::new();
        }
        let mut chunks: Vec<String> = Vec::new();
        if let Some(error) = data.get("error") {
            self.done = true;
            state.error = Some(error["status"].as_str().unwrap_or("error").to_string());
            let body = json!({"error": {"message": error["message"], "type": "server_error", "param": null, "code": error["status"]}});
            chunks.push(body.to_string());
            return self.emit(chunks, state);
        }
        if let Some(model) = data["modelVersion"].as_str() {
            state.model_served.get_or_insert_with(|| model.to_string());
            if self.model.is_empty() {
                self.model = model.to_string();
            }
        }
        if !self.started {
            self.started = true;
            self.id = data["responseId"]
                .as_str()
                .map_or_else(|| "chatcmpl-gemini".into(), |id| format!("chatcmpl-{id}"));
            chunks.push(
                self.chunk(
                    Some(json!({"role": "assistant", "content": ""})),
                    None,
                    None,
                )
                .to_string(),
            );
        }
        let candidate = &data["candidates"][0];
        let (text, calls) = parts(candidate);
        if !text.is_empty() {
            state
                .first_token
                .get_or_insert_with(std::time::Instant::now);
            chunks.push(
                self.chunk(Some(json!({"content": text})), None, None)
                    .to_string(),
            );
        }
        for mut call in calls {
            state
                .first_token
                .get_or_insert_with(std::time::Instant::now);
            call["index"] = json!(self.tools);
            if call["id"].as_str().is_none() {
                call["id"] = json!(call_id());
            }
            self.tools += 1;
            chunks.push(
                self.chunk(Some(json!({"tool_calls": [call]})), None, None)
                    .to_string(),
            );
        }
        let blocked = data["promptFeedback"]["blockReason"].is_string();
        let finish = match candidate["finishReason"].as_str() {
            Some(reason) => Some(gemini::finish_reason(reason, self.tools > 0)),
            None if blocked => Some("content_filter"),
            None => None,
        };
        if let Some(finish) = finish {
            self.done = true;
            state.completed = true;
            chunks.push(self.chunk(Some(json!({})), Some(finish), None).to_string());
            if self.caller_wants_usage && self.anthropic.is_none() {
                let usage = openai::usage_json(&state.usage);
                chunks.push(self.chunk(None, None, Some(usage)).to_string());
            }
            chunks.push("[DONE]".into());
        }
        self.emit(chunks, state)
    }

    /// Writes the OpenAI chunks for the caller: as they are, or as Anthropic events.
    fn emit(&mut self, chunks: Vec<String>, state: &mut StreamState) -> Vec<Bytes> {
        let Some(anthropic) = self.anthropic.as_mut() else {
            return chunks.iter().map(|c| write(None, c)).collect();
        };
        let usage = state.usage;
        let mut out = Vec::new();
        for data in chunks {
            let event = SseEvent {
                event: String::new(),
                data,
            };
            out.extend(anthropic.event(&event, state));
            // The OpenAI reader inside may take usage from a chunk; Gemini's own is the truth.
            state.usage = usage;
        }
        out
    }
}
