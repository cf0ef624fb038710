//! Host patterns in config lists: `example.com` (exactly) or `*.example.com` (any subdomain).

/// One host pattern, stored lowercase without trailing dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    Exact(String),
    /// Matches any subdomain of the suffix (the stored suffix starts with a dot).
    Subdomains(String),
}

impl HostPattern {
    pub fn parse(pattern: &str) -> Result<Self, String> {
        let lower = pattern.trim_end_matches('.').to_ascii_lowercase();
        let (wild, name) = match lower.strip_prefix("*.") {
            Some(rest) => (true, rest.to_string()),
            None => (false, lower.clone()),
        };
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if name.is_empty() || name.len() > 253 || !name.split('.').all(label_ok) {
            return Err(format!(
                "host pattern {pattern:?} must be a host name or *.suffix (IDNs in punycode)"
            ));
        }
        Ok(if wild {
            Self::Subdomains(format!(".{name}"))
        } else {
            Self::Exact(name)
        })
    }

    /// Whether an already-normalised host (lowercase, no trailing dot) matches.
    pub fn matches(&self, host: &str) -> bool {
        match self {
            Self::Exact(name) => host == name,
            Self::Subdomains(suffix) => {
                host.len() > suffix.len() && host.ends_with(suffix.as_str())
            }
        }
    }
}

/// A list of patterns; validated when built from config.
#[derive(Debug, Clone, Default)]
pub struct HostList(Vec<HostPattern>);

impl HostList {
    pub fn parse(patterns: &[String]) -> Result<Self, String> {
        patterns
            .iter()
            .map(|p| HostPattern::parse(p))
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Whether `host` (any case, optional trailing dot) matches a pattern.
    pub fn matches(&self, host: &str) -> bool {
        if self.0.is_empty() {
            return false;
        }
        let host = normalise_host(host);
        self.0.iter().any(|p| p.matches(&host))
    }
}

/// Lowercase, without brackets around IPv6 literals or a trailing dot.
pub fn normalise_host(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_subdomain_patterns() {
        let list = HostList::parse(&["bank.example".into(), "*.health.example".into()]).unwrap();
        assert!(list.matches("Bank.Example."));
        assert!(!list.matches("www.bank.example"));
        assert!(list.matches("portal.health.example"));
        assert!(!list.matches("health.example"));
        assert!(!list.matches("evilhealth.example"));
    }

    #[test]
    fn rejects_bad_patterns() {
        for bad in ["", "*.", "a b", "*.*.x", "ü.example"] {
            assert!(HostPattern::parse(bad).is_err(), "{bad:?}");
        }
    }
}
