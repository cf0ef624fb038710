//! [`CallError`]: every way a call can fail, saying whose fault it was, and the one place it
//! becomes an answer in the caller's dialect (OpenAI's or Anthropic's error JSON), with
//! `retry-after` on every 429 the gateway answers.
//!
//! Never: put a provider key, a virtual key or prompt data in a message. Upstream messages
//! are passed on only after [`scrub`] removed the provider key from them.

use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use serde_json::json;

use crate::dialect::Dialect;

/// Why a call failed. Each variant knows its status and error type.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// No key, or one that is unknown, revoked or expired.
    #[error("{0}")]
    Unauthenticated(String),
    /// The key is valid but may not use this model.
    #[error("{0}")]
    Forbidden(String),
    /// The request is malformed or cannot be translated; `param` names the field.
    #[error("{message}")]
    BadRequest {
        message: String,
        param: Option<String>,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    ModelNotFound(String),
    #[error("request body over {0} bytes")]
    TooLarge(usize),
    /// DLP refused the prompt; the detector ids, never the data.
    #[error("Warden blocked this request: the prompt contains data matched by DLP ({})", .0.join(", "))]
    DlpBlocked(Vec<String>),
    /// DLP refused the provider's answer (`response_dlp = "block"`); the detector ids only.
    #[error("Warden blocked this answer: it contains data matched by DLP ({})", .0.join(", "))]
    ResponseDlpBlocked(Vec<String>),
    /// The gateway itself refuses for now (limits); `retry_after` in seconds, `headers` the
    /// `x-ratelimit-*` headers of the limit that refused.
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after: u64,
        headers: Vec<(String, String)>,
    },
    /// A budget would be passed (`crate::budget`); `retry_after` in seconds. `never`: this
    /// call alone could cost more than the whole budget, so waiting cannot help (a 400).
    #[error("{message}")]
    BudgetExceeded {
        message: String,
        retry_after: u64,
        never: bool,
    },
    /// The provider answered with an error.
    #[error("{message}")]
    Upstream {
        status: StatusCode,
        message: String,
        retry_after: Option<String>,
    },
    /// The provider could not be reached or answered garbage.
    #[error("{0}")]
    BadGateway(String),
    /// No connection to the provider: `cause` is a closed label (`dns`, `refused`, `tls`,
    /// `timeout`, `other`), `message` names the host and says why.
    #[error("{message}")]
    Unreachable {
        cause: &'static str,
        message: String,
    },
    /// The request names a host this port does not answer to (421).
    #[error("{0}")]
    MisdirectedHost(String),
    /// The body is not JSON by its content type (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The gateway is out of room for now (the body memory budget): 503.
    #[error("{0}")]
    Overloaded(String),
    #[error("{0}")]
    Timeout(String),
    /// The gateway's own fault (key store, configuration).
    #[error("{0}")]
    Internal(String),
}

