//! Block with guidance: a refused call to an AI API answered in that API's own error format,
//! so the developer's SDK raises its usual error and prints the security team's text (where
//! the sanctioned base URL is, how to get a virtual key) instead of a parse failure.
//!
//! The head is the one every gateway answer carries (`X-Warden-*`, no caching); only the
//! body's shape follows the provider. Never: echo anything the request sent.

use bytes::Bytes;
use http::{Response, StatusCode};

use super::{render_parts, with_body, Refusal};
use crate::upstream::ProxyBody;

/// Whose error format an AI API's clients parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiDialect {
    /// `{"error":{"message","type","param","code"}}` — OpenAI and the OpenAI-compatible
    /// APIs (most providers, Azure OpenAI).
    OpenAi,
    /// `{"type":"error","error":{"type","message"}}`
    Anthropic,
    /// `{"error":{"code","message","status"}}` — Gemini and Google's APIs.
    Gemini,
}

impl ApiDialect {
    /// The dialect of a call to `host` at `path`, with the provider of the key it presented.
    pub fn of(host: &str, path: &str, key_provider: Option<&str>) -> Self {
        if host == "api.anthropic.com"
            || path.ends_with("/v1/messages")
            || key_provider == Some("anthropic")
        {
            Self::Anthropic
        } else if host.ends_with(".googleapis.com")
            || path.contains(":generateContent")
            || path.contains(":streamGenerateContent")
            || key_provider == Some("google")
        {
            Self::Gemini
        } else {
            Self::OpenAi
        }
    }
}

/// The body of the refusal in `dialect`, with `message` as the text the SDK shows.
pub fn body(dialect: ApiDialect, status: StatusCode, message: &str) -> serde_json::Value {
    match dialect {
        ApiDialect::OpenAi => serde_json::json!({
            "error": {
                "message": message,
                "type": "permission_denied",
                "param": null,
                "code": "blocked_by_policy",
            }
        }),
        ApiDialect::Anthropic => serde_json::json!({
            "type": "error",
            "error": { "type": "permission_error", "message": message },
        }),
        ApiDialect::Gemini => serde_json::json!({
            "error": {
                "code": status.as_u16(),
                "message": message,
                "status": "PERMISSION_DENIED",
            }
        }),
    }
}

/// Renders `refusal` for an AI API client: the gateway's head, the provider's body.
pub fn render(
    refusal: &Refusal,
    request_id: &str,
    dialect: ApiDialect,
    message: &str,
) -> Response<ProxyBody> {
    let (head, _) = render_parts(refusal, request_id, true);
    let text = body(dialect, refusal.status, message).to_string();
    with_body((head, Bytes::from(text)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Outcome;

    #[test]
    fn each_dialect_is_told_by_host_path_or_key() {
        assert_eq!(
            ApiDialect::of("api.openai.com", "/v1/chat/completions", Some("openai")),
            ApiDialect::OpenAi
        );
        assert_eq!(
            ApiDialect::of("api.anthropic.com", "/v1/messages", None),
            ApiDialect::Anthropic
        );
        assert_eq!(
            ApiDialect::of(
                "generativelanguage.googleapis.com",
                "/v1beta/models/gemini-2.0-flash:generateContent",
                None
            ),
            ApiDialect::Gemini
        );
        assert_eq!(
            ApiDialect::of("llm.example", "/v1/chat/completions", None),
            ApiDialect::OpenAi
        );
    }

    #[test]
    fn the_answer_carries_warden_headers_and_the_providers_shape() {
        let refusal = Refusal::new(
            StatusCode::FORBIDDEN,
            Outcome::Block,
            "no-personal-keys",
            "Blocked",
            "reason".into(),
        );
        let response = render(&refusal, "req-9", ApiDialect::Anthropic, "Use the gateway");
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            response.headers()[super::super::HEADER_RULE],
            "no-personal-keys"
        );
        assert_eq!(response.headers()[super::super::HEADER_REQUEST_ID], "req-9");
        let gemini = body(ApiDialect::Gemini, StatusCode::FORBIDDEN, "m");
        assert_eq!(gemini["error"]["code"], 403);
        assert_eq!(gemini["error"]["status"], "PERMISSION_DENIED");
        let openai = body(ApiDialect::OpenAi, StatusCode::FORBIDDEN, "m");
        assert_eq!(openai["error"]["message"], "m");
    }
}
