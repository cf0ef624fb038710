//! Anthropic Messages: reading usage by Anthropic's rules (`input_tokens` excludes cache
//! reads and writes; `message_delta` usage is cumulative) and the version header.

use serde_json::{json, Value};

use super::{count, Usage, UsageFlags};

/// The API version the gateway speaks when the caller named none.
pub const VERSION: &str = "2023-06-01";

/// Usage from a `usage` object (a message's, `message_start`'s or `message_delta`'s), in the
/// gateway's convention (input includes cache reads and writes).
pub fn usage(usage: &Value) -> Usage {
    let mut flags = UsageFlags::default();
    let base = count(usage, "input_tokens", &mut flags);
    let cached = count(usage, "cache_read_input_tokens", &mut flags);
    let cache_write = count(usage, "cache_creation_input_tokens", &mut flags);
    let output = count(usage, "output_tokens", &mut flags);
    Usage {
        input: base.saturating_add(cached).saturating_add(cache_write),
        output,
        cached,
        cache_write,
        reasoning: 0,
        reported: usage.is_object(),
        flags,
    }
}

/// Folds a later (cumulative) `message_delta` usage into what `message_start` said: fields
/// present replace the earlier ones.
pub fn merge(into: &mut Usage, delta: &Value) {
    if !delta.is_object() {
        return;
    }
    into.reported = true;
    let mut flags = into.flags;
    let present = |k: &str| delta.get(k).is_some_and(|v| !v.is_null());
    if present("output_tokens") {
        into.output = count(delta, "output_tokens", &mut flags);
    }
    if [
        "input_tokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
    ]
    .iter()
    .any(|k| present(k))
    {
        let base = if present("input_tokens") {
            count(delta, "input_tokens", &mut flags)
        } else {
            into.input
                .saturating_sub(into.cached)
                .saturating_sub(into.cache_write)
        };
        if present("cache_read_input_tokens") {
            into.cached = count(delta, "cache_read_input_tokens", &mut flags);
        }
        if present("cache_creation_input_tokens") {
            into.cache_write = count(delta, "cache_creation_input_tokens", &mut flags);
        }
        into.input = base
            .saturating_add(into.cached)
            .saturating_add(into.cache_write);
    }
    into.flags = flags;
}

/// The `usage` object Anthropic writes for `usage`.
pub fn usage_json(usage: &Usage) -> Value {
    json!({
        "input_tokens": usage.input.saturating_sub(usage.cached.saturating_add(usage.cache_write)),
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
