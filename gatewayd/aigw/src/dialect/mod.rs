//! The wire formats: which dialect a caller speaks (by its endpoint) and a provider speaks
//! (by its kind), the token usage each reports by its own rules (bounded: a provider's
//! absurd or negative numbers are cut and flagged, never trusted), and small JSON helpers.
//!
//! Requests and answers stay `serde_json::Value`s so that fields the gateway does not know
//! pass through unchanged when caller and provider speak the same dialect; translation
//! (`crate::translate`) names every field it cannot carry over.

pub mod anthropic;
pub mod bedrock;
pub mod gemini;
pub mod openai;
pub mod responses;

use serde_json::Value;

/// A wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// OpenAI chat completions (`POST /v1/chat/completions`).
    OpenAi,
    /// Anthropic Messages (`POST /v1/messages`).
    Anthropic,
    /// Google's Gemini API: a provider's dialect only, never a caller's.
    Gemini,
    /// AWS Bedrock's Converse API: a provider's dialect only, never a caller's.
    Bedrock,
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenAi => "openai",
            Self::Anthropic => "anthropic",
            Self::Gemini => "gemini",
            Self::Bedrock => "bedrock",
        }
    }

    /// The dialect a provider kind speaks.
    pub fn of(kind: config::ProviderKind) -> Self {
        match kind {
            config::ProviderKind::Openai
            | config::ProviderKind::OpenaiCompatible
            | config::ProviderKind::Local
            | config::ProviderKind::AzureOpenai => Self::OpenAi,
            config::ProviderKind::Anthropic => Self::Anthropic,
            config::ProviderKind::Gemini => Self::Gemini,
            config::ProviderKind::Bedrock => Self::Bedrock,
        }
    }
}

/// Tokens as the provider reported them, in one convention: `input` is every prompt token
/// (OpenAI's `prompt_tokens`, which includes cached ones; for Anthropic `input_tokens` +
/// cache reads + cache writes), of which `cached` were read from the cache and
/// `cache_write` written to it; `output` every output token, of which `reasoning` were
/// reasoning (OpenAI's `completion_tokens_details.reasoning_tokens`).
///
/// A provider's numbers are not trusted blindly: each is at most [`MAX_TOKENS`], never
/// negative, and the parts never exceed their whole; what had to be corrected is in `flags`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub input: u64,
    pub output: u64,
    pub cached: u64,
    pub cache_write: u64,
    pub reasoning: u64,
    /// Whether the provider reported anything at all.
    pub reported: bool,
    pub flags: UsageFlags,
}

/// The most tokens one count of one call may hold: a hundred times the largest context
/// window offered today. More is a provider's bug (or lie), and is cut to this.
pub const MAX_TOKENS: u64 = 100_000_000;

/// What was wrong with a provider's usage numbers (a set).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageFlags(u8);

