//! OpenAI chat completions: reading usage and finish reasons, and building the chunks and
//! objects the gateway writes itself when it translates.

use serde_json::{json, Value};

use super::{count, Usage};

/// Usage of a chat completion (or of the last chunk of a stream that asked for it).
pub fn usage(value: &Value) -> Option<Usage> {
    let usage = value.get("usage").filter(|u| u.is_object())?;
    Some(Usage {
        input: count(usage, "prompt_tokens"),
        output: count(usage, "completion_tokens"),
        cached: usage
            .get("prompt_tokens_details")
            .map_or(0, |d| count(d, "cached_tokens")),
        cache_write: 0,
        reported: true,
    })
}

/// The `usage` object OpenAI writes for `usage`.
pub fn usage_json(usage: &Usage) -> Value {
    json!({
        "prompt_tokens": usage.input,
        "completion_tokens": usage.output,
        "total_tokens": usage.input + usage.output,
        "prompt_tokens_details": {"cached_tokens": usage.cached},
    })
}

/// One `chat.completion.chunk` with one choice delta (or none, for the usage chunk).
pub fn chunk(
    id: &str,
    model: &str,
    created: u64,
    choice: Option<Value>,
    usage: Option<Value>,
) -> Value {
    let mut chunk = json!({
        "id": id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": choice.map_or_else(Vec::new, |c| vec![c]),
    });
    if let Some(usage) = usage {
        chunk["usage"] = usage;
    }
    chunk
}

/// A choice delta at index 0.
pub fn delta(delta: Value, finish_reason: Option<&str>) -> Value {
    json!({"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason})
}
