//! Host patterns in config lists: `example.com` (exactly) or `*.example.com` (any subdomain).

use crate::host::normalize_host;
use crate::host_pattern::HostPattern;

/// A config host pattern that is not a host name or `*.suffix`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("host pattern {pattern:?} must be a host name or *.suffix ({reason})")]
pub struct HostListError {
    pub pattern: String,
    pub reason: String,
}

/// A list of host patterns from the config (`example.com` or `*.example.com`), parsed and
/// matched by this crate's host patterns — the same rules the catalog uses.
#[derive(Debug, Clone, Default)]
pub struct HostList(Vec<HostPattern>);

impl HostList {
    /// Parses config patterns; any case and a trailing dot are accepted, paths are not (these
    /// lists are decided at CONNECT time, before any path is seen).
    pub fn parse(patterns: &[String]) -> Result<Self, HostListError> {
        patterns
            .iter()
            .map(|pattern| {
                let fail = |why: &str| HostListError {
                    pattern: pattern.clone(),
                    reason: why.to_owned(),
                };
                let normal = pattern.trim_end_matches('.').to_ascii_lowercase();
                let parsed = HostPattern::parse(&normal).map_err(|e| fail(&e.reason))?;
                match parsed.path_prefix() {
                    Some(_) => Err(fail("no path here")),
                    None => Ok(parsed),
                }
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Whether `host` (any case, optional trailing dot) matches a pattern.
    pub fn matches(&self, host: &str) -> bool {
        if self.0.is_empty() {
            return false;
        }
        match normalize_host(host) {
            Ok(host) => self.0.iter().any(|p| p.matches_host(&host)),
            Err(_) => false,
        }
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
            assert!(HostList::parse(&[bad.to_string()]).is_err(), "{bad:?}");
        }
    }
}