impl CallError {
    pub fn bad_request(param: &str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            message: message.into(),
            param: Some(param.to_string()),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::DlpBlocked(_) | Self::ResponseDlpBlocked(_) => {
                StatusCode::FORBIDDEN
            }
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::NotFound(_) | Self::ModelNotFound(_) => StatusCode::NOT_FOUND,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BudgetExceeded { never: true, .. } => StatusCode::BAD_REQUEST,
            Self::RateLimited { .. } | Self::BudgetExceeded { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Upstream { status, .. } => *status,
            Self::BadGateway(_) | Self::Unreachable { .. } => StatusCode::BAD_GATEWAY,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::MisdirectedHost(_) => StatusCode::MISDIRECTED_REQUEST,
            Self::Overloaded(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short, closed label for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "unauthenticated",
            Self::Forbidden(_) => "forbidden",
            Self::BadRequest { .. } => "bad_request",
            Self::NotFound(_) => "not_found",
            Self::ModelNotFound(_) => "model_not_found",
            Self::TooLarge(_) => "too_large",
            Self::DlpBlocked(_) => "dlp_blocked",
            Self::ResponseDlpBlocked(_) => "response_dlp_blocked",
            Self::RateLimited { .. } => "rate_limited",
            Self::BudgetExceeded { .. } => "budget_exceeded",
            Self::Upstream { .. } => "upstream_error",
            Self::BadGateway(_) => "bad_gateway",
            Self::Unreachable { cause, .. } => match *cause {
                "dns" => "unreachable_dns",
                "refused" => "unreachable_refused",
                "tls" => "unreachable_tls",
                "timeout" => "unreachable_timeout",
                _ => "unreachable",
            },
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::MisdirectedHost(_) => "misdirected_host",
            Self::Overloaded(_) => "overloaded",
            Self::Timeout(_) => "timeout",
            Self::Internal(_) => "internal",
        }
    }

    fn openai_type(&self) -> (&'static str, Option<&'static str>) {
        match self {
            Self::Unauthenticated(_) => ("invalid_request_error", Some("invalid_api_key")),
            Self::Forbidden(_) => ("invalid_request_error", Some("model_not_allowed")),
            Self::BadRequest { .. } | Self::TooLarge(_) => ("invalid_request_error", None),
            Self::UnsupportedMediaType(_) => {
                ("invalid_request_error", Some("unsupported_media_type"))
            }
            Self::Overloaded(_) => ("server_error", Some("overloaded")),
            Self::MisdirectedHost(_) => ("invalid_request_error", Some("misdirected_host")),
            Self::NotFound(_) => ("invalid_request_error", Some("not_found")),
            Self::ModelNotFound(_) => ("invalid_request_error", Some("model_not_found")),
            Self::DlpBlocked(_) => ("invalid_request_error", Some("dlp_blocked")),
            Self::ResponseDlpBlocked(_) => ("invalid_request_error", Some("response_dlp_blocked")),
            Self::RateLimited { .. } => ("rate_limit_error", Some("rate_limit_exceeded")),
            Self::BudgetExceeded { .. } => ("budget_exceeded", Some("budget_exceeded")),
            Self::Upstream { status, .. } if *status == StatusCode::TOO_MANY_REQUESTS => {
                ("rate_limit_error", Some("rate_limit_exceeded"))
            }
            Self::Upstream { status, .. } if status.is_client_error() => {
                ("invalid_request_error", None)
            }
            Self::Upstream { .. }
            | Self::BadGateway(_)
            | Self::Unreachable { .. }
            | Self::Timeout(_)
            | Self::Internal(_) => ("server_error", None),
        }
    }

    fn anthropic_type(&self) -> &'static str {
        if let Self::BudgetExceeded { .. } = self {
            return "budget_exceeded";
        }
        match self.status().as_u16() {
            400 | 413 | 415 | 421 => "invalid_request_error",
            401 => "authentication_error",
            403 => "permission_error",
            404 => "not_found_error",
            429 => "rate_limit_error",
            503 | 529 => "overloaded_error",
            _ => "api_error",
        }
    }

    /// The error's JSON body in `dialect`.
    pub fn body(&self, dialect: Dialect) -> serde_json::Value {
        let message = self.to_string();
        match dialect {
            // No caller speaks Gemini (it is a provider's dialect only).
            Dialect::OpenAi | Dialect::Gemini | Dialect::Bedrock => {
                let (kind, code) = self.openai_type();
                let param = match self {
                    Self::BadRequest { param, .. } => param.clone(),
                    Self::ModelNotFound(_) | Self::Forbidden(_) => Some("model".into()),
                    _ => None,
                };
                json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
            }
            Dialect::Anthropic => {
                json!({"type": "error", "error": {"type": self.anthropic_type(), "message": message}})
            }
        }
    }

