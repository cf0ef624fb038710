//! Finding the credential a client presents to an AI API: `Authorization: Bearer`, AWS SigV4's
//! access key id, `x-api-key`, `api-key`, `x-goog-api-key` and `?key=`.
//!
//! Network-facing and bounded: a header value is read only when it is visible ASCII, a
//! credential longer than [`MAX_CREDENTIAL_BYTES`] or shorter than [`MIN_CREDENTIAL_BYTES`]
//! is not one, at most [`MAX_VALUES_PER_HEADER`] values of each header and
//! [`MAX_QUERY_PAIRS`] query pairs are looked at. Borrowed slices only: nothing here copies a
//! credential, and nothing here logs one.

use http::HeaderMap;

use super::classify::Carrier;

/// The longest value taken for a credential (real keys are under 250 bytes; JWTs can be
/// longer, and are cut off here rather than read whole).
pub const MAX_CREDENTIAL_BYTES: usize = 2048;
/// Shorter values are placeholders (`unused`, `none`), not credentials.
pub const MIN_CREDENTIAL_BYTES: usize = 12;
/// Values of one header name looked at: repeating a header cannot make the read longer.
pub const MAX_VALUES_PER_HEADER: usize = 4;
/// Query pairs looked at for `key=`.
pub const MAX_QUERY_PAIRS: usize = 64;

/// The headers that carry a key as their whole value, in the order they are tried.
const KEY_HEADERS: [(&str, Carrier); 3] = [
    ("x-api-key", Carrier::XApiKey),
    ("api-key", Carrier::AzureApiKey),
    ("x-goog-api-key", Carrier::GoogApiKey),
];

/// The first credential on the request, and where it was.
pub fn credential<'a>(
    headers: &'a HeaderMap,
    query: Option<&'a str>,
) -> Option<(&'a str, Carrier)> {
    for value in headers
        .get_all(http::header::AUTHORIZATION)
        .iter()
        .take(MAX_VALUES_PER_HEADER)
    {
        if let Some(found) = value.to_str().ok().and_then(from_authorization) {
            return Some(found);
        }
    }
    for (name, carrier) in KEY_HEADERS {
        for value in headers.get_all(name).iter().take(MAX_VALUES_PER_HEADER) {
            if let Some(key) = value.to_str().ok().and_then(|v| token(v.trim())) {
                return Some((key, carrier));
            }
        }
    }
    query
        .and_then(from_query)
        .map(|key| (key, Carrier::QueryKey))
}

/// `Bearer <token>`, or SigV4's `Credential=<access key id>/...`.
fn from_authorization(value: &str) -> Option<(&str, Carrier)> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return token(rest.trim()).map(|t| (t, Carrier::Bearer));
    }
    if scheme.eq_ignore_ascii_case("AWS4-HMAC-SHA256") {
        let start = rest.find("Credential=")? + "Credential=".len();
        let id = rest[start..].split(['/', ',', ' ']).next()?;
        return token(id).map(|t| (t, Carrier::SigV4));
    }
    None
}

/// `key=<value>` among the first query pairs.
fn from_query(query: &str) -> Option<&str> {
    query
        .split('&')
        .take(MAX_QUERY_PAIRS)
        .find_map(|pair| pair.strip_prefix("key="))
        .and_then(token)
}

/// `value` when it can be a credential: bounded length, token characters only.
fn token(value: &str) -> Option<&str> {
    let len = value.len();
    let ok = (MIN_CREDENTIAL_BYTES..=MAX_CREDENTIAL_BYTES).contains(&len)
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~+/=:%".contains(&b));
    ok.then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn each_carrier_is_read() {
        let bearer = headers(&[("authorization", "Bearer sk-proj-abcdefghijkl1234")]);
        assert_eq!(
            credential(&bearer, None),
            Some(("sk-proj-abcdefghijkl1234", Carrier::Bearer))
        );
        let sigv4 = headers(&[(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=abc",
        )]);
        assert_eq!(
            credential(&sigv4, None),
            Some(("AKIAIOSFODNN7EXAMPLE", Carrier::SigV4))
        );
        let anthropic = headers(&[("x-api-key", "sk-ant-api03-abcdefghijkl")]);
        assert_eq!(credential(&anthropic, None).unwrap().1, Carrier::XApiKey);
        let azure = headers(&[("api-key", "0123456789abcdef0123456789abcdef")]);
        assert_eq!(credential(&azure, None).unwrap().1, Carrier::AzureApiKey);
        let goog = headers(&[("x-goog-api-key", "AIzaSyA1234567890abcdef")]);
        assert_eq!(credential(&goog, None).unwrap().1, Carrier::GoogApiKey);
        assert_eq!(
            credential(
                &HeaderMap::new(),
                Some("alt=sse&key=AIzaSyA1234567890abcdef")
            ),
            Some(("AIzaSyA1234567890abcdef", Carrier::QueryKey))
        );
    }

    #[test]
    fn placeholders_huge_and_odd_values_are_not_credentials() {
        let short = headers(&[("authorization", "Bearer unused")]);
        assert_eq!(credential(&short, None), None);
        let huge = "k".repeat(MAX_CREDENTIAL_BYTES + 1);
        let long = headers(&[("x-api-key", &huge)]);
        assert_eq!(credential(&long, None), None);
        let spaced = headers(&[("x-api-key", "sk-ant-api03 with spaces in it")]);
        assert_eq!(credential(&spaced, None), None);
        let mut binary = HeaderMap::new();
        binary.append(
            "x-api-key",
            HeaderValue::from_bytes(b"sk-\xff\xfe-not-utf8-at-all").unwrap(),
        );
        assert_eq!(credential(&binary, None), None);
    }

    #[test]
    fn many_copies_of_a_header_are_read_only_up_to_the_limit() {
        let mut map = HeaderMap::new();
        for _ in 0..1000 {
            map.append("x-api-key", HeaderValue::from_static("bad"));
        }
        map.append(
            "x-api-key",
            HeaderValue::from_static("sk-ant-api03-late-one"),
        );
        assert_eq!(credential(&map, None), None);
    }
}
