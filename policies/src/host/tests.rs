//! Hostile host names in, normal form (or a clear refusal) out.

use super::*;

fn norm(s: &str) -> Result<(String, bool), HostError> {
    normalize_host(s).map(|h| (h.name.into_owned(), h.is_ip))
}

#[test]
fn normal_hosts_are_borrowed() {
    let h = normalize_host("chatgpt.com").unwrap();
    assert!(matches!(h.name, Cow::Borrowed("chatgpt.com")));
    assert!(!h.is_ip);
}

#[test]
fn case_and_one_trailing_dot_are_normalised() {
    assert_eq!(norm("ChatGPT.COM.").unwrap(), ("chatgpt.com".into(), false));
    assert_eq!(
        norm("chatgpt.com..").unwrap_err(),
        HostError::BadLabel,
        "only one dot is stripped"
    );
}

#[test]
fn idns_become_punycode() {
    assert_eq!(norm("bücher.de").unwrap().0, "xn--bcher-kva.de");
    assert_eq!(norm("BÜCHER.de.").unwrap().0, "xn--bcher-kva.de");
    assert_eq!(norm("xn--bcher-kva.de").unwrap().0, "xn--bcher-kva.de");
    // A full-width dot is a label separator under IDNA mapping.
    assert_eq!(norm("bücher。de").unwrap().0, "xn--bcher-kva.de");
}

#[test]
fn ip_literals_are_flagged() {
    assert_eq!(norm("10.0.0.1").unwrap(), ("10.0.0.1".into(), true));
    assert_eq!(norm("[::1]").unwrap(), ("[::1]".into(), true));
    assert_eq!(
        norm("[2001:DB8::1]").unwrap(),
        ("[2001:db8::1]".into(), true)
    );
    assert_eq!(norm("::1").unwrap(), ("[::1]".into(), true));
    // Forms that browsers read as IPv4.
    assert!(norm("2130706433").unwrap().1);
    assert!(norm("127.1").unwrap().1);
    assert!(norm("0x7f.0.0.1").unwrap().1);
    assert!(!norm("1password.com").unwrap().1);
}

#[test]
fn ports_and_junk_are_refused() {
    assert_eq!(
        norm("example.com:443").unwrap_err(),
        HostError::BadIpLiteral
    );
    assert_eq!(norm("[::1]:443").unwrap_err(), HostError::BadIpLiteral);
    assert_eq!(norm("").unwrap_err(), HostError::Empty);
    assert_eq!(norm(".").unwrap_err(), HostError::Empty);
    assert_eq!(norm(".example.com").unwrap_err(), HostError::BadLabel);
    assert_eq!(norm("a b.com").unwrap_err(), HostError::BadChar(' '));
    assert_eq!(norm("a/b.com").unwrap_err(), HostError::BadChar('/'));
    assert_eq!(
        norm("evil.com\0.chatgpt.com").unwrap_err(),
        HostError::BadChar('\0')
    );
    assert_eq!(norm("a%2eb.com").unwrap_err(), HostError::BadChar('%'));
}

#[test]
fn very_long_names_are_bounded() {
    let label = "a".repeat(63);
    let ok = [label.as_str(); 3].join(".");
    assert!(norm(&ok).is_ok());
    assert_eq!(norm(&"a".repeat(64)).unwrap_err(), HostError::BadLabel);
    let long = vec!["abc"; 100].join(".");
    assert_eq!(norm(&long).unwrap_err(), HostError::TooLong);
    let huge = "é".repeat(1 << 20);
    assert!(norm(&huge).is_err());
}

#[test]
fn hasher_spreads_similar_keys() {
    use std::hash::BuildHasher;
    let build = HostHash::default();
    let a = build.hash_one("a.example.com");
    let b = build.hash_one("b.example.com");
    assert_ne!(a, b);
    assert_ne!(
        a >> 57,
        b >> 57,
        "top bits differ for keys that differ early"
    );
}

#[test]
fn the_lending_form_agrees_with_normalize_host() {
    let long = vec!["ab"; 120].join(".");
    let hosts = [
        "chatgpt.com",
        "ChatGPT.com.",
        "bücher.de",
        "[::1]",
        "::1",
        "10.0.0.1",
        "2130706433",
        "",
        ".",
        "a..b",
        "a b",
        "example.com:443",
        &long,
        "A.B.C.D.E.F.example.COM",
    ];
    for host in hosts {
        let lent = with_normal_host(host, |h| (h.name.to_owned(), h.is_ip, h.labels));
        let owned = normalize_host(host).map(|h| (h.name.into_owned(), h.is_ip, h.labels));
        assert_eq!(lent, owned, "{host:?}");
    }
}
