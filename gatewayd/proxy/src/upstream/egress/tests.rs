use super::*;
use config::EgressConfig;

fn default_policy() -> EgressPolicy {
    EgressPolicy::from_config(&EgressConfig::default()).unwrap()
}

fn refusal(ip: &str) -> Option<EgressRefusal> {
    default_policy()
        .check_addr("example.test", ip.parse().unwrap())
        .err()
}

#[test]
fn public_addresses_pass_and_special_ones_are_refused_by_class() {
    use EgressRefusal::*;
    let table = [
        ("93.184.215.14", None),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", None),
        ("127.0.0.1", Some(Loopback)),
        ("127.255.1.2", Some(Loopback)),
        ("::1", Some(Loopback)),
        ("169.254.169.254", Some(LinkLocal)),
        ("fe80::1", Some(LinkLocal)),
        ("0.0.0.0", Some(Unspecified)),
        ("0.1.2.3", Some(Unspecified)),
        ("::", Some(Unspecified)),
        ("224.0.0.1", Some(Multicast)),
        ("ff02::1", Some(Multicast)),
        ("255.255.255.255", Some(Broadcast)),
        ("10.1.2.3", Some(Private)),
        ("172.16.0.1", Some(Private)),
        ("172.31.255.255", Some(Private)),
        ("192.168.1.1", Some(Private)),
        ("100.64.0.1", Some(Private)),
        ("100.127.255.254", Some(Private)),
        ("198.18.0.1", Some(Private)),
        ("fd12:3456::1", Some(Private)),
        ("fec0::1", Some(Private)),
        ("240.0.0.1", Some(Reserved)),
        ("192.0.2.1", Some(Reserved)),
        ("2001:db8::1", Some(Reserved)),
        ("172.32.0.1", None),
        ("100.128.0.1", None),
    ];
    for (ip, expected) in table {
        assert_eq!(refusal(ip), expected, "{ip}");
    }
}

#[test]
fn ipv6_spellings_of_ipv4_addresses_are_judged_by_the_ipv4_inside() {
    use EgressRefusal::*;
    for (ip, expected) in [
        ("::ffff:127.0.0.1", Loopback),
        ("::ffff:7f00:1", Loopback),
        ("::127.0.0.1", Loopback),
        ("64:ff9b::a9fe:a9fe", LinkLocal),
        ("2002:7f00:0001::1", Loopback),
        ("2002:0a00:0001::", Private),
        ("::ffff:10.0.0.1", Private),
        ("::ffff:0.0.0.0", Unspecified),
    ] {
        assert_eq!(refusal(ip), Some(expected), "{ip}");
    }
    assert_eq!(refusal("::ffff:93.184.215.14"), None);
}

#[test]
fn ports_other_than_80_and_443_need_listing() {
    let policy = default_policy();
    assert!(policy.check_port(443).is_ok());
    assert!(policy.check_port(80).is_ok());
    for port in [22, 25, 8123, 9000, 9090, 3128, 6379] {
        assert_eq!(policy.check_port(port), Err(EgressRefusal::Port), "{port}");
    }
    let config: EgressConfig = toml::from_str("allow_ports = [8443, \"9000-9010\"]").unwrap();
    let policy = EgressPolicy::from_config(&config).unwrap();
    assert!(policy.check_port(8443).is_ok());
    assert!(policy.check_port(9005).is_ok());
    assert!(policy.check_port(9011).is_err());
}

#[test]
fn allow_lists_open_private_ranges_but_never_loopback_or_metadata() {
    let config: EgressConfig =
        toml::from_str("allow_networks = [\"10.20.0.0/16\"]\nallow_hosts = [\"*.corp.example\"]")
            .unwrap();
    let policy = EgressPolicy::from_config(&config).unwrap();
    let ip = |s: &str| s.parse().unwrap();
    assert!(policy.check_addr("wiki.test", ip("10.20.3.4")).is_ok());
    assert!(policy
        .check_addr("wiki.test", ip("::ffff:10.20.3.4"))
        .is_ok());
    assert_eq!(
        policy.check_addr("wiki.test", ip("10.21.0.1")),
        Err(EgressRefusal::Private)
    );
    assert!(policy
        .check_addr("git.corp.example", ip("192.168.7.7"))
        .is_ok());
    // A listed name that resolves to loopback or metadata is still refused.
    assert_eq!(
        policy.check_addr("git.corp.example", ip("127.0.0.1")),
        Err(EgressRefusal::Loopback)
    );
    assert_eq!(
        policy.check_addr("git.corp.example", ip("169.254.169.254")),
        Err(EgressRefusal::LinkLocal)
    );
}
