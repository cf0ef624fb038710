//! OpenAI chat completions: reading usage and finish reasons, and building the chunks and
//! objects the gateway writes itself when it translates.

use serde_json::{json, Value};

use super::{count, Usage, UsageFlags};

/// Usage of a chat completion (or of the last chunk of a stream that asked for it), by
/// OpenAI's rules: `cached_tokens` are part of `prompt_tokens`, `reasoning_tokens` part of
/// `completion_tokens`.
pub fn usage(value: &Value) -> Option<Usage> {
    let usage = value.get("usage").filter(|u| u.is_object())?;
    let mut flags = UsageFlags::default();
    let null = Value::Null;
    let prompt = usage.get("prompt_tokens_details").unwrap_or(&null);
    let completion = usage.get("completion_tokens_details").unwrap_or(&null);
    let read = Usage {
        input: count(usage, "prompt_tokens", &mut flags),
        output: count(usage, "completion_tokens", &mut flags),
        cached: count(prompt, "cached_tokens", &mut flags),
        cache_write: 0,
        reasoning: count(completion, "reasoning_tokens", &mut flags),
        reported: true,
        flags: UsageFlags::default(),
    };
    Some(Usage { flags, ..read }.settle())
}

/// The `usage` object OpenAI writes for `usage`.
pub fn usage_json(usage: &Usage) -> Value {
    json!({
        "prompt_tokens": usage.input,
        "completion_tokens": usage.output,
        "total_tokens": usage.input.saturating_add(usage.output),
        "prompt_tokens_details": {"cached_tokens": usage.cached},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning},
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
