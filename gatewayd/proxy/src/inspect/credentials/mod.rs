//! The AI key inventory's eyes: the credential a client presents to an AI API (catalog API
//! hosts and discovered AI hosts), classified, fingerprinted under the installation's secret
//! and reduced to what the event stores — fingerprint, provider, kind, last four characters
//! and whether it is one of the organisation's own keys.
//!
//! Never: keep, log or return a credential's value; only [`KeySeen`] leaves this module.

mod classify;
mod fingerprint;
mod read;

use http::HeaderMap;

pub use classify::{classify, Carrier, Class};
pub use fingerprint::{KeyFingerprints, SecretError, SECRET_FILE};
pub use read::{credential, MAX_CREDENTIAL_BYTES, MAX_VALUES_PER_HEADER};

/// A key seen on a request, as the event records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySeen {
    /// [`KeyFingerprints::fingerprint`] of the value.
    pub fingerprint: String,
    /// From the key's format, else the app the host belongs to.
    pub provider: String,
    pub kind: &'static str,
    /// The value's last four characters (what consoles show to tell keys apart).
    pub last4: String,
    /// The key is one of the AI gateway's provider keys.
    pub org_managed: bool,
}

/// The key on a request to `host`, an AI API host of `app` (a catalog app id or a discovered
/// host's id), when it carries one.
pub fn observe(
    fingerprints: &KeyFingerprints,
    headers: &HeaderMap,
    query: Option<&str>,
    host: &str,
    app: &str,
) -> Option<KeySeen> {
    let (value, carrier) = credential(headers, query)?;
    let openai_host = host == "api.openai.com" || host.ends_with(".api.openai.com");
    let class = classify(value, carrier, openai_host);
    let fingerprint = fingerprints.fingerprint(value);
    let provider = if class.provider.is_empty() {
        provider_of_app(app)
    } else {
        class.provider.to_string()
    };
    // `credential` admits ASCII only, so the last four bytes are the last four characters.
    let last4 = value[value.len().saturating_sub(4)..].to_string();
    Some(KeySeen {
        org_managed: fingerprints.is_org(&fingerprint),
        fingerprint,
        provider,
        kind: class.kind,
        last4,
    })
}

/// The provider a key without a telling format belongs to: the catalog app's id without its
/// `-api` suffix (`mistral-api` → `mistral`), or the discovered host.
fn provider_of_app(app: &str) -> String {
    let app = app.strip_prefix("discovered:").unwrap_or(app);
    app.strip_suffix("-api").unwrap_or(app).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn an_event_gets_fingerprint_and_last_four_never_the_key() {
        let fps = KeyFingerprints::with_secret(&[7; 32]);
        let key = "sk-proj-Zx81abcdefghijklmnopWXYZ";
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {key}")).unwrap(),
        );
        let seen = observe(&fps, &headers, None, "api.openai.com", "openai-api").unwrap();
        assert_eq!(seen.last4, "WXYZ");
        assert_eq!(seen.provider, "openai");
        assert_eq!(seen.kind, "project");
        assert!(!seen.org_managed);
        assert!(!format!("{seen:?}").contains(key));
        fps.set_org_keys([key]);
        let again = observe(&fps, &headers, None, "api.openai.com", "openai-api").unwrap();
        assert!(again.org_managed);
    }

    #[test]
    fn a_key_of_no_known_format_takes_the_apps_provider() {
        let fps = KeyFingerprints::with_secret(&[7; 32]);
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            HeaderValue::from_static("Bearer 0123456789abcdefXYZ"),
        );
        let seen = observe(&fps, &headers, None, "api.mistral.ai", "mistral-api").unwrap();
        assert_eq!((seen.provider.as_str(), seen.kind), ("mistral", "unknown"));
        let discovered = observe(
            &fps,
            &headers,
            None,
            "llm.example",
            "discovered:llm.example",
        );
        assert_eq!(discovered.unwrap().provider, "llm.example");
    }
}
