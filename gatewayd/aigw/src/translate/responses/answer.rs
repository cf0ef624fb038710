//! A chat completion as a Responses `response` object: text as a `message` item with
//! `output_text`, tool calls as `function_call` items, the finish reason as `status`
//! (`incomplete` with its reason when the output was cut), usage in the Responses shape.
//! The request's settings are echoed as OpenAI does ([`shell`]), with `store: false`.

use serde_json::{json, Value};

use crate::dialect::{responses, Usage};
use crate::error::CallError;

/// The request fields a `response` object repeats.
const ECHOED: [&str; 10] = [
    "instructions",
    "max_output_tokens",
    "parallel_tool_calls",
    "temperature",
    "top_p",
    "tool_choice",
    "tools",
    "text",
    "metadata",
    "user",
];

/// What a `response` object says for an echoed field the request left out (OpenAI's
/// defaults).
fn default_of(key: &str) -> Value {
    match key {
        "parallel_tool_calls" => json!(true),
        "temperature" | "top_p" => json!(1.0),
        "tool_choice" => json!("auto"),
        "tools" => json!([]),
        "text" => json!({"format": {"type": "text"}}),
        "metadata" => json!({}),
        _ => Value::Null,
    }
}

/// The fields of `request` a `response` object repeats (kept for a stream's lifetime
/// instead of the whole request).
pub fn echoed(request: &Value) -> Value {
    let mut echo = json!({});
    for key in ECHOED {
        if let Some(v) = request.get(key) {
            echo[key] = v.clone();
        }
    }
    echo
}

/// The `response` object of a call answered by `model`, before any output: status
/// `in_progress`, the request's settings echoed.
pub fn shell(id: &str, created_at: u64, model: &str, request: &Value) -> Value {
    let mut response = json!({
        "id": id, "object": "response", "created_at": created_at, "status": "in_progress",
        "error": null, "incomplete_details": null, "model": model, "output": [],
        "previous_response_id": null, "reasoning": {"effort": null, "summary": null},
        "store": false, "truncation": "disabled", "usage": null,
    });
    for key in ECHOED {
        response[key] = request
            .get(key)
            .filter(|v| !v.is_null())
            .cloned()
            .unwrap_or_else(|| default_of(key));
    }
    response
}

/// A chat finish reason as the response's `status` and `incomplete_details`.
pub fn status(finish_reason: Option<&str>) -> (&'static str, Value) {
    match finish_reason {
        Some("length") => ("incomplete", json!({"reason": "max_output_tokens"})),
        Some("content_filter") => ("incomplete", json!({"reason": "content_filter"})),
        _ => ("completed", Value::Null),
    }
}

/// The `message` output item holding `text`.
pub fn message_item(id: &str, text: &str, status: &str) -> Value {
    json!({"type": "message", "id": id, "status": status, "role": "assistant",
           "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]})
}

/// A `function_call` output item.
pub fn function_call_item(call_id: &str, name: &Value, arguments: &str, status: &str) -> Value {
    json!({"type": "function_call", "id": format!("fc_{call_id}"), "call_id": call_id,
           "name": name, "arguments": arguments, "status": status})
}

/// `completion` (a chat completion) as the `response` with id `id` to `request`, with the
/// usage the provider reported (already read by its own rules).
pub fn from_chat(
    completion: &Value,
    id: &str,
    request: &Value,
    usage: &Usage,
) -> Result<Value, CallError> {
    let choice = completion
        .get("choices")
        .and_then(|c| c.get(0))
        .ok_or_else(|| CallError::BadGateway("the provider answered without a choice".into()))?;
    let message = choice.get("message").unwrap_or(&Value::Null);
    let model = completion
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("");
    let created = completion
        .get("created")
        .and_then(Value::as_u64)
        .unwrap_or_else(crate::dialect::unix_now);
    let mut output = Vec::new();
    if let Some(text) = message
        .get("content")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        output.push(message_item(
            &format!("msg_{}", suffix(id)),
            text,
            "completed",
        ));
    }
    if let Some(refusal) = message.get("refusal").and_then(Value::as_str) {
        output.push(json!({"type": "message", "id": format!("msg_{}_refusal", suffix(id)), "status": "completed",
            "role": "assistant", "content": [{"type": "refusal", "refusal": refusal}]}));
    }
    for call in message
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let function = call.get("function").unwrap_or(&Value::Null);
        output.push(function_call_item(
            call.get("id").and_then(Value::as_str).unwrap_or(""),
            function.get("name").unwrap_or(&Value::Null),
            function
                .get("arguments")
                .and_then(Value::as_str)
                .unwrap_or("{}"),
            "completed",
        ));
    }
    let (status, incomplete) = status(choice.get("finish_reason").and_then(Value::as_str));
    let mut response = shell(id, created, model, request);
    response["status"] = json!(status);
    response["incomplete_details"] = incomplete;
    response["output"] = Value::Array(output);
    response["usage"] = responses::usage_json(usage);
    Ok(response)
}

/// The part of a response id after `resp_`, to name its items.
pub fn suffix(id: &str) -> &str {
    id.strip_prefix("resp_").unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_tools_and_cut_outputs_carry_over() {
        let completion = json!({"id": "chatcmpl-1", "created": 1700000000, "model": "claude-x",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": "Checking.",
                "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]}}]});
        let usage = Usage {
            input: 23,
            cached: 8,
            output: 9,
            reported: true,
            ..Usage::default()
        };
        let request = json!({"input": "x", "instructions": "Be brief.", "tools": [{"type": "function", "name": "get_weather"}]});
        let r = from_chat(&completion, "resp_abc", &request, &usage).unwrap();
        assert_eq!(
            (r["object"].as_str(), r["status"].as_str()),
            (Some("response"), Some("completed"))
        );
        assert_eq!(r["output"][0]["content"][0]["text"], "Checking.");
        assert_eq!(r["output"][0]["id"], "msg_abc");
        assert_eq!(r["output"][1]["call_id"], "call_1");
        assert_eq!(r["output"][1]["arguments"], "{\"city\":\"Paris\"}");
        assert_eq!(r["usage"]["input_tokens_details"]["cached_tokens"], 8);
        assert_eq!(r["instructions"], "Be brief.");
        assert_eq!(r["tools"], request["tools"]);
        assert_eq!(r["store"], false);
        let mut cut = completion.clone();
        cut["choices"][0]["finish_reason"] = json!("length");
        let r = from_chat(&cut, "resp_abc", &request, &usage).unwrap();
        assert_eq!(r["status"], "incomplete");
        assert_eq!(r["incomplete_details"]["reason"], "max_output_tokens");
        assert!(from_chat(&json!({"choices": []}), "resp_x", &request, &usage).is_err());
    }
}
