//! Which addresses are worth looking up, in the form the database indexes them.
//!
//! IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, what a dual-stack listener reports for
//! IPv4 clients) become plain IPv4. Private, loopback, link-local, multicast and other
//! non-global ranges are never looked up: they have no place on a map, and a database
//! that claims otherwise would mislabel internal traffic.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The address to look up for `ip`, or `None` when it is not a global address.
///
/// Documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) are
/// deliberately kept: tests build databases over them.
pub fn locatable(ip: IpAddr) -> Option<IpAddr> {
    match ip {
        IpAddr::V4(v4) => v4_locatable(v4).then_some(IpAddr::V4(v4)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4_locatable(v4).then_some(IpAddr::V4(v4)),
            None => v6_locatable(v6).then_some(IpAddr::V6(v6)),
        },
    }
}

fn v4_locatable(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let this_network = a == 0;
    let shared_cgnat = a == 100 && (b & 0xc0) == 64;
    let reserved = a >= 240; // includes the broadcast address
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_multicast()
        || this_network
        || shared_cgnat
        || reserved)
}

fn v6_locatable(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    // `::/96` (unspecified, loopback and the deprecated IPv4-compatible form) would be
    // answered from the IPv4 part of the tree; no real client has such an address.
    let ipv4_compatible = u128::from(ip) >> 32 == 0;
    let unique_local = (first & 0xfe00) == 0xfc00;
    let link_local = (first & 0xffc0) == 0xfe80;
    let site_local = (first & 0xffc0) == 0xfec0;
    !(ipv4_compatible || ip.is_multicast() || unique_local || link_local || site_local)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn keeps_global_and_documentation_addresses() {
        for s in ["8.8.8.8", "203.0.113.7", "2001:db8::1", "2a00:1450::1"] {
            assert_eq!(locatable(ip(s)), Some(ip(s)), "{s}");
        }
    }

    #[test]
    fn maps_ipv4_mapped_to_ipv4() {
        assert_eq!(locatable(ip("::ffff:203.0.113.9")), Some(ip("203.0.113.9")));
        assert_eq!(locatable(ip("::ffff:10.0.0.1")), None);
    }

    #[test]
    fn drops_non_global_addresses() {
        for s in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::203.0.113.9",
            "fd00::1",
            "fe80::1",
            "ff02::1",
        ] {
            assert_eq!(locatable(ip(s)), None, "{s}");
        }
    }
}
