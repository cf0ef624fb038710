//! The text a request carries outside its body: the URL query and the headers a person or a
//! page can fill in (`X-Note: ...`, an app's prompt header). Scanned with the body when a
//! catalog app's prompts must be checked.
//!
//! Credentials and protocol headers are left out: the user's own API key for the app and its
//! session cookie are not prompts, and scanning them would block every call. This must never
//! log or keep what it returns beyond the scan.

use http::request::Parts;

use crate::inspect::form_text;

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

/// The decoded query string, then every header value not in [`NOT_PROMPT`], one a line.
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
}
