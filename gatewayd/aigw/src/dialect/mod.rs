//! The wire formats: which dialect a caller speaks (by its endpoint) and a provider speaks
//! (by its kind), the token usage each reports by its own rules, and small JSON helpers.
//!
//! Requests and answers stay `serde_json::Value`s so that fields the gateway does not know
//! pass through unchanged when caller and provider speak the same dialect; translation
//! (`crate::translate`) names every field it cannot carry over.

pub mod anthropic;
pub mod openai;

use serde_json::Value;

/// A wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// OpenAI chat completions (`POST /v1/chat/completions`).
    OpenAi,
    /// Anthropic Messages (`POST /v1/messages`).
    Anthropic,
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenAi => "openai",
            Self::Anthropic => "anthropic",
        }
    }

    /// The dialect a provider kind speaks.
    pub fn of(kind: config::ProviderKind) -> Self {
        match kind {
            config::ProviderKind::Openai | config::ProviderKind::OpenaiCompatible => Self::OpenAi,
            config::ProviderKind::Anthropic => Self::Anthropic,
        }
    }
}

/// Tokens as the provider reported them, in one convention: `input` is every prompt token
/// (OpenAI's `prompt_tokens`, which includes cached ones; for Anthropic `input_tokens` +
/// cache reads + cache writes), of which `cached` were read from the cache and
/// `cache_write` written to it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub input: u64,
    pub output: u64,
    pub cached: u64,
    pub cache_write: u64,
    /// Whether the provider reported anything at all.
    pub reported: bool,
}

/// The number at `value[key]`, or 0.
pub fn count(value: &Value, key: &str) -> u64 {
    value.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// Seconds since the epoch (the `created` of OpenAI objects).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
