//! A whole Gemini answer (`GenerateContentResponse`) as an OpenAI chat completion, and
//! through it as an Anthropic message: text parts joined, `functionCall` parts as tool calls
//! (arguments as JSON text, ids made up when Gemini gave none), `finishReason` as the
//! caller's stop reason, `usageMetadata` by Google's rules. A prompt Gemini blocked
//! (`promptFeedback.blockReason`, no candidate) is an empty answer stopped by the content
//! filter, as OpenAI reports its own.

use serde_json::{json, Value};

use crate::dialect::{gemini, openai, unix_now};
use crate::error::CallError;
use crate::translate::response::openai_to_anthropic;

/// A tool call id for Gemini calls without one: unique, in the alphabet both dialects
/// accept.
pub(super) fn call_id() -> String {
    format!("call_{}", uuid::Uuid::now_v7().simple())
}

/// What separates a call's id from the `thoughtSignature` Gemini attached to the call.
/// Gemini (3 and later) refuses a conversation whose earlier function calls come back
/// without their signatures; neither ingress has a field for one, so it rides in the tool
/// call id, which every client sends back unchanged with the tool's answer.
pub(super) const SIGNATURE: &str = "~sig~";

/// The text and tool calls of one candidate's parts (thought summaries left out: they are
/// not the answer).
pub(super) fn parts(candidate: &Value) -> (String, Vec<Value>) {
    let mut text = String::new();
    let mut calls = Vec::new();
    for part in candidate["content"]["parts"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if part["thought"] == true {
            continue;
        }
        if let Some(t) = part["text"].as_str() {
            text.push_str(t);
        }
        if let Some(call) = part.get("functionCall") {
            let mut id = call["id"]
                .as_str()
                .filter(|id| !id.is_empty())
                .map_or_else(call_id, str::to_string);
            if let Some(signature) = part["thoughtSignature"].as_str() {
                id = format!("{id}{SIGNATURE}{signature}");
            }
            calls.push(json!({
                "id": id,
                "type": "function",
                "function": {
                    "name": call["name"],
                    "arguments": call.get("args").cloned().unwrap_or_else(|| json!({})).to_string(),
                },
            }));
        }
    }
    (text, calls)
}

/// The model that served: Gemini's `modelVersion`.
pub fn model(answer: &Value) -> Option<String> {
    answer["modelVersion"].as_str().map(str::to_string)
}

/// A Gemini answer as an OpenAI chat completion.
pub fn to_openai(answer: &Value) -> Value {
    let candidate = &answer["candidates"][0];
    let (text, calls) = parts(candidate);
    let finish = match candidate["finishReason"].as_str() {
        Some(reason) => gemini::finish_reason(reason, !calls.is_empty()),
        None if answer["promptFeedback"]["blockReason"].is_string() => "content_filter",
        None if !calls.is_empty() => "tool_calls",
        None => "stop",
    };
    let mut message = json!({
        "role": "assistant",
        "content": if text.is_empty() && !calls.is_empty() { Value::Null } else { json!(text) },
        "refusal": null,
    });
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
    }
    let usage = gemini::usage(&answer["usageMetadata"]);
    json!({
        "id": answer["responseId"].as_str().map_or_else(|| "chatcmpl-gemini".to_string(), |id| format!("chatcmpl-{id}")),
        "object": "chat.completion",
        "created": unix_now(),
        "model": answer.get("modelVersion").cloned().unwrap_or(Value::Null),
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
        "usage": openai::usage_json(&usage),
    })
}

/// A Gemini answer as an Anthropic message.
pub fn to_anthropic(answer: &Value) -> Result<Value, CallError> {
    let mut message = openai_to_anthropic(&to_openai(answer))?;
    // The OpenAI form has no cache writes and Gemini reports none: the usage carries over
    // exactly (input excludes cached reads, as Anthropic counts).
    if let Some(id) = answer["responseId"].as_str() {
        message["id"] = json!(format!("msg_{id}"));
    }
    Ok(message)
}
