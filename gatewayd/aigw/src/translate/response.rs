//! Whole (non-streamed) answers from one dialect into the other.

use serde_json::{json, Value};

use super::{finish_reason, stop_reason};
use crate::dialect::{anthropic, openai, unix_now};
use crate::error::CallError;

/// An Anthropic message as an OpenAI chat completion.
pub fn anthropic_to_openai(message: &Value) -> Value {
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    for block in message
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match block.get("type").and_then(Value::as_str) {
            Some("text") => text.push_str(block.get("text").and_then(Value::as_str).unwrap_or("")),
            Some("tool_use") => tool_calls.push(json!({
                "id": block.get("id").cloned().unwrap_or(Value::Null),
                "type": "function",
                "function": {
                    "name": block.get("name").cloned().unwrap_or(Value::Null),
                    "arguments": block.get("input").cloned().unwrap_or_else(|| json!({})).to_string(),
                },
            })),
            _ => {}
        }
    }
    let mut msg = json!({"role": "assistant", "content": if text.is_empty() && !tool_calls.is_empty() { Value::Null } else { json!(text) }, "refusal": null});
    if !tool_calls.is_empty() {
        msg["tool_calls"] = Value::Array(tool_calls);
    }
    let reason = message
        .get("stop_reason")
        .and_then(Value::as_str)
        .map(finish_reason)
        .unwrap_or("stop");
    let usage = anthropic::usage(message.get("usage").unwrap_or(&Value::Null));
    json!({
        "id": message.get("id").cloned().unwrap_or_else(|| json!("")),
        "object": "chat.completion",
        "created": unix_now(),
        "model": message.get("model").cloned().unwrap_or(Value::Null),
        "choices": [{"index": 0, "message": msg, "logprobs": null, "finish_reason": reason}],
        "usage": openai::usage_json(&usage),
    })
}

/// An OpenAI chat completion as an Anthropic message.
pub fn openai_to_anthropic(completion: &Value) -> Result<Value, CallError> {
    let choice = completion
        .get("choices")
        .and_then(|c| c.get(0))
        .ok_or_else(|| CallError::BadGateway("the provider answered without a choice".into()))?;
    let message = choice.get("message").unwrap_or(&Value::Null);
    let mut content = Vec::new();
    if let Some(text) = message
        .get("content")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        content.push(json!({"type": "text", "text": text}));
    }
    for call in message
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let function = call.get("function").unwrap_or(&Value::Null);
        let arguments = function
            .get("arguments")
            .and_then(Value::as_str)
            .unwrap_or("{}");
        let input: Value = serde_json::from_str(arguments).map_err(|_| {
            CallError::BadGateway("the provider answered tool arguments that are not JSON".into())
        })?;
        content.push(json!({
            "type": "tool_use",
            "id": call.get("id").cloned().unwrap_or(Value::Null),
            "name": function.get("name").cloned().unwrap_or(Value::Null),
            "input": input,
        }));
    }
    let reason = choice
        .get("finish_reason")
        .and_then(Value::as_str)
        .map(stop_reason)
        .unwrap_or("end_turn");
    let usage = openai::usage(completion).unwrap_or_default();
    Ok(json!({
        "id": completion.get("id").cloned().unwrap_or_else(|| json!("")),
        "type": "message",
        "role": "assistant",
        "model": completion.get("model").cloned().unwrap_or(Value::Null),
        "content": content,
        "stop_reason": reason,
        "stop_sequence": null,
        "usage": anthropic::usage_json(&usage),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_keep_text_tools_stop_reasons_and_usage() {
        let message = json!({
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x",
            "content": [{"type": "text", "text": "Checking."}, {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}],
            "stop_reason": "tool_use",
            "usage": {"input_tokens": 10, "cache_read_input_tokens": 90, "output_tokens": 7},
        });
        let openai = anthropic_to_openai(&message);
        assert_eq!(openai["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(
            openai["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"],
            "{\"city\":\"Paris\"}"
        );
        assert_eq!(openai["usage"]["prompt_tokens"], 100);
        assert_eq!(
            openai["usage"]["prompt_tokens_details"]["cached_tokens"],
            90
        );
        let back = openai_to_anthropic(&openai).unwrap();
        assert_eq!(back["content"], message["content"]);
        assert_eq!(back["stop_reason"], "tool_use");
        assert_eq!(back["usage"]["input_tokens"], 10);
        assert_eq!(back["usage"]["cache_read_input_tokens"], 90);
    }
}
