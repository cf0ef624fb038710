//! The AI key inventory's reading of a request's credential headers and query
//! (`proxy::inspect::credentials`): whatever the headers hold, what is read is one of the
//! values the request carried (or a SigV4 access key id inside one), within the documented
//! length bounds and of token characters only, and the event gets its fingerprint and last
//! four characters, never more of it.

use http::{HeaderMap, HeaderName, HeaderValue};
use proxy::inspect::credentials::{credential, observe, KeyFingerprints, MAX_CREDENTIAL_BYTES};

const NAMES: [&str; 5] = [
    "authorization",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "x-other",
];

/// The first line of `data` is the query; each further line is a header value, given to the
/// header names in turn (bytes a header cannot hold are skipped, as hyper would refuse them).
pub fn ai_key_headers(data: &[u8]) -> Option<String> {
    let (query, rest) = crate::split_first_line(data);
    let mut headers = HeaderMap::new();
    for (i, line) in rest.split(|&b| b == b'\n').enumerate() {
        if let Ok(value) = HeaderValue::from_bytes(line) {
            headers.append(HeaderName::from_static(NAMES[i % NAMES.len()]), value);
        }
    }
    let query = std::str::from_utf8(query).ok();
    let found = credential(&headers, query).map(|(value, _)| value.to_string());
    if let Some(value) = &found {
        assert!(
            (12..=MAX_CREDENTIAL_BYTES).contains(&value.len()),
            "{value:?}"
        );
        assert!(value.is_ascii() && !value.contains(' '), "{value:?}");
        let carried = headers.values().any(|v| {
            v.as_bytes()
                .windows(value.len())
                .any(|w| w == value.as_bytes())
        }) || query.is_some_and(|q| q.contains(value.as_str()));
        assert!(carried, "{value:?} is not in the request");
    }
    let fingerprints = KeyFingerprints::with_secret(&[9; 32]);
    let seen = observe(
        &fingerprints,
        &headers,
        query,
        "api.openai.com",
        "openai-api",
    );
    assert_eq!(seen.is_some(), found.is_some());
    if let (Some(seen), Some(value)) = (&seen, &found) {
        assert!(value.ends_with(&seen.last4) && seen.last4.len() == 4.min(value.len()));
        assert_eq!(seen.fingerprint, fingerprints.fingerprint(value));
        assert_eq!(seen.fingerprint.len(), 32);
    }
    found
}
