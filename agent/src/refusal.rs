//! A CONNECT the gateway refused, as the gateway said it: status, rule, action, request id and
//! message, so the agent's own answer to the client carries the gateway's reason (an
//! `egress.loopback` stays `egress.loopback`) instead of a generic refusal.
//!
//! It holds only what the gateway's answer says; nothing in it is trusted for a decision.

use std::fmt;

use agent_proto::header as names;
use http::{HeaderMap, StatusCode};

/// The gateway's answer to a refused CONNECT, or a refusal the agent made itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayRefusal {
    pub status: StatusCode,
    /// `X-Warden-Rule` (absent for the agent's own refusals).
    pub rule: Option<String>,
    /// `X-Warden-Action`.
    pub action: Option<String>,
    /// `X-Warden-Request-Id`: the gateway's event for this refusal.
    pub request_id: Option<String>,
    pub message: String,
}

const MAX_FIELD: usize = 512;

impl GatewayRefusal {
    /// A refusal the agent makes itself (a target it cannot even ask for).
    pub fn local(message: String) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            rule: None,
            action: None,
            request_id: None,
            message,
        }
    }

    /// Reads the gateway's answer: its headers and its JSON error (`{"error": {"message"}}`)
    /// or, failing that, its text.
    pub fn from_answer(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Self {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty() && v.len() <= MAX_FIELD && v.is_ascii())
                .map(str::to_owned)
        };
        let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let field = |key: &str| {
            json.as_ref()
                .and_then(|j| j["error"][key].as_str())
                .map(|s| s.chars().take(MAX_FIELD).collect::<String>())
        };
        let message = field("message")
            .or_else(|| {
                json.as_ref()
                    .and_then(|j| j["error"].as_str())
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| {
                String::from_utf8_lossy(body)
                    .trim()
                    .chars()
                    .take(MAX_FIELD)
                    .collect()
            });
        Self {
            status,
            rule: header(names::RULE).or_else(|| field("rule")),
            action: header(names::ACTION).or_else(|| field("type")),
            request_id: header(names::REQUEST_ID).or_else(|| field("request_id")),
            message,
        }
    }
}

impl fmt::Display for GatewayRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.status)?;
        if let Some(rule) = &self.rule {
            write!(f, " ({rule})")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gateways_json_error_and_headers_are_kept() {
        let mut headers = HeaderMap::new();
        headers.insert("x-warden-rule", "egress.loopback".parse().unwrap());
        headers.insert("x-warden-action", "block".parse().unwrap());
        headers.insert("x-warden-request-id", "0190-abc".parse().unwrap());
        let body = br#"{"error":{"type":"block","rule":"egress.loopback","message":"Warden does not connect to 127.0.0.1: it is a loopback address.","request_id":"0190-abc"}}"#;
        let refusal = GatewayRefusal::from_answer(StatusCode::FORBIDDEN, &headers, body);
        assert_eq!(refusal.rule.as_deref(), Some("egress.loopback"));
        assert_eq!(refusal.action.as_deref(), Some("block"));
        assert_eq!(refusal.request_id.as_deref(), Some("0190-abc"));
        assert!(refusal.message.starts_with("Warden does not connect"));
        assert_eq!(
            refusal.to_string(),
            "403 Forbidden (egress.loopback): Warden does not connect to 127.0.0.1: it is a \
             loopback address."
        );
    }

    #[test]
    fn plain_answers_and_hostile_headers_are_bounded() {
        let mut headers = HeaderMap::new();
        headers.insert("x-warden-rule", "x".repeat(2000).parse().unwrap());
        let refusal = GatewayRefusal::from_answer(
            StatusCode::FORBIDDEN,
            &headers,
            "  this device has been revoked\n".as_bytes(),
        );
        assert_eq!(refusal.rule, None);
        assert_eq!(refusal.message, "this device has been revoked");
        let revoked = GatewayRefusal::from_answer(
            StatusCode::FORBIDDEN,
            &HeaderMap::new(),
            br#"{"error":"this device has been revoked"}"#,
        );
        assert_eq!(revoked.message, "this device has been revoked");
    }
}
