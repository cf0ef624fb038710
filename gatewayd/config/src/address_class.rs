//! The classes of special-purpose IP addresses: loopback, link-local (cloud metadata),
//! private, reserved, multicast ... Shared by the proxy's egress policy (`proxy::upstream::
//! egress`) and the AI gateway's image fetcher, so both refuse the same addresses in every
//! spelling.
//!
//! Never: let an address through because it is spelled differently — IPv4-mapped,
//! IPv4-compatible, NAT64 and 6to4 IPv6 addresses are judged by the IPv4 address inside.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why a destination is refused; its [`rule`](EgressRefusal::rule) is the block page's
/// `X-Warden-Rule` and the event's `rule_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EgressRefusal {
    /// The port is not in `egress.allow_ports` (80 and 443 always are).
    Port,
    Loopback,
    /// 169.254.0.0/16 (cloud metadata) and fe80::/10.
    LinkLocal,
    Unspecified,
    Multicast,
    Broadcast,
    /// Ranges that are not routable on the internet (0.0.0.0/8, 240.0.0.0/4, documentation).
    Reserved,
    /// RFC 1918, 100.64.0.0/10 (carrier-grade NAT), 198.18.0.0/15, fc00::/7, fec0::/10.
    Private,
    /// The gateway's own machine (one of its addresses, so one of its listeners too).
    Gateway,
}

impl EgressRefusal {
    /// `egress.<reason>`.
    pub fn rule(self) -> &'static str {
        match self {
            Self::Port => "egress.port",
            Self::Loopback => "egress.loopback",
            Self::LinkLocal => "egress.link_local",
            Self::Unspecified => "egress.unspecified",
            Self::Multicast => "egress.multicast",
            Self::Broadcast => "egress.broadcast",
            Self::Reserved => "egress.reserved",
            Self::Private => "egress.private",
            Self::Gateway => "egress.gateway",
        }
    }

    /// What the user is told.
    pub fn explain(self) -> &'static str {
        match self {
            Self::Port => "that port is not one the gateway connects to",
            Self::Loopback => "it is a loopback address of the gateway itself",
            Self::LinkLocal => "it is a link-local address (such as a cloud metadata service)",
            Self::Unspecified => "it is the unspecified address",
            Self::Multicast => "it is a multicast address",
            Self::Broadcast => "it is a broadcast address",
            Self::Reserved => "it is a reserved address that is not routable on the internet",
            Self::Private => "it is a private (internal) address",
            Self::Gateway => "it is the gateway's own machine",
        }
    }

    /// Whether an allow list may open this class of address. Loopback, link-local and the
    /// gateway's own machine never open by list: `upstream.connect_to` is the explicit way.
    pub fn listable(self) -> bool {
        matches!(self, Self::Private | Self::Reserved)
    }
}

/// The class of a special-purpose address, `None` for an ordinary internet address.
pub fn classify(ip: IpAddr) -> Option<EgressRefusal> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(ip) {
            Some(v4) => classify_v4(v4),
            None => classify_v6(v6),
        },
    }
}

/// The IPv4 address an IPv6 address stands for: IPv4-mapped (::ffff:a.b.c.d), the deprecated
/// IPv4-compatible form (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002:aabb:ccdd::/48).
pub fn embedded_v4(ip: IpAddr) -> Option<Ipv4Addr> {
    let IpAddr::V6(v6) = ip else { return None };
    let s = v6.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(low),
        // :: and ::1 are the unspecified and loopback addresses, not compatible forms.
        [0, 0, 0, 0, 0, 0, hi, lo] if hi != 0 || lo > 1 => Some(low),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(low),
        [0x2002, a, b, ..] => Some(Ipv4Addr::new(
            (a >> 8) as u8,
            a as u8,
            (b >> 8) as u8,
            b as u8,
        )),
        _ => None,
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<EgressRefusal> {
    let [a, b, c, _] = ip.octets();
    let refusal = if ip.is_loopback() {
        EgressRefusal::Loopback
    } else if ip.is_link_local() {
        EgressRefusal::LinkLocal
    } else if a == 0 {
        // 0.0.0.0/8: "this network"; Linux dials 0.0.0.0 as loopback.
        EgressRefusal::Unspecified
    } else if ip.is_broadcast() {
        EgressRefusal::Broadcast
    } else if ip.is_multicast() {
        EgressRefusal::Multicast
    } else if ip.is_private()
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (b == 18 || b == 19))
    {
        EgressRefusal::Private
    } else if a >= 240
        || (a == 192 && b == 0 && (c == 0 || c == 2))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
    {
        EgressRefusal::Reserved
    } else {
        return None;
    };
    Some(refusal)
}

fn classify_v6(ip: Ipv6Addr) -> Option<EgressRefusal> {
    let first = ip.segments()[0];
    let refusal = if ip.is_loopback() {
        EgressRefusal::Loopback
    } else if ip.is_unspecified() {
        EgressRefusal::Unspecified
    } else if ip.is_multicast() {
        EgressRefusal::Multicast
    } else if first & 0xffc0 == 0xfe80 {
        EgressRefusal::LinkLocal
    } else if first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfec0 {
        EgressRefusal::Private
    } else if (first == 0x2001 && ip.segments()[1] == 0x0db8) || first & 0xe000 != 0x2000 {
        // Documentation, and everything outside 2000::/3 (the only global unicast space).
        EgressRefusal::Reserved
    } else {
        return None;
    };
    Some(refusal)
}
