//! Google's Gemini API (`generateContent`, `streamGenerateContent?alt=sse`): reading usage by
//! Google's rules and the retry delay of its 429s. The gateway never takes Gemini as an
//! ingress; this is the provider side only (translation is `crate::translate::gemini`).
//!
//! Never: trust a count or a delay as sent (both are bounded), or read the key from anywhere
//! but the key store (it travels in `x-goog-api-key`, never in the URL).

use serde_json::Value;

use super::{count, Usage, UsageFlags};

/// The longest `retry-after` passed on from a `RetryInfo`: a day. A provider asking for more
/// is answered with this.
const MAX_RETRY_SECS: u64 = 86_400;

/// Usage from a `usageMetadata` object, by Google's rules: `promptTokenCount` is the whole
/// prompt and includes `cachedContentTokenCount`; `toolUsePromptTokenCount` (what built-in
/// tools added to the prompt) is billed as input on top of it; `candidatesTokenCount` is the
/// answer without thinking, and `thoughtsTokenCount` (billed as output) comes on top, so in
/// the gateway's convention output is candidates + thoughts, of which thoughts are reasoning.
pub fn usage(metadata: &Value) -> Usage {
    let mut flags = UsageFlags::default();
    let prompt = count(metadata, "promptTokenCount", &mut flags);
    let tool_prompt = count(metadata, "toolUsePromptTokenCount", &mut flags);
    let cached = count(metadata, "cachedContentTokenCount", &mut flags);
    let candidates = count(metadata, "candidatesTokenCount", &mut flags);
    let thoughts = count(metadata, "thoughtsTokenCount", &mut flags);
    Usage {
        input: prompt.saturating_add(tool_prompt),
        output: candidates.saturating_add(thoughts),
        cached,
        cache_write: 0,
        reasoning: thoughts,
        reported: metadata.is_object(),
        flags,
    }
    .settle()
}

/// The whole seconds to wait from a Gemini error's `google.rpc.RetryInfo` detail
/// (`"retryDelay": "37s"` or `"1.5s"`), rounded up and bounded; `None` when there is none.
pub fn retry_delay(error: &Value) -> Option<u64> {
    let details = error.get("error")?.get("details")?.as_array()?;
    let info = details.iter().find(|d| {
        d.get("@type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.ends_with("google.rpc.RetryInfo"))
    })?;
    let text = info.get("retryDelay")?.as_str()?.strip_suffix('s')?;
    let seconds: f64 = text.parse().ok()?;
    if !seconds.is_finite() || seconds < 0.0 {
        return None;
    }
    // In range by the check above; the cast keeps the whole part.
    Some((seconds.ceil() as u64).clamp(1, MAX_RETRY_SECS))
}

/// Whether a Gemini error says the key itself was refused (Gemini answers a bad key with a
/// 400 `API_KEY_INVALID`, which is the operator's to fix, not the caller's).
pub fn key_refused(error: &Value) -> bool {
    error["error"]["details"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|d| d["reason"] == "API_KEY_INVALID")
}

/// Gemini's `finishReason` as OpenAI's `finish_reason` (a call that asked for tools and
/// got one ends `tool_calls`, whatever Gemini said).
pub fn finish_reason(reason: &str, called_tools: bool) -> &'static str {
    match reason {
        _ if called_tools => "tool_calls",
        "MAX_TOKENS" => "length",
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY" => {
            "content_filter"
        }
        _ => "stop",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn cached_tokens_are_part_of_the_prompt_and_thoughts_are_output_on_top() {
        let u = usage(&json!({
            "promptTokenCount": 100, "cachedContentTokenCount": 60, "toolUsePromptTokenCount": 5,
            "candidatesTokenCount": 20, "thoughtsTokenCount": 30, "totalTokenCount": 155,
        }));
        assert_eq!(
            (u.input, u.cached, u.cache_write, u.output, u.reasoning),
            (105, 60, 0, 50, 30)
        );
        assert!(u.reported && u.flags.is_empty());
        let absurd = usage(&json!({"promptTokenCount": -1, "cachedContentTokenCount": 9}));
        assert_eq!((absurd.input, absurd.cached), (0, 0));
        assert_eq!(absurd.flags.names(), ["negative", "inconsistent"]);
        assert!(!usage(&Value::Null).reported);
    }

    #[test]
    fn retry_info_becomes_whole_seconds_within_a_day() {
        let error = |delay: &str| {
            json!({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "details": [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure"},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}]}})
        };
        assert_eq!(retry_delay(&error("37s")), Some(37));
        assert_eq!(retry_delay(&error("1.2s")), Some(2));
        assert_eq!(retry_delay(&error("0s")), Some(1));
        assert_eq!(retry_delay(&error("9999999s")), Some(MAX_RETRY_SECS));
        assert_eq!(retry_delay(&error("-3s")), None);
        assert_eq!(retry_delay(&error("soon")), None);
        assert_eq!(retry_delay(&json!({"error": {"message": "x"}})), None);
    }
}
