//! The text a request carries outside its body: the URL path and query, the headers a person
//! or a page can fill in (`X-Note: ...`, an app's prompt header) and the cookie values that
//! are not tokens. Scanned with the body when a catalog app's prompts must be checked.
//!
//! Credentials and protocol headers are left out: the user's own API key for the app and its
//! session cookie are not prompts, and scanning them would block every call. A cookie value
//! is read only when it is not one token (it holds a blank once decoded, or no letter): a
//! session id or a JWT is one token, `n=4556737586899855` or `note=card%204556...` is not.
//! The path is read one segment a line (a card in a segment stands alone, as it would in
//! prose). This must never log or keep what it returns beyond the scan.

use http::request::Parts;

use crate::inspect::{form_text, percent_decode};

/// Headers that are never prompt text: credentials, framing, content negotiation, caching,
/// fetch metadata and the WebSocket handshake.
const NOT_PROMPT: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "host",
    "content-type",
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "expect",
    "accept",
    "accept-encoding",
    "accept-language",
    "user-agent",
    "cache-control",
    "pragma",
    "if-none-match",
    "if-modified-since",
    "if-match",
    "if-unmodified-since",
    "if-range",
    "range",
    "priority",
    "dnt",
    "proxy-connection",
    "x-warden-request-id",
];

/// The decoded query string, then every header value not in [`NOT_PROMPT`], one a line;
/// then the path's decoded segments and the cookie values that are not tokens.
pub fn request_text(parts: &Parts) -> String {
    let mut out = parts
        .uri
        .query()
        .map(|q| form_text(q.as_bytes()))
        .unwrap_or_default();
    for (name, value) in &parts.headers {
        let name = name.as_str();
        if NOT_PROMPT.contains(&name) || name.starts_with("sec-") {
            continue;
        }
        out.push_str(&String::from_utf8_lossy(value.as_bytes()));
        out.push('\n');
    }
    for segment in parts.uri.path().split('/').filter(|s| !s.is_empty()) {
        out.push_str(&percent_decode(segment.as_bytes(), false));
        out.push('\n');
    }
    for cookies in parts.headers.get_all(http::header::COOKIE) {
        for pair in String::from_utf8_lossy(cookies.as_bytes()).split(';') {
            let value = pair.split_once('=').map_or(pair, |(_, v)| v);
            let value = percent_decode(value.trim().trim_matches('"').as_bytes(), true);
            let token = !value.contains(char::is_whitespace)
                && value.chars().any(|c| c.is_ascii_alphabetic());
            if !token {
                out.push_str(&value);
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_custom_headers_but_not_credentials() {
        let request = http::Request::get("https://claude.ai/?q=4539+1488%200343&x")
            .header("x-note", "note text")
            .header("authorization", "Bearer sk-secret")
            .header("cookie", "session=abc")
            .header("sec-websocket-key", "k")
            .body(())
            .unwrap();
        let (parts, ()) = request.into_parts();
        assert_eq!(request_text(&parts), "q\n4539 1488 0343\nx\nnote text\n");
    }

    #[test]
    fn path_segments_and_cookie_values_that_are_not_tokens() {
        let request = http::Request::get("https://chatgpt.com/backend-api/4556%207375/x")
            .header("cookie", "session=eyJhbGciOi.abc; n=4556737586899855")
            .header("cookie", "note=card%204556+7375; id=abc123")
            .body(())
            .unwrap();
        let (parts, ()) = request.into_parts();
        assert_eq!(
            request_text(&parts),
            "backend-api\n4556 7375\nx\n4556737586899855\ncard 4556 7375\n"
        );
    }
}
