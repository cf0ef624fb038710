//! The OpenAI Responses API (`POST /v1/responses`): reading usage by its rules
//! (`input_tokens_details.cached_tokens` and `.cache_write_tokens` are parts of
//! `input_tokens`, `output_tokens_details.reasoning_tokens` part of `output_tokens`) and
//! writing the `usage` object it reports.

use serde_json::{json, Value};

use super::{count, Usage, UsageFlags};

/// Usage of a Responses `response` object (whole, or carried by `response.completed`,
/// `response.incomplete` or `response.failed`); `None` when it reports none.
pub fn usage(response: &Value) -> Option<Usage> {
    let usage = response.get("usage").filter(|u| u.is_object())?;
    let mut flags = UsageFlags::default();
    let null = Value::Null;
    let input = usage.get("input_tokens_details").unwrap_or(&null);
    let output = usage.get("output_tokens_details").unwrap_or(&null);
    let read = Usage {
        input: count(usage, "input_tokens", &mut flags),
        output: count(usage, "output_tokens", &mut flags),
        cached: count(input, "cached_tokens", &mut flags),
        cache_write: count(input, "cache_write_tokens", &mut flags),
        reasoning: count(output, "reasoning_tokens", &mut flags),
        reported: true,
        flags: UsageFlags::default(),
    };
    Some(Usage { flags, ..read }.settle())
}

/// The `usage` object a Responses `response` carries for `usage`.
pub fn usage_json(usage: &Usage) -> Value {
    json!({
        "input_tokens": usage.input,
        "input_tokens_details": {"cached_tokens": usage.cached, "cache_write_tokens": usage.cache_write},
        "output_tokens": usage.output,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning},
        "total_tokens": usage.input.saturating_add(usage.output),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_and_reasoning_tokens_are_parts_of_their_wholes() {
        let response = json!({"usage": {"input_tokens": 36, "input_tokens_details": {"cached_tokens": 6, "cache_write_tokens": 3},
            "output_tokens": 87, "output_tokens_details": {"reasoning_tokens": 64}, "total_tokens": 123}});
        let u = usage(&response).unwrap();
        assert_eq!(
            (
                u.input,
                u.cached,
                u.cache_write,
                u.output,
                u.reasoning,
                u.reported
            ),
            (36, 6, 3, 87, 64, true)
        );
        assert_eq!(usage_json(&u), response["usage"]);
        assert!(usage(&json!({"usage": null})).is_none());
        let odd = usage(
            &json!({"usage": {"input_tokens": 5, "input_tokens_details": {"cached_tokens": 9},
            "output_tokens": -3}}),
        )
        .unwrap();
        assert_eq!((odd.input, odd.cached, odd.output), (5, 5, 0));
        assert_eq!(odd.flags.names(), ["negative", "inconsistent"]);
    }
}
