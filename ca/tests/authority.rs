//! The CA as an administrator and a TLS client see it: files, modes, chains that verify.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::sync::Arc;

use ca::{Authority, LeafCache, LeafIssuer, ServerIdentity};
use rustls::client::danger::ServerCertVerifier;
use rustls_pki_types::{ServerName, UnixTime};

fn verifier_for(authority: &Authority) -> Arc<rustls::client::WebPkiServerVerifier> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(authority.root_der().clone()).unwrap();
    rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
    )
    .build()
    .unwrap()
}

#[test]
fn creates_once_then_loads_the_same_root() {
    let dir = tempfile::tempdir().unwrap();
    let (first, created) = Authority::load_or_create(dir.path()).unwrap();
    assert!(created);
    let (second, created_again) = Authority::load_or_create(dir.path()).unwrap();
    assert!(!created_again);
    assert_eq!(first.root_pem(), second.root_pem());
}

#[cfg(unix)]
#[test]
fn key_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    Authority::load_or_create(dir.path()).unwrap();
    for key in ["root.key.pem", "intermediate.key.pem"] {
        let mode = std::fs::metadata(dir.path().join(key))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{key}");
    }
    std::fs::set_permissions(
        dir.path().join("root.key.pem"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let err = Authority::load(dir.path()).err().unwrap().to_string();
    assert!(err.contains("chmod 600"), "{err}");
}

#[test]
fn incomplete_ca_is_reported_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    Authority::load_or_create(dir.path()).unwrap();
    std::fs::remove_file(dir.path().join("intermediate.key.pem")).unwrap();
    let err = Authority::load_or_create(dir.path())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("intermediate key is missing"), "{err}");
}

#[test]
fn minted_leaf_verifies_against_the_root_for_its_host_only() {
    let dir = tempfile::tempdir().unwrap();
    let (authority, _) = Authority::load_or_create(dir.path()).unwrap();
    let verifier = verifier_for(&authority);
    let issuer = LeafIssuer::new(authority);
    let host = ServerIdentity::parse("Chat.Example.COM.").unwrap();
    let (leaf, _) = issuer.mint(&host).unwrap();
    assert_eq!(leaf.cert.len(), 2, "leaf and intermediate");
    let now = UnixTime::now();
    verifier
        .verify_server_cert(
            &leaf.cert[0],
            &leaf.cert[1..],
            &ServerName::try_from("chat.example.com").unwrap(),
            &[],
            now,
        )
        .expect("leaf verifies for its host");
    assert!(verifier
        .verify_server_cert(
            &leaf.cert[0],
            &leaf.cert[1..],
            &ServerName::try_from("other.example.com").unwrap(),
            &[],
            now,
        )
        .is_err());

    let ip = ServerIdentity::parse("127.0.0.1").unwrap();
    let (leaf, _) = issuer.mint(&ip).unwrap();
    verifier
        .verify_server_cert(
            &leaf.cert[0],
            &leaf.cert[1..],
            &ServerName::try_from("127.0.0.1").unwrap(),
            &[],
            now,
        )
        .expect("IP leaf verifies");
}

#[test]
fn leaves_have_fresh_keys_random_serials_and_short_backdated_validity() {
    let dir = tempfile::tempdir().unwrap();
    let (authority, _) = Authority::load_or_create(dir.path()).unwrap();
    let issuer = LeafIssuer::new(authority);
    let host = ServerIdentity::parse("a.example").unwrap();
    let (a, _) = issuer.mint(&host).unwrap();
    let (b, _) = issuer.mint(&host).unwrap();
    let (_, ca) =
        x509_parser::parse_x509_certificate(issuer.authority().intermediate_der()).unwrap();
    let (_, ca_root) = x509_parser::parse_x509_certificate(issuer.authority().root_der()).unwrap();
    let (_, ca_cert) = x509_parser::parse_x509_certificate(&a.cert[0]).unwrap();
    let (_, cb_cert) = x509_parser::parse_x509_certificate(&b.cert[0]).unwrap();
    assert_ne!(
        ca_cert.public_key().raw,
        cb_cert.public_key().raw,
        "fresh key per leaf"
    );
    assert_ne!(
        ca_cert.public_key().raw,
        ca.public_key().raw,
        "never the CA key"
    );
    assert_ne!(
        ca_cert.public_key().raw,
        ca_root.public_key().raw,
        "never the root key"
    );
    assert_ne!(ca_cert.serial, cb_cert.serial, "random serials");
    let not_before = ca_cert.validity().not_before.timestamp();
    let not_after = ca_cert.validity().not_after.timestamp();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!((now - not_before - 3600).abs() < 120, "backdated an hour");
    let days = (not_after - now) as f64 / 86400.0;
    assert!((3.0..=7.0).contains(&days), "a few days, got {days}");
    assert_eq!(ca_cert.issuer(), ca.subject());
}

#[test]
fn cache_mints_each_host_once_under_concurrency() {
    let dir = tempfile::tempdir().unwrap();
    let (authority, _) = Authority::load_or_create(dir.path()).unwrap();
    let cache = Arc::new(LeafCache::new(LeafIssuer::new(authority), 2));
    let host = ServerIdentity::parse("busy.example").unwrap();
    let minted: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| cache.leaf_for(&host).unwrap().1 as usize))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(minted, 1);
    // Bounded: a third host evicts the least recently used one.
    cache
        .leaf_for(&ServerIdentity::parse("b.example").unwrap())
        .unwrap();
    cache
        .leaf_for(&ServerIdentity::parse("c.example").unwrap())
        .unwrap();
    assert_eq!(cache.len(), 2);
    assert!(
        cache.leaf_for(&host).unwrap().1,
        "evicted host is minted again"
    );
}
