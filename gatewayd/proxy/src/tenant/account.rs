//! Finding the account identifiers a request shows, in the places an app's tenant hint names:
//! a path segment, a header, a cookie, a query parameter. Never the body.
//!
//! Every identifier is handed to the caller's check as borrowed bytes and dropped; nothing is
//! copied, kept or logged. Work is bounded by what the request already holds in memory (the
//! path, the query, headers within the server's header limits); a value longer than any
//! organisation id is still one identifier, checked by a length comparison.

use http::header::{HeaderMap, COOKIE};
use policies::catalog::AccountAt;

/// Calls `is_foreign` with each identifier found, in the order of `accounts`; returns `true`
/// as soon as one call does. Empty values are not identifiers.
pub(super) fn any_id(
    accounts: &[AccountAt],
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    mut is_foreign: impl FnMut(&[u8]) -> bool,
) -> bool {
    let mut check = |id: &[u8]| !id.is_empty() && is_foreign(id);
    for at in accounts {
        let found = match at {
            AccountAt::Path { pattern, segment } => {
                pattern.matches(path)
                    && path
                        .strip_prefix('/')
                        .unwrap_or(path)
                        .split('/')
                        .nth(*segment)
                        .is_some_and(|id| check(id.as_bytes()))
            }
            AccountAt::Header(name) => headers
                .get_all(name.as_str())
                .iter()
                .any(|v| check(trim(v.as_bytes()))),
            AccountAt::Cookie(name) => headers.get_all(COOKIE).iter().any(|v| {
                v.as_bytes()
                    .split(|&b| b == b';')
                    .filter_map(|pair| split_pair(trim(pair)))
                    .any(|(k, v)| k == name.as_bytes() && check(unquote(v)))
            }),
            AccountAt::Query(name) => query.is_some_and(|q| {
                q.as_bytes()
                    .split(|&b| b == b'&')
                    .filter_map(split_pair)
                    .any(|(k, v)| k == name.as_bytes() && check(v))
            }),
        };
        if found {
            return true;
        }
    }
    false
}

fn trim(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

fn split_pair(pair: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = pair.iter().position(|&b| b == b'=')?;
    Some((trim(&pair[..at]), trim(&pair[at + 1..])))
}

fn unquote(v: &[u8]) -> &[u8] {
    v.strip_prefix(b"\"")
        .and_then(|v| v.strip_suffix(b"\""))
        .unwrap_or(v)
}
