//! Split tunnel: which destinations skip the gateway. Host names match exactly or by
//! `*.suffix`; addresses match by range. Everything else goes through the tunnel.

use std::net::IpAddr;

use ipnet::IpNet;

/// The parsed `direct` list.
#[derive(Debug, Clone, Default)]
pub struct SplitTunnel {
    pub(crate) hosts: Vec<String>,
    pub(crate) suffixes: Vec<String>,
    pub(crate) ranges: Vec<IpNet>,
}

impl SplitTunnel {
    pub fn parse(entries: &[String]) -> anyhow::Result<Self> {
        let mut split = Self::default();
        for entry in entries {
            let entry = entry.trim().to_ascii_lowercase();
            if entry.is_empty() {
                continue;
            }
            if let Ok(net) = entry.parse::<IpNet>() {
                split.ranges.push(net);
            } else if let Ok(ip) = entry.parse::<IpAddr>() {
                split.ranges.push(IpNet::from(ip));
            } else if let Some(suffix) = entry.strip_prefix("*.") {
                split.suffixes.push(format!(".{suffix}"));
            } else if entry.contains(['/', ':', ' ', '*']) {
                anyhow::bail!(
                    "direct entry {entry:?} is neither a host, *.suffix nor an address range"
                );
            } else {
                split.hosts.push(entry);
            }
        }
        Ok(split)
    }

    /// Whether `host` goes direct.
    pub fn is_direct(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = host.parse::<IpAddr>() {
            return self.ranges.iter().any(|r| r.contains(&ip.to_canonical()));
        }
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.contains(&host) || self.suffixes.iter().any(|s| host.ends_with(s.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty() && self.suffixes.is_empty() && self.ranges.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hosts_suffixes_and_ranges() {
        let split = SplitTunnel::parse(&[
            "intranet".into(),
            "*.corp.example".into(),
            "10.0.0.0/8".into(),
            "::1".into(),
        ])
        .unwrap();
        assert!(split.is_direct("intranet"));
        assert!(split.is_direct("Wiki.Corp.Example."));
        assert!(!split.is_direct("corp.example.evil"));
        assert!(split.is_direct("10.1.2.3"));
        assert!(split.is_direct("[::1]"));
        assert!(!split.is_direct("chatgpt.com"));
        assert!(SplitTunnel::parse(&["a b".into()]).is_err());
    }
}
