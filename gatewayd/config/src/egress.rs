//! `[egress]`: where the gateway may connect on a user's behalf (see `upstream::egress`).
//!
//! Loopback, link-local, multicast and the gateway's own machine can never be opened here:
//! an allow list that covers them does not validate; `upstream.connect_to` is the explicit,
//! per-destination way to reach a local service.

use std::fmt;

use ipnet::IpNet;
use serde::{Deserialize, Deserializer};

/// Destinations allowed besides public internet addresses on ports 80 and 443.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct EgressConfig {
    /// Ports allowed besides 80 and 443: numbers or `"8000-8100"` ranges.
    pub allow_ports: Vec<PortRange>,
    /// Private or reserved ranges the gateway may reach (intranet sites), e.g. `10.20.0.0/16`.
    pub allow_networks: Vec<IpNet>,
    /// Host patterns (`intranet.example`, `*.corp.example`) whose private addresses may be
    /// reached: the name is the one the client asked for, the address the one it resolved to.
    pub allow_hosts: Vec<String>,
}

/// An inclusive range of ports, written `8080` or `"8000-8100"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

impl PortRange {
    pub fn contains(self, port: u16) -> bool {
        (self.first..=self.last).contains(&port)
    }

    fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("port range {text:?} must be \"FIRST-LAST\" with ports 1 to 65535");
        let (first, last) = text.split_once('-').unwrap_or((text, text));
        let first: u16 = first.trim().parse().map_err(|_| bad())?;
        let last: u16 = last.trim().parse().map_err(|_| bad())?;
        if first == 0 || last < first {
            return Err(bad());
        }
        Ok(Self { first, last })
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

impl<'de> Deserialize<'de> for PortRange {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Number(i64),
            Text(String),
        }
        let text = match Written::deserialize(deserializer)? {
            Written::Number(n) => n.to_string(),
            Written::Text(t) => t,
        };
        PortRange::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The first problem with an allow list that would open what may never be opened.
pub(crate) fn forbidden_network(config: &EgressConfig) -> Option<String> {
    const NEVER: [(&str, &str); 7] = [
        ("127.0.0.0/8", "loopback"),
        ("::1/128", "loopback"),
        ("169.254.0.0/16", "link-local (cloud metadata)"),
        ("fe80::/10", "link-local"),
        ("0.0.0.0/8", "unspecified"),
        ("224.0.0.0/4", "multicast"),
        ("ff00::/8", "multicast"),
    ];
    for net in &config.allow_networks {
        for (never, what) in NEVER {
            let Ok(never) = never.parse::<IpNet>() else {
                continue;
            };
            if net.contains(&never.network()) || never.contains(&net.network()) {
                return Some(format!(
                    "egress.allow_networks entry {net} covers {what} addresses ({never}), which \
                     the gateway never dials for users; to reach one local service, map it \
                     with upstream.connect_to"
                ));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_numbers_or_ranges() {
        let config: EgressConfig = toml::from_str("allow_ports = [8080, \"8000-8100\"]").unwrap();
        assert_eq!(
            config.allow_ports[0],
            PortRange {
                first: 8080,
                last: 8080
            }
        );
        assert!(config.allow_ports[1].contains(8050));
        for bad in [
            "allow_ports = [0]",
            "allow_ports = [70000]",
            "allow_ports = [\"9-3\"]",
            "allow_ports = [\"x\"]",
        ] {
            assert!(toml::from_str::<EgressConfig>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn allow_lists_cannot_open_loopback_or_metadata() {
        for net in [
            "127.0.0.1/32",
            "0.0.0.0/0",
            "169.254.169.254/32",
            "::/0",
            "fe80::/64",
        ] {
            let config = EgressConfig {
                allow_networks: vec![net.parse().unwrap()],
                ..Default::default()
            };
            assert!(forbidden_network(&config).is_some(), "{net}");
        }
        let intranet = EgressConfig {
            allow_networks: vec!["10.20.0.0/16".parse().unwrap(), "fd00::/8".parse().unwrap()],
            ..Default::default()
        };
        assert_eq!(forbidden_network(&intranet), None);
    }
}
