//! AWS Bedrock's Converse API (`/model/{id}/converse`, `/converse-stream`): usage by AWS's
//! rules, stop reasons, and what its errors (named by `x-amzn-ErrorType`, or an event
//! stream's `:exception-type`) mean for the caller. Bedrock is a provider's dialect only;
//! translation is `crate::translate::bedrock`, signing `crate::sigv4`.
//!
//! Never: trust a count as sent (each is bounded), or pass on a message that may carry the
//! secret key unscrubbed (the caller of [`error`] scrubs).

use http::StatusCode;
use serde_json::Value;

use super::{count, Usage, UsageFlags};
use crate::error::CallError;

/// Usage from a Converse `usage` object. As with Anthropic's API, `inputTokens` leaves out
/// the tokens read from (`cacheReadInputTokens`) and written to (`cacheWriteInputTokens`)
/// the prompt cache; in the gateway's convention the input is all three.
pub fn usage(usage: &Value) -> Usage {
    let mut flags = UsageFlags::default();
    let base = count(usage, "inputTokens", &mut flags);
    let cached = count(usage, "cacheReadInputTokens", &mut flags);
    let cache_write = count(usage, "cacheWriteInputTokens", &mut flags);
    Usage {
        input: base.saturating_add(cached).saturating_add(cache_write),
        output: count(usage, "outputTokens", &mut flags),
        cached,
        cache_write,
        reasoning: 0,
        reported: usage.is_object(),
        flags,
    }
    .settle()
}

/// Converse's `stopReason` as OpenAI's `finish_reason`.
pub fn finish_reason(reason: &str, called_tools: bool) -> &'static str {
    match reason {
        _ if called_tools => "tool_calls",
        "tool_use" => "tool_calls",
        "max_tokens" | "model_context_window_exceeded" => "length",
        "guardrail_intervened" | "content_filtered" => "content_filter",
        _ => "stop",
    }
}

/// The bare name of a Bedrock error type: `x-amzn-ErrorType` may carry a suffix
/// (`ThrottlingException:http://internal.amazon.com/...`), event streams write it in
/// lower camel case (`throttlingException`).
fn name(error_type: &str) -> String {
    let bare = error_type.split([':', '#']).next().unwrap_or_default();
    let mut chars = bare.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_ascii_uppercase().to_string() + chars.as_str()
    })
}

/// A Bedrock error as the caller's error. `message` is Bedrock's (already scrubbed of the
/// secret); `error_type` its `x-amzn-ErrorType` (or the body's `__type`).
pub fn error(provider: &str, status: StatusCode, error_type: &str, message: &str) -> CallError {
    let kind = name(error_type);
    let message: String = message.chars().take(1000).collect();
    match kind.as_str() {
        "AccessDeniedException"
        | "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "IncompleteSignatureException"
        | "MissingAuthenticationTokenException"
        | "ExpiredTokenException" => CallError::BadGateway(format!(
            "provider {provider} refused the gateway's AWS credentials ({kind}); an operator must \
             check the key (ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]) with `gatewayd keys list` \
             and the provider's region"
        )),
        "ThrottlingException" | "ServiceQuotaExceededException" | "ModelNotReadyException" => {
            CallError::Upstream {
                status: StatusCode::TOO_MANY_REQUESTS,
                message: format!("provider {provider}: {kind}: {message}"),
                retry_after: None,
            }
        }
        "ValidationException" => CallError::Upstream {
            status: StatusCode::BAD_REQUEST,
            message: format!("provider {provider}: {kind}: {message}"),
            retry_after: None,
        },
        "ResourceNotFoundException" => CallError::ModelNotFound(format!(
            "provider {provider}: {kind}: {message}"
        )),
        "ModelTimeoutException" => CallError::Timeout(format!("provider {provider}: {kind}: {message}")),
        _ if status.is_client_error() && !matches!(status.as_u16(), 401 | 403) => {
            CallError::Upstream {
                status,
                message: format!("provider {provider}: {kind}: {message}"),
                retry_after: None,
            }
        }
        _ if matches!(status.as_u16(), 401 | 403) => CallError::BadGateway(format!(
            "provider {provider} refused the gateway's AWS credentials ({status}); an operator \
             must check the key with `gatewayd keys list` and the provider's region"
        )),
        _ => CallError::BadGateway(format!("provider {provider}: {kind} ({status}): {message}")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn input_includes_cache_reads_and_writes() {
        let u = usage(
            &json!({"inputTokens": 10, "outputTokens": 5, "totalTokens": 135,
                              "cacheReadInputTokens": 100, "cacheWriteInputTokens": 20}),
        );
        assert_eq!(
            (u.input, u.cached, u.cache_write, u.output),
            (130, 100, 20, 5)
        );
        assert!(u.reported && u.flags.is_empty());
        assert!(!usage(&Value::Null).reported);
        assert_eq!(
            usage(&json!({"inputTokens": -3})).flags.names(),
            ["negative"]
        );
    }

    #[test]
    fn errors_say_whose_fault_it_is() {
        let throttled = error(
            "br",
            StatusCode::TOO_MANY_REQUESTS,
            "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
            "Too many requests",
        );
        assert_eq!(throttled.status(), 429);
        assert_eq!(
            error("br", StatusCode::OK, "throttlingException", "x").status(),
            429
        );
        let invalid = error("br", StatusCode::BAD_REQUEST, "ValidationException", "bad");
        assert_eq!(invalid.status(), 400);
        for kind in [
            "AccessDeniedException",
            "UnrecognizedClientException",
            "InvalidSignatureException",
        ] {
            let e = error(
                "br",
                StatusCode::FORBIDDEN,
                kind,
                "The request signature we calculated does not match",
            );
            assert_eq!(e.status(), 502, "{kind}");
            assert!(e.to_string().contains("check the key"), "{e}");
        }
        assert_eq!(error("br", StatusCode::FORBIDDEN, "", "").status(), 502);
        assert_eq!(finish_reason("end_turn", true), "tool_calls");
        assert_eq!(finish_reason("max_tokens", false), "length");
        assert_eq!(
            finish_reason("guardrail_intervened", false),
            "content_filter"
        );
    }
}
