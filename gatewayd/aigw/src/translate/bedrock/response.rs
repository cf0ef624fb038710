//! A whole Converse answer as an OpenAI chat completion, and through it as an Anthropic
//! message: text blocks joined, `toolUse` blocks as tool calls (input as JSON text),
//! `stopReason` as the caller's stop reason, `usage` by AWS's rules (cache writes kept for
//! Anthropic callers, whose usage has a field for them). Reasoning blocks are left out: they
//! are not the answer.

use serde_json::{json, Value};

use crate::dialect::{anthropic, bedrock, openai, unix_now};
use crate::error::CallError;
use crate::translate::response::openai_to_anthropic;

/// The text and tool calls of a Converse `output.message`.
fn blocks(answer: &Value) -> (String, Vec<Value>) {
    let mut text = String::new();
    let mut calls = Vec::new();
    let content = answer["output"]["message"]["content"].as_array();
    for block in content.into_iter().flatten() {
        if let Some(t) = block["text"].as_str() {
            text.push_str(t);
        }
        if let Some(call) = block.get("toolUse") {
            calls.push(json!({
                "id": call["toolUseId"],
                "type": "function",
                "function": {
                    "name": call["name"],
                    "arguments": call.get("input").cloned().unwrap_or_else(|| json!({})).to_string(),
                },
            }));
        }
    }
    (text, calls)
}

/// A Converse answer as an OpenAI chat completion; `model` is the model asked of Bedrock
/// (Converse does not name it in the answer).
pub fn to_openai(answer: &Value, model: &str) -> Value {
    let (text, calls) = blocks(answer);
    let finish = bedrock::finish_reason(
        answer["stopReason"].as_str().unwrap_or_default(),
        !calls.is_empty(),
    );
    let mut message = json!({
        "role": "assistant",
        "content": if text.is_empty() && !calls.is_empty() { Value::Null } else { json!(text) },
        "refusal": null,
    });
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
    }
    let usage = bedrock::usage(&answer["usage"]);
    json!({
        "id": format!("chatcmpl-bedrock-{}", uuid::Uuid::now_v7().simple()),
        "object": "chat.completion",
        "created": unix_now(),
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
        "usage": openai::usage_json(&usage),
    })
}

/// A Converse answer as an Anthropic message.
pub fn to_anthropic(answer: &Value, model: &str) -> Result<Value, CallError> {
    let mut message = openai_to_anthropic(&to_openai(answer, model))?;
    // The OpenAI form has no cache writes: Anthropic's usage is written from Bedrock's own.
    message["usage"] = anthropic::usage_json(&bedrock::usage(&answer["usage"]));
    message["id"] = json!(format!("msg_bedrock_{}", uuid::Uuid::now_v7().simple()));
    Ok(message)
}
