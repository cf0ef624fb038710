//! Anthropic Messages: reading usage by Anthropic's rules (`input_tokens` excludes cache
//! reads and writes; `message_delta` usage is cumulative) and the version header.

use serde_json::{json, Value};

use super::{count, Usage};

/// The API version the gateway speaks when the caller named none.
pub const VERSION: &str = "2023-06-01";

/// Usage from a `usage` object (a message's, `message_start`'s or `message_delta`'s), in the
/// gateway's convention (input includes cache reads and writes).
pub fn usage(usage: &Value) -> Usage {
    let base = count(usage, "input_tokens");
    let cached = count(usage, "cache_read_input_tokens");
    let cache_write = count(usage, "cache_creation_input_tokens");
    Usage {
        input: base + cached + cache_write,
        output: count(usage, "output_tokens"),
        cached,
        cache_write,
        reported: usage.is_object(),
    }
}

/// Folds a later (cumulative) `message_delta` usage into what `message_start` said: fields
/// present replace the earlier ones.
pub fn merge(into: &mut Usage, delta: &Value) {
    if !delta.is_object() {
        return;
    }
    into.reported = true;
    if let Some(output) = delta.get("output_tokens").and_then(Value::as_u64) {
        into.output = output;
    }
    let has_input = [
        "input_tokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
    ]
    .iter()
    .any(|k| delta.get(*k).is_some_and(|v| v.as_u64().is_some()));
    if has_input {
        let later = usage(delta);
        let base = if delta.get("input_tokens").is_some() {
            count(delta, "input_tokens")
        } else {
            into.input - into.cached - into.cache_write
        };
        if delta.get("cache_read_input_tokens").is_some() {
            into.cached = later.cached;
        }
        if delta.get("cache_creation_input_tokens").is_some() {
            into.cache_write = later.cache_write;
        }
        into.input = base + into.cached + into.cache_write;
    }
}

/// The `usage` object Anthropic writes for `usage`.
pub fn usage_json(usage: &Usage) -> Value {
    json!({
        "input_tokens": usage.input.saturating_sub(usage.cached + usage.cache_write),
        "output_tokens": usage.output,
        "cache_read_input_tokens": usage.cached,
        "cache_creation_input_tokens": usage.cache_write,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anthropic_input_tokens_exclude_the_cache_and_deltas_are_cumulative() {
        let start = json!({"input_tokens": 10, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 5, "output_tokens": 1});
        let mut u = usage(&start);
        assert_eq!(
            (u.input, u.cached, u.cache_write, u.output),
            (115, 100, 5, 1)
        );
        merge(&mut u, &json!({"output_tokens": 42}));
        assert_eq!((u.input, u.output), (115, 42));
        merge(&mut u, &json!({"output_tokens": 43, "input_tokens": 12}));
        assert_eq!((u.input, u.output), (117, 43));
        assert_eq!(usage_json(&u)["input_tokens"], 12);
    }
}
