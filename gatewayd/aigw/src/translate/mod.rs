//! Translation between OpenAI chat completions and Anthropic Messages, both ways: requests
//! ([`to_anthropic`], [`to_openai`]), whole answers ([`response`]) and streams ([`stream`]).
//! System prompts, images, tool definitions and calls (arguments as JSON, streamed in
//! pieces), stop reasons and usage carry over; whatever has no equivalent is a 400 that names
//! the field (`messages[2].content[0].type`), never dropped silently. Gemini, both ways for
//! both ingresses, is [`gemini`].

pub mod bedrock;
pub mod gemini;
pub mod response;
pub mod responses;
pub mod stream;
pub mod to_anthropic;
pub mod to_openai;

use serde_json::Value;

use crate::error::CallError;

/// Anthropic's stop reason as OpenAI's finish reason.
pub fn finish_reason(stop_reason: &str) -> &'static str {
    match stop_reason {
        "max_tokens" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop",
    }
}

/// OpenAI's finish reason as Anthropic's stop reason.
pub fn stop_reason(finish_reason: &str) -> &'static str {
    match finish_reason {
        "length" => "max_tokens",
        "tool_calls" | "function_call" => "tool_use",
        "content_filter" => "refusal",
        _ => "end_turn",
    }
}

/// The value at `key` as a string, or a 400 naming `path`.
fn string<'a>(value: &'a Value, key: &str, path: &str) -> Result<&'a str, CallError> {
    value.get(key).and_then(Value::as_str).ok_or_else(|| {
        CallError::bad_request(
            &format!("{path}.{key}"),
            format!("{path}.{key} must be a string"),
        )
    })
}

/// The 400 for a field the target dialect has no place for.
fn untranslatable(path: &str, target: &str) -> CallError {
    CallError::bad_request(
        path,
        format!("{path} cannot be translated to the {target} API this model is served by"),
    )
}

/// An OpenAI chat message read for translation: its role and its content (null read as
/// absent), or a 400 for a field no target dialect has a place for.
fn chat_message<'a>(
    m: &'a Value,
    path: &str,
    target: &str,
) -> Result<(&'a str, Option<&'a Value>), CallError> {
    let role = string(m, "role", path)?;
    for (key, value) in m.as_object().into_iter().flatten() {
        let known = matches!(
            key.as_str(),
            "role" | "content" | "tool_calls" | "tool_call_id" | "refusal"
        );
        if !known && !value.is_null() {
            return Err(untranslatable(&format!("{path}.{key}"), target));
        }
    }
    Ok((role, m.get("content").filter(|c| !c.is_null())))
}
