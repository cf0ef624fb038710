//! ConverseStream's events (`messageStart`, `contentBlockStart` for a tool call,
//! `contentBlockDelta` with text or a piece of a tool call's input JSON, `contentBlockStop`,
//! `messageStop` with the stop reason, then `metadata` with the usage) as OpenAI chunks, and
//! through them as Anthropic's named events. The usage arrives after `messageStop`, so the
//! answer ends (usage chunk when asked for, `[DONE]`) at `metadata`. An `exception` event
//! (`crate::eventstream`) ends the stream with an error in the caller's dialect.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde_json::{json, Value};

use crate::dialect::{bedrock, openai, unix_now};
use crate::sse::{write, SseEvent};
use crate::translate::stream::{OpenAiToAnthropic, StreamState, StreamTranslator};

/// Bedrock's events for an OpenAI caller, or (with `anthropic`) an Anthropic one.
#[derive(Debug)]
pub struct BedrockStream {
    caller_wants_usage: bool,
    /// For an Anthropic caller: the OpenAI → Anthropic translator the chunks go through.
    anthropic: Option<Box<StreamTranslator>>,
    id: String,
    model: String,
    created: u64,
    started: bool,
    /// Converse content block index → OpenAI tool call index.
    tools: BTreeMap<u64, usize>,
    finish: Option<&'static str>,
    done: bool,
}

impl BedrockStream {
    pub fn new(caller_wants_usage: bool, anthropic_caller: bool, model: &str) -> Self {
        Self {
            caller_wants_usage,
            anthropic: anthropic_caller.then(|| {
                Box::new(StreamTranslator::OpenAiToAnthropic(
                    OpenAiToAnthropic::default(),
                ))
            }),
            id: format!("chatcmpl-bedrock-{}", uuid::Uuid::now_v7().simple()),
            model: model.to_string(),
            created: unix_now(),
            started: false,
            tools: BTreeMap::new(),
            finish: None,
            done: false,
        }
    }

    fn chunk(&self, delta: Option<Value>, finish: Option<&str>, usage: Option<Value>) -> String {
        let choice = delta.map(|d| openai::delta(d, finish));
        openai::chunk(&self.id, &self.model, self.created, choice, usage).to_string()
    }

    /// The caller's events for one Bedrock event.
    pub fn event(&mut self, event: &SseEvent, state: &mut StreamState) -> Vec<Bytes> {
        if self.done {
            return Vec::new();
        }
        let Ok(data) = serde_json::from_str::<Value>(&event.data) else {
            return Vec::new();
        };
        state.model_served.get_or_insert_with(|| self.model.clone());
        let mut chunks = Vec::new();
        if !self.started && event.event != "exception" {
            self.started = true;
            chunks.push(self.chunk(
                Some(json!({"role": "assistant", "content": ""})),
                None,
                None,
            ));
        }
        match event.event.as_str() {
            "contentBlockStart" => {
                if let Some(call) = data["start"].get("toolUse") {
                    let index = self.tools.len();
                    let block = data["contentBlockIndex"].as_u64().unwrap_or(0);
                    self.tools.insert(block, index);
                    state
                        .first_token
                        .get_or_insert_with(std::time::Instant::now);
                    let call = json!({"index": index, "id": call["toolUseId"], "type": "function",
                                      "function": {"name": call["name"], "arguments": ""}});
                    chunks.push(self.chunk(Some(json!({"tool_calls": [call]})), None, None));
                }
            }
            "contentBlockDelta" => {
                let delta = &data["delta"];
                if let Some(text) = delta["text"].as_str().filter(|t| !t.is_empty()) {
                    state
                        .first_token
                        .get_or_insert_with(std::time::Instant::now);
                    chunks.push(self.chunk(Some(json!({"content": text})), None, None));
                }
                if let Some(input) = delta["toolUse"]["input"].as_str() {
                    let block = data["contentBlockIndex"].as_u64().unwrap_or(0);
                    // A delta for a block that never started is not a tool call the caller
                    // could assemble: dropped rather than attached to another call.
                    if let Some(index) = self.tools.get(&block) {
                        let call = json!({"index": index, "function": {"arguments": input}});
                        chunks.push(self.chunk(Some(json!({"tool_calls": [call]})), None, None));
                    }
                }
            }
            "messageStop" => {
                let reason = data["stopReason"].as_str().unwrap_or_default();
                let finish = bedrock::finish_reason(reason, !self.tools.is_empty());
                self.finish = Some(finish);
                chunks.push(self.chunk(Some(json!({})), Some(finish), None));
            }
            "metadata" => {
                state.usage = bedrock::usage(&data["usage"]);
                if self.finish.is_some() {
                    self.done = true;
                    state.completed = true;
                    if self.caller_wants_usage && self.anthropic.is_none() {
                        let usage = openai::usage_json(&state.usage);
                        chunks.push(self.chunk(None, None, Some(usage)));
                    }
                    chunks.push("[DONE]".into());
                }
            }
            "exception" => {
                self.done = true;
                let kind = data["type"].as_str().unwrap_or("exception").to_string();
                let message = format!(
                    "Bedrock: {kind}: {}",
                    data["message"].as_str().unwrap_or_default()
                );
                state.error = Some(kind.clone());
                let body = json!({"error": {"message": message, "type": "server_error", "param": null, "code": kind}});
                chunks.push(body.to_string());
            }
            _ => {}
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
            // The OpenAI reader inside may take usage from a chunk; Bedrock's own is the truth.
            state.usage = usage;
        }
        out
    }
}
