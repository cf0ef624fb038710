//! The egress policy: which addresses and ports the gateway may dial on a user's behalf.
//!
//! A proxy that dials whatever a client names is a way into everything the proxy can reach:
//! its own admin port, the database on loopback, cloud metadata on 169.254.169.254, the
//! intranet. Every upstream connection — intercepted requests, absolute-form `http://`,
//! do-not-inspect splices, WebSocket upgrades, agent tunnel streams — goes through
//! [`super::UpstreamConnector::connect_tcp`], which asks this policy about each address
//! **after DNS resolution**, on the address actually dialled, so a name that resolves (or
//! rebinds) to a forbidden address is refused too.
//!
//! Refused by default: loopback, link-local, unspecified, multicast, broadcast, reserved
//! ranges, private ranges (RFC 1918, 100.64.0.0/10, fc00::/7) unless `egress.allow_networks`
//! or `egress.allow_hosts` lists them, any port outside 80, 443 and `egress.allow_ports`, and
//! the gateway's own machine (checked after connecting: a connection whose source and
//! destination address are the same never left the host). `upstream.connect_to` entries are
//! explicit and bypass this policy.
//!
//! It must never let an address through because it is spelled differently: IPv4-mapped,
//! IPv4-compatible, NAT64 and 6to4 IPv6 addresses are judged by the IPv4 address inside.

use std::net::IpAddr;

use ipnet::IpNet;

pub use config::address_class::{classify, embedded_v4, EgressRefusal};
use config::{EgressConfig, PortRange};
use policies::host_list::{HostList, HostListError};

/// The egress policy of one configuration snapshot.
#[derive(Debug, Clone)]
pub struct EgressPolicy {
    ports: Vec<PortRange>,
    allow_networks: Vec<IpNet>,
    allow_hosts: HostList,
}

impl EgressPolicy {
    /// Builds the policy; the config was validated, so only host patterns can still fail.
    pub fn from_config(config: &EgressConfig) -> Result<Self, HostListError> {
        Ok(Self {
            ports: config.allow_ports.clone(),
            allow_networks: config.allow_networks.clone(),
            allow_hosts: HostList::parse(&config.allow_hosts)?,
        })
    }

    /// Whether `port` may be dialled.
    pub fn check_port(&self, port: u16) -> Result<(), EgressRefusal> {
        if port == 80 || port == 443 || self.ports.iter().any(|r| r.contains(port)) {
            Ok(())
        } else {
            Err(EgressRefusal::Port)
        }
    }

    /// Whether `ip`, one of the addresses `host` resolved to, may be dialled.
    pub fn check_addr(&self, host: &str, ip: IpAddr) -> Result<(), EgressRefusal> {
        let Some(refusal) = classify(ip) else {
            return Ok(());
        };
        let listed = || {
            let canonical = embedded_v4(ip).map_or(ip, IpAddr::V4);
            self.allow_networks
                .iter()
                .any(|net| net.contains(&canonical) || net.contains(&ip))
                || self.allow_hosts.matches(host)
        };
        if refusal.listable() && listed() {
            Ok(())
        } else {
            Err(refusal)
        }
    }
}

#[cfg(test)]
mod tests;
