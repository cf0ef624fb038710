//! The policy file as written: serde structs with spans, before validation.
//!
//! Every table rejects unknown keys. Values that may be one item or a list (`app = "x"` or
//! `app = ["x", "y"]`) go through [`Strings`]. Nothing here decides anything.

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicy {
    pub version: Option<Spanned<String>>,
    #[serde(default)]
    pub rule: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    pub id: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub when: Option<Spanned<RawWhen>>,
    pub unless: Option<Spanned<RawWhen>>,
    pub action: Spanned<ActionKind>,
    pub message: Option<Spanned<String>>,
    pub alternative: Option<Spanned<String>>,
    pub profile: Option<Spanned<String>>,
    pub on_match: Option<Spanned<OnMatch>>,
    pub max_prompt_bytes: Option<Spanned<i64>>,
    /// DLP profile scanned in monitor mode (findings logged, never blocking) by `allow` and
    /// `audit` rules.
    pub monitor_profile: Option<Spanned<String>>,
    /// `route` only: record what would have been routed, let the call through unchanged.
    pub dry_run: Option<Spanned<bool>>,
}

/// Selectors as written; all optional, a rule with several matches when all match.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWhen {
    pub app: Option<Spanned<Strings>>,
    pub category: Option<Spanned<Strings>>,
    pub status: Option<Spanned<Strings>>,
    pub host: Option<Spanned<Strings>>,
    pub user: Option<Spanned<Strings>>,
    pub group: Option<Spanned<Strings>>,
    pub posture: Option<BTreeMap<String, Spanned<PostureValue>>>,
    pub posture_signed: Option<Spanned<bool>>,
    pub country: Option<Spanned<Strings>>,
    pub method: Option<Spanned<Strings>>,
    pub upload: Option<Spanned<bool>>,
    pub dlp_profile: Option<Spanned<Strings>>,
    /// `corporate`, `personal`, `unknown` (tenant control).
    pub tenant: Option<Spanned<Strings>>,
}

/// What a matching rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum ActionKind {
    Allow,
    Block,
    Dlp,
    BlockUploads,
    Isolate,
    Audit,
    Warn,
    DoNotInspect,
    Route,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Allow => "allow",
            ActionKind::Block => "block",
            ActionKind::Dlp => "dlp",
            ActionKind::BlockUploads => "block_uploads",
            ActionKind::Isolate => "isolate",
            ActionKind::Audit => "audit",
            ActionKind::Warn => "warn",
            ActionKind::DoNotInspect => "do_not_inspect",
            ActionKind::Route => "route",
        }
    }
}

/// What a `dlp` rule does when its profile finds something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnMatch {
    /// Block the request with the rule's message.
    Block,
    /// Replace the findings with masks and forward.
    Redact,
    /// Forward unchanged and record the findings.
    Log,
}

impl OnMatch {
    pub fn as_str(self) -> &'static str {
        match self {
            OnMatch::Block => "block",
            OnMatch::Redact => "redact",
            OnMatch::Log => "log",
        }
    }
}

/// An expected device-posture value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostureValue {
    Bool(bool),
    Text(String),
}

impl<'de> Deserialize<'de> for PostureValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = PostureValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a boolean or a string")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<PostureValue, E> {
                Ok(PostureValue::Bool(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PostureValue, E> {
                Ok(PostureValue::Text(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

/// One string or a list of strings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Strings(pub Vec<String>);

impl<'de> Deserialize<'de> for Strings {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Strings;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Strings, E> {
                Ok(Strings(vec![v.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strings, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(Strings(out))
            }
        }
        d.deserialize_any(V)
    }
}
