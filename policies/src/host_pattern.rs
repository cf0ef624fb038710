//! Host patterns shared by catalog and policy files: `example.com`, `*.example.com`, and either
//! followed by `/path/prefix` (see `catalog/SCHEMA.md`).
//!
//! Patterns are validated once at load time and stored in normal form, so matching is plain
//! string comparison on a [`NormalHost`]. This module never allocates while matching.

use crate::host::{normalize_host, NormalHost};
use std::borrow::Cow;
use std::fmt;

/// A validated host pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPattern {
    text: Box<str>,
    /// The exact host, or for a wildcard the domain after `*.`.
    host: Box<str>,
    wildcard: bool,
    path_prefix: Option<Box<str>>,
}

/// Why a host pattern was rejected (the caller adds the file position).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid host pattern {pattern:?}: {reason}")]
pub struct PatternError {
    pub pattern: String,
    pub reason: String,
}

impl HostPattern {
    /// Parses and validates `text`.
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let fail = |reason: &str| PatternError {
            pattern: text.to_owned(),
            reason: reason.into(),
        };
        if text.is_empty() {
            return Err(fail("empty"));
        }
        if text.contains("://") {
            return Err(fail("write the host name only, without a scheme"));
        }
        if !text.is_ascii() {
            return Err(fail("write internationalised names in punycode (xn--...)"));
        }
        if text.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(fail("host patterns are written in lowercase"));
        }
        let (host_part, path_prefix) = match text.find('/') {
            Some(i) => (&text[..i], Some(&text[i..])),
            None => (text, None),
        };
        if host_part.contains(':') {
            return Err(fail("host patterns have no port"));
        }
        if host_part.ends_with('.') {
            return Err(fail("host patterns have no trailing dot"));
        }
        let (wildcard, host) = match host_part.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, host_part),
        };
        if host.contains('*') {
            return Err(fail("`*` may only appear as a leading `*.` label"));
        }
        let normal = normalize_host(host).map_err(|e| fail(&e.to_string()))?;
        if !matches!(normal.name, Cow::Borrowed(_)) {
            return Err(fail("not a host name in normal form"));
        }
        if wildcard && (normal.is_ip || !host.contains('.')) {
            return Err(fail(
                "a wildcard must cover a domain of at least two labels, never an IP address",
            ));
        }
        if let Some(prefix) = path_prefix {
            if prefix == "/" {
                return Err(fail(
                    "the path prefix `/` matches every path: write the plain host",
                ));
            }
            if prefix
                .bytes()
                .any(|b| matches!(b, b'?' | b'#' | b'*') || b.is_ascii_whitespace())
            {
                return Err(fail(
                    "a path prefix is a literal path without `?`, `#` or `*`",
                ));
            }
        }
        Ok(HostPattern {
            text: text.into(),
            host: host.into(),
            wildcard,
            path_prefix: path_prefix.map(Into::into),
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The exact host, or for `*.example.com` the domain `example.com`.
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn is_wildcard(&self) -> bool {
        self.wildcard
    }

    pub fn path_prefix(&self) -> Option<&str> {
        self.path_prefix.as_deref()
    }

    /// Whether the host part matches (path prefixes ignored).
    pub fn matches_host(&self, host: &NormalHost<'_>) -> bool {
        let name: &str = &host.name;
        if !self.wildcard {
            return name == &*self.host;
        }
        !host.is_ip
            && name.len() > self.host.len()
            && name.ends_with(&*self.host)
            && name.as_bytes()[name.len() - self.host.len() - 1] == b'.'
    }

    /// Whether `host` and `path` match. A pattern with a path prefix never matches when the
    /// path is unknown (`None`, as at CONNECT time).
    pub fn matches(&self, host: &NormalHost<'_>, path: Option<&str>) -> bool {
        if !self.matches_host(host) {
            return false;
        }
        match (&self.path_prefix, path) {
            (None, _) => true,
            (Some(prefix), Some(path)) => request_path(path).starts_with(&**prefix),
            (Some(_), None) => false,
        }
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The path part of a request target: query and fragment removed, empty read as `/`.
pub fn request_path(path: &str) -> &str {
    let end = path.find(['?', '#']).unwrap_or(path.len());
    match &path[..end] {
        "" => "/",
        p => p,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(s: &str) -> NormalHost<'_> {
        normalize_host(s).unwrap()
    }

    #[test]
    fn accepts_the_three_shapes() {
        let exact = HostPattern::parse("chatgpt.com").unwrap();
        assert!(exact.matches(&host("chatgpt.com"), None));
        assert!(!exact.matches(&host("www.chatgpt.com"), None));

        let wild = HostPattern::parse("*.chatgpt.com").unwrap();
        assert!(wild.matches(&host("a.b.chatgpt.com"), None));
        assert!(
            !wild.matches(&host("chatgpt.com"), None),
            "wildcard excludes the apex"
        );
        assert!(
            !wild.matches(&host("evilchatgpt.com"), None),
            "label boundary"
        );

        let pre = HostPattern::parse("www.bing.com/chat").unwrap();
        assert!(pre.matches(&host("www.bing.com"), Some("/chat?q=1")));
        assert!(!pre.matches(&host("www.bing.com"), Some("/search")));
        assert!(
            !pre.matches(&host("www.bing.com"), None),
            "unknown path never matches"
        );
    }

    #[test]
    fn rejects_malformed_patterns() {
        for bad in [
            "",
            "Chatgpt.com",
            "https://chatgpt.com",
            "chatgpt.com:443",
            "chat*.com",
            "*.com",
            "*.*.example.com",
            "example.com.",
            "bücher.de",
            "a..b",
            "example.com/",
            "example.com/a?b",
            "*.10.0.0.1",
            "exa mple.com",
        ] {
            assert!(
                HostPattern::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn ip_literals_never_match_wildcards() {
        let wild = HostPattern::parse("*.0.1").unwrap_err();
        assert!(wild.reason.contains("IP"), "{wild}");
        let exact = HostPattern::parse("10.0.0.1").unwrap();
        assert!(exact.matches(&host("10.0.0.1"), None));
    }

    #[test]
    fn request_path_drops_query_and_fragment() {
        assert_eq!(request_path("/a/b?x=1#f"), "/a/b");
        assert_eq!(request_path(""), "/");
        assert_eq!(request_path("?x"), "/");
    }
}