    /// The whole answer: status, JSON body, `retry-after` when it is a 429.
    pub fn response(&self, dialect: Dialect) -> http::Response<Bytes> {
        let body = Bytes::from(self.body(dialect).to_string());
        let mut response = http::Response::new(body);
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let retry_after = match self {
            Self::BudgetExceeded { never: true, .. } => None,
            Self::RateLimited { retry_after, .. } | Self::BudgetExceeded { retry_after, .. } => {
                Some(retry_after.to_string())
            }
            Self::Upstream { retry_after, .. } => retry_after.clone(),
            Self::Overloaded(_) => Some("1".into()),
            _ => None,
        };
        if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
            headers.insert(http::header::RETRY_AFTER, value);
        } else if self.status() == StatusCode::TOO_MANY_REQUESTS {
            headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if let Self::BudgetExceeded { .. } = self {
            // The SDKs retry a 429 after `retry-after` on their own: a budget's reset can be
            // hours away (the anthropic SDK slept that long). They honour this header.
            headers.insert("x-should-retry", HeaderValue::from_static("false"));
        }
        if let Self::RateLimited {
            headers: limits, ..
        } = self
        {
            for (name, value) in limits {
                if let (Ok(name), Ok(value)) = (
                    http::HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_str(value),
                ) {
                    headers.insert(name, value);
                }
            }
        }
        if let Self::Unauthenticated(_) = self {
            headers.insert(
                http::header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"warden-aigw\""),
            );
        }
        response
    }
}

/// `text` with every occurrence of `secret` replaced: what a provider echoes back never
/// carries its key to a caller, a log or an event.
pub fn scrub(text: &str, secret: Option<&str>) -> String {
    match secret {
        Some(secret) if secret.len() >= 8 => text.replace(secret, "[provider key]"),
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_speak_each_dialect_and_429s_say_when_to_retry() {
        let e = CallError::RateLimited {
            message: "slow down".into(),
            retry_after: 7,
            headers: vec![("x-ratelimit-limit-requests".into(), "2".into())],
        };
        let r = e.response(Dialect::OpenAi);
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "7");
        assert_eq!(r.headers()["x-ratelimit-limit-requests"], "2");
        let b = CallError::BudgetExceeded {
            message: "spent".into(),
            retry_after: 60,
            never: false,
        };
        let rb = b.response(Dialect::Anthropic);
        assert_eq!(rb.status(), 429);
        assert_eq!(rb.headers()["retry-after"], "60");
        // The SDKs must not sleep until a budget resets (hours): they honour x-should-retry.
        assert_eq!(rb.headers()["x-should-retry"], "false");
        // A call that alone costs more than the budget can never pass: a 400, no retry-after.
        let never = CallError::BudgetExceeded {
            message: "too big".into(),
            retry_after: 60,
            never: true,
        }
        .response(Dialect::OpenAi);
        assert_eq!(never.status(), 400);
        assert!(never.headers().get("retry-after").is_none());
        assert_eq!(never.headers()["x-should-retry"], "false");
        let body: serde_json::Value = serde_json::from_slice(rb.body()).unwrap();
        assert_eq!(body["error"]["type"], "budget_exceeded");
        assert_eq!(b.body(Dialect::OpenAi)["error"]["type"], "budget_exceeded");
        let body: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(body["error"]["type"], "rate_limit_error");
        let a =
            CallError::bad_request("messages[0].content[1].type", "no").body(Dialect::Anthropic);
        assert_eq!(a["type"], "error");
        assert_eq!(a["error"]["type"], "invalid_request_error");
        let upstream = CallError::Upstream {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: "x".into(),
            retry_after: None,
        };
        assert_eq!(
            upstream.response(Dialect::OpenAi).headers()["retry-after"],
            "1"
        );
        let dlp = CallError::DlpBlocked(vec!["credit_card".into()]).to_string();
        assert!(dlp.contains("credit_card"), "{dlp}");
        assert_eq!(
            scrub("bad key sk-123456789", Some("sk-123456789")),
            "bad key [provider key]"
        );
    }
}
