//! The name a leaf certificate is minted for: a DNS name or an IP address, normalised so
//! that `Example.COM.` and `example.com` share one cache entry and one certificate.

use std::fmt;
use std::net::IpAddr;

use crate::CaError;

/// A normalised server identity: lowercase DNS name without trailing dot, or an IP address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ServerIdentity {
    Dns(String),
    Ip(IpAddr),
}

impl ServerIdentity {
    /// Normalises a host as a client asked for it (SNI or CONNECT authority, without port).
    /// IPv6 literals may come in brackets.
    pub fn parse(host: &str) -> Result<Self, CaError> {
        let bad = |reason| CaError::BadHost {
            host: host.chars().take(256).collect(),
            reason,
        };
        let trimmed = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = trimmed.parse::<IpAddr>() {
            return Ok(Self::Ip(ip));
        }
        let name = host.strip_suffix('.').unwrap_or(host);
        if name.is_empty() {
            return Err(bad("empty host name"));
        }
        if name.len() > 253 {
            return Err(bad("host name longer than 253 bytes"));
        }
        let valid_label = |label: &str| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if !name.split('.').all(valid_label) {
            return Err(bad("not a valid DNS name (IDNs must be sent in punycode)"));
        }
        Ok(Self::Dns(name.to_ascii_lowercase()))
    }
}

impl fmt::Display for ServerIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dns(name) => f.write_str(name),
            Self::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_trailing_dot() {
        assert_eq!(
            ServerIdentity::parse("Chat.OpenAI.com.").unwrap(),
            ServerIdentity::Dns("chat.openai.com".into())
        );
    }

    #[test]
    fn accepts_ip_literals() {
        assert!(matches!(
            ServerIdentity::parse("[::1]").unwrap(),
            ServerIdentity::Ip(_)
        ));
        assert!(matches!(
            ServerIdentity::parse("10.1.2.3").unwrap(),
            ServerIdentity::Ip(_)
        ));
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            ".",
            "a..b",
            "bad host",
            "ünïcode.example",
            &"a".repeat(300),
        ] {
            assert!(ServerIdentity::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