impl UsageFlags {
    pub const NEGATIVE: Self = Self(1);
    pub const NOT_AN_INTEGER: Self = Self(2);
    pub const OVER_LIMIT: Self = Self(4);
    /// A part larger than its whole (cached over input, reasoning over output).
    pub const INCONSISTENT: Self = Self(8);
    /// Text, a boolean, an object where a number belongs.
    pub const NOT_A_NUMBER: Self = Self(16);
    /// The output was counted by the gateway (deltas relayed), not reported by the provider:
    /// a caller hung up before the provider's usage arrived.
    pub const COUNTED: Self = Self(32);
    const NAMES: [(Self, &'static str); 6] = [
        (Self::NEGATIVE, "negative"),
        (Self::NOT_AN_INTEGER, "not_an_integer"),
        (Self::OVER_LIMIT, "over_limit"),
        (Self::INCONSISTENT, "inconsistent"),
        (Self::NOT_A_NUMBER, "not_a_number"),
        (Self::COUNTED, "counted"),
    ];

    pub fn insert(&mut self, flag: Self) {
        self.0 |= flag.0;
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The flags' names, in a fixed order.
    pub fn names(self) -> Vec<&'static str> {
        Self::NAMES
            .iter()
            .filter(|(f, _)| self.0 & f.0 != 0)
            .map(|(_, n)| *n)
            .collect()
    }
}

impl Usage {
    /// Cuts parts to their wholes (flagging it): cached reads and writes to the input,
    /// reasoning to the output.
    pub fn settle(mut self) -> Self {
        if self.cached.saturating_add(self.cache_write) > self.input {
            self.flags.insert(UsageFlags::INCONSISTENT);
            self.cached = self.cached.min(self.input);
            self.cache_write = self.cache_write.min(self.input - self.cached);
        }
        if self.reasoning > self.output {
            self.flags.insert(UsageFlags::INCONSISTENT);
            self.reasoning = self.output;
        }
        self
    }
}

/// The token count at `value[key]`: 0 when absent, and for anything but a whole number in
/// `0..=MAX_TOKENS` the nearest such number, with the reason in `flags`.
pub fn count(value: &Value, key: &str, flags: &mut UsageFlags) -> u64 {
    match value.get(key) {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => {
            if let Some(n) = n.as_u64() {
                if n > MAX_TOKENS {
                    flags.insert(UsageFlags::OVER_LIMIT);
                }
                n.min(MAX_TOKENS)
            } else if n.as_i64().is_some() {
                flags.insert(UsageFlags::NEGATIVE);
                0
            } else {
                // A float: a fraction, or a whole number too large for u64.
                let f = n.as_f64().unwrap_or(0.0);
                if f.fract() != 0.0 {
                    flags.insert(UsageFlags::NOT_AN_INTEGER);
                }
                if f.is_nan() || f <= 0.0 {
                    if f < 0.0 {
                        flags.insert(UsageFlags::NEGATIVE);
                    }
                    0
                } else if f > MAX_TOKENS as f64 {
                    flags.insert(UsageFlags::OVER_LIMIT);
                    MAX_TOKENS
                } else {
                    // In range and positive: the cast keeps the whole part.
                    f as u64
                }
            }
        }
        Some(_) => {
            flags.insert(UsageFlags::NOT_A_NUMBER);
            0
        }
    }
}

/// Seconds since the epoch (the `created` of OpenAI objects).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn absurd_negative_and_fractional_counts_are_bounded_and_flagged() {
        let v = json!({"a": 12, "neg": -5, "huge": u64::MAX, "frac": 2.5, "text": "7",
                       "big_float": 1e300, "neg_float": -1.5});
        let mut flags = UsageFlags::default();
        assert_eq!(count(&v, "a", &mut flags), 12);
        assert_eq!(count(&v, "missing", &mut flags), 0);
        assert!(flags.is_empty());
        assert_eq!(count(&v, "neg", &mut flags), 0);
        assert_eq!(count(&v, "huge", &mut flags), MAX_TOKENS);
        assert_eq!(count(&v, "frac", &mut flags), 2);
        assert_eq!(count(&v, "text", &mut flags), 0);
        assert_eq!(count(&v, "big_float", &mut flags), MAX_TOKENS);
        assert_eq!(count(&v, "neg_float", &mut flags), 0);
        assert_eq!(
            flags.names(),
            ["negative", "not_an_integer", "over_limit", "not_a_number"]
        );
        let mut flags = UsageFlags::default();
        let big = json!({"n": 1e30});
        assert_eq!(count(&big, "n", &mut flags), MAX_TOKENS);
        assert_eq!(
            flags.names(),
            ["over_limit"],
            "a whole number, just too large"
        );
    }

    #[test]
    fn parts_never_exceed_their_whole() {
        let u = Usage {
            input: 10,
            cached: 8,
            cache_write: 8,
            output: 3,
            reasoning: 9,
            ..Usage::default()
        }
        .settle();
        assert_eq!((u.cached, u.cache_write, u.reasoning), (8, 2, 3));
        assert_eq!(u.flags.names(), ["inconsistent"]);
    }
}
