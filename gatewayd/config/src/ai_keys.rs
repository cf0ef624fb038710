//! The `[ai_keys]` section: the AI key inventory (keys that clients present to AI APIs,
//! fingerprinted) and block-with-guidance (a refused AI API call answered in the provider's
//! own error format with the security team's text, so the developer's SDK prints it).
//!
//! What this module must never do: accept a message that could end a line or a JSON string
//! early in a way the SDKs would misprint (control characters), or an unbounded one.

use serde::Deserialize;

/// Longest guidance message: a paragraph, not a document.
pub const MAX_GUIDANCE_CHARS: usize = 2000;

/// The AI key inventory and the guidance given when an AI API call is refused.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct AiKeysConfig {
    /// Read the key a client presents to an AI API host (catalog `api_hosts` and discovered
    /// AI hosts) and record its keyed fingerprint, provider, kind and last four characters.
    pub inventory: bool,
    /// Block with guidance: when set, a policy refusal of a call to an AI API host is answered
    /// in that API's own error format (OpenAI, Anthropic, Gemini) with this text as the
    /// message — say where the sanctioned base URL is and how to get a virtual key.
    pub guidance: Option<String>,
}

impl Default for AiKeysConfig {
    fn default() -> Self {
        Self {
            inventory: true,
            guidance: None,
        }
    }
}

/// The rules types cannot say, as (key, message).
pub(crate) fn validate(c: &AiKeysConfig) -> Result<(), (&'static str, String)> {
    if let Some(text) = &c.guidance {
        if text.trim().is_empty() || text.chars().count() > MAX_GUIDANCE_CHARS {
            return Err((
                "guidance",
                format!("ai_keys.guidance must be 1..={MAX_GUIDANCE_CHARS} characters"),
            ));
        }
        if text.chars().any(char::is_control) {
            return Err((
                "guidance",
                "ai_keys.guidance must be one line without control characters".into(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guidance_is_bounded_and_one_line() {
        assert!(validate(&AiKeysConfig::default()).is_ok());
        let ok = AiKeysConfig {
            guidance: Some("Use https://ai.example.com/v1 with a key from go/ai-keys".into()),
            ..AiKeysConfig::default()
        };
        assert!(validate(&ok).is_ok());
        for bad in ["", "  ", "two\nlines", &"x".repeat(MAX_GUIDANCE_CHARS + 1)] {
            let c = AiKeysConfig {
                guidance: Some(bad.to_string()),
                ..AiKeysConfig::default()
            };
            assert_eq!(validate(&c).unwrap_err().0, "guidance", "{bad:?}");
        }
    }
}
