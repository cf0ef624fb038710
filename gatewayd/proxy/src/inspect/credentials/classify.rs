//! What a credential's format tells about it: the provider that issued it and its kind
//! (project, user, admin, service account, session ...), from its prefix alone.
//!
//! Pure and bounded: it reads at most a prefix of the value and never keeps it. A value no
//! prefix names is `unknown` here; the caller names the provider from the host instead.

/// Where a credential was found on the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    /// `Authorization: Bearer ...`
    Bearer,
    /// `x-api-key` (Anthropic and others).
    XApiKey,
    /// `x-goog-api-key` (Gemini).
    GoogApiKey,
    /// `?key=` in the query (Gemini, Google APIs).
    QueryKey,
    /// `api-key` (Azure OpenAI).
    AzureApiKey,
    /// The access key id of an AWS SigV4 `Authorization` header.
    SigV4,
}

/// A credential's issuer and kind, as stored in `http_events` and `ai_keys_seen`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Class {
    /// `openai`, `anthropic`, `google`, `aws`, ... or `""` when the format does not say.
    pub provider: &'static str,
    /// `project`, `user`, `admin`, `service_account`, `session`, `api_key`, `access_key`,
    /// `oauth`, `token` or `unknown`.
    pub kind: &'static str,
}

/// Prefixes, most specific first (`sk-ant-` before `sk-`): (prefix, provider, kind).
const PREFIXES: &[(&str, &str, &str)] = &[
    ("sk-ant-api03-", "anthropic", "api_key"),
    ("sk-ant-admin01-", "anthropic", "admin"),
    ("sk-ant-oat01-", "anthropic", "oauth"),
    ("sk-ant-", "anthropic", "unknown"),
    ("sk-or-v1-", "openrouter", "api_key"),
    ("sk-proj-", "openai", "project"),
    ("sk-svcacct-", "openai", "service_account"),
    ("sk-admin-", "openai", "admin"),
    ("sk-None-", "openai", "user"),
    ("AIza", "google", "api_key"),
    ("AKIA", "aws", "access_key"),
    ("ASIA", "aws", "session"),
    ("ABSK", "aws", "api_key"),
    ("gsk_", "groq", "api_key"),
    ("xai-", "xai", "api_key"),
    ("hf_", "huggingface", "user"),
    ("r8_", "replicate", "api_key"),
    ("pplx-", "perplexity", "api_key"),
    ("nvapi-", "nvidia", "api_key"),
    ("csk-", "cerebras", "api_key"),
    ("fw_", "fireworks", "api_key"),
    ("tgp_v1_", "together", "api_key"),
];

/// Classifies `value` found in `carrier`. `legacy_sk` says the host is OpenAI's own, where a
/// bare `sk-` key is OpenAI's legacy user key (elsewhere many providers use `sk-`).
pub fn classify(value: &str, carrier: Carrier, openai_host: bool) -> Class {
    for (prefix, provider, kind) in PREFIXES {
        if value.starts_with(prefix) {
            return Class { provider, kind };
        }
    }
    if value.starts_with("sk-") {
        return if openai_host {
            Class {
                provider: "openai",
                kind: "user",
            }
        } else {
            Class {
                provider: "",
                kind: "api_key",
            }
        };
    }
    if carrier == Carrier::AzureApiKey && is_hex(value, 32) {
        return Class {
            provider: "azure-openai",
            kind: "api_key",
        };
    }
    if value.starts_with("eyJ") && value.bytes().filter(|&b| b == b'.').count() == 2 {
        // A JWT: an OAuth or Entra ID access token, short-lived and user-bound.
        return Class {
            provider: "",
            kind: "token",
        };
    }
    Class {
        provider: "",
        kind: "unknown",
    }
}

fn is_hex(value: &str, len: usize) -> bool {
    value.len() == len && value.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(value: &str) -> (&'static str, &'static str) {
        let c = classify(value, Carrier::Bearer, true);
        (c.provider, c.kind)
    }

    #[test]
    fn prefixes_name_provider_and_kind() {
        assert_eq!(of("sk-proj-abcdefghijklmnop"), ("openai", "project"));
        assert_eq!(of("sk-svcacct-abcdefghijkl"), ("openai", "service_account"));
        assert_eq!(of("sk-admin-abcdefghijklmn"), ("openai", "admin"));
        assert_eq!(of("sk-abcdefghijklmnopqrst"), ("openai", "user"));
        assert_eq!(of("sk-ant-api03-abcdefghij"), ("anthropic", "api_key"));
        assert_eq!(of("sk-ant-admin01-abcdefgh"), ("anthropic", "admin"));
        assert_eq!(
            of("AIzaSyA1234567890abcdefghijklmnopqrstu"),
            ("google", "api_key")
        );
        assert_eq!(of("AKIAIOSFODNN7EXAMPLE"), ("aws", "access_key"));
        assert_eq!(of("ASIAIOSFODNN7EXAMPLE"), ("aws", "session"));
        assert_eq!(of("gsk_abcdefghijklmnop"), ("groq", "api_key"));
        assert_eq!(of("sk-or-v1-abcdefghijklmn"), ("openrouter", "api_key"));
        assert_eq!(of("eyJhbGciOiJI.eyJzdWIiOjF9.c2ln"), ("", "token"));
        assert_eq!(of("plainly-a-password-123"), ("", "unknown"));
    }

    #[test]
    fn a_bare_sk_key_is_openai_only_on_openai_hosts() {
        let c = classify("sk-0123456789abcdef0123", Carrier::Bearer, false);
        assert_eq!((c.provider, c.kind), ("", "api_key"));
    }

    #[test]
    fn azure_keys_are_32_hex_digits_in_api_key() {
        let key = "0123456789abcdef0123456789abcdef";
        let c = classify(key, Carrier::AzureApiKey, false);
        assert_eq!((c.provider, c.kind), ("azure-openai", "api_key"));
        assert_eq!(classify(key, Carrier::XApiKey, false).kind, "unknown");
    }
}
