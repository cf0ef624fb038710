//! `GeoIp`: lookups a user would see in event rows, and clear errors for bad files.

use geoip::testdb::TestDbBuilder;
use geoip::{FormatError, GeoIp, GeoIpError, Location};

use crate::{city_db, ip, place, read, some, write_db};

fn db() -> GeoIp {
    GeoIp::from_bytes(city_db().to_bytes().unwrap()).unwrap()
}

#[test]
fn ipv4_and_ipv6_addresses_get_country_and_city() {
    let (_dir, path) = write_db(&city_db());
    let db = GeoIp::open(&path).unwrap();
    assert_eq!(place(&db, "203.0.113.9"), some("DE", "Berlin"));
    assert_eq!(place(&db, "198.51.100.200"), some("FR", "Paris"));
    assert_eq!(place(&db, "2001:db8:abcd::1"), some("JP", "Tokyo"));
    assert_eq!(place(&db, "2001:db8:1:2::3"), some("JP", "Osaka"));
    assert_eq!(
        db.lookup(ip("203.0.113.9")),
        Location {
            country: Some("DE".into()),
            city: Some("Berlin".into())
        }
    );
}

#[test]
fn ipv4_mapped_ipv6_is_looked_up_as_ipv4() {
    let db = db();
    assert_eq!(place(&db, "::ffff:203.0.113.9"), some("DE", "Berlin"));
    assert_eq!(place(&db, "::ffff:198.51.100.1"), some("FR", "Paris"));
}

#[test]
fn private_and_loopback_addresses_are_empty_even_if_the_database_claims_them() {
    let db = db();
    // The database maps 10.0.0.0/8 to London; internal traffic must not be labelled.
    for addr in [
        "10.1.2.3",
        "::ffff:10.1.2.3",
        "127.0.0.1",
        "192.168.0.10",
        "172.16.5.5",
        "169.254.0.1",
        "::1",
        "fd12:3456::1",
        "fe80::1",
        "::",
    ] {
        assert!(db.lookup(ip(addr)).is_empty(), "{addr}");
    }
}

#[test]
fn unknown_addresses_are_empty() {
    let db = db();
    for addr in ["8.8.8.8", "203.0.112.255", "2a00:1450::1", "2001:db9::1"] {
        assert_eq!(db.lookup(ip(addr)), Location::default(), "{addr}");
    }
}

#[test]
fn country_without_city_gives_country_only() {
    assert_eq!(place(&db(), "192.0.2.44"), (Some("US".into()), None));
}

#[test]
fn ipv4_only_database_answers_ipv4_and_ignores_ipv6() {
    let bytes = TestDbBuilder::new()
        .ipv4_only()
        .network("203.0.113.0/24", "DE", "Berlin")
        .record_size(24)
        .to_bytes()
        .unwrap();
    let db = GeoIp::from_bytes(bytes).unwrap();
    assert_eq!(place(&db, "203.0.113.1"), some("DE", "Berlin"));
    assert_eq!(place(&db, "::ffff:203.0.113.1"), some("DE", "Berlin"));
    assert!(db.lookup(ip("2001:db8::1")).is_empty());
}

#[test]
fn location_serialises_for_the_event_row() {
    let loc = db().lookup(ip("203.0.113.9"));
    assert_eq!(
        serde_json::to_string(&loc).unwrap(),
        r#"{"country":"DE","city":"Berlin"}"#
    );
}

#[test]
fn database_metadata_is_reported() {
    let db = GeoIp::from_bytes(city_db().build_epoch(1_700_000_000).to_bytes().unwrap()).unwrap();
    assert_eq!(db.database_type(), "GeoLite2-City");
    assert_eq!(db.build_epoch(), 1_700_000_000);
    let debug = format!("{db:?}");
    assert!(
        debug.contains("GeoLite2-City") && debug.len() < 200,
        "{debug}"
    );
}

#[test]
fn missing_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.mmdb");
    let err = GeoIp::open(&path).unwrap_err();
    assert!(matches!(err, GeoIpError::Io { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("cannot read GeoIP database") && msg.contains("nope.mmdb"),
        "{msg}"
    );
}

#[test]
fn non_database_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("city.mmdb");
    std::fs::write(&path, b"<html>404 Not Found</html>").unwrap();
    let err = GeoIp::open(&path).unwrap_err();
    assert!(
        matches!(
            err,
            GeoIpError::Invalid {
                source: FormatError::NoMetadata,
                ..
            }
        ),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("city.mmdb") && msg.contains("not a valid MaxMind DB"),
        "{msg}"
    );
    assert!(msg.contains("marker is missing"), "{msg}");
}

#[test]
fn truncated_database_is_rejected() {
    let (_dir, path) = write_db(&city_db());
    let bytes = read(&path);
    // Cut the start off: records now point at the wrong places.
    std::fs::write(&path, &bytes[40..]).unwrap();
    let err = GeoIp::open(&path).unwrap_err();
    assert!(matches!(err, GeoIpError::Invalid { .. }), "{err}");
    // Keep only the tail: the tree the metadata declares no longer fits.
    std::fs::write(&path, &bytes[bytes.len() - 300..]).unwrap();
    let err = GeoIp::open(&path).unwrap_err();
    assert!(
        matches!(
            err,
            GeoIpError::Invalid {
                source: FormatError::TreeTooLarge { .. },
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("search tree of"), "{err}");
    // Cut the end off: the metadata marker is gone.
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = GeoIp::open(&path).unwrap_err();
    assert!(
        matches!(
            err,
            GeoIpError::Invalid {
                source: FormatError::NoMetadata,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn record_pointing_past_the_data_section_is_rejected() {
    let mut bytes = TestDbBuilder::new()
        .record_size(24)
        .network("::/0", "DE", "Berlin")
        .to_bytes()
        .unwrap();
    // One node (6 bytes): both records point at data; aim the left one far away.
    bytes[..3].copy_from_slice(&[0xff, 0xff, 0xff]);
    let err = GeoIp::from_bytes(bytes).unwrap_err();
    assert!(
        matches!(err, FormatError::BadRecord { node: 0, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("past the end of the data section"),
        "{err}"
    );
}

#[test]
fn pointer_cycle_is_rejected_before_the_reader_recurses_forever() {
    let mut bytes = TestDbBuilder::new()
        .record_size(24)
        .network("::/0", "DE", "Berlin")
        .to_bytes()
        .unwrap();
    // Data starts after the 6-byte node and 16-byte separator with the country map the
    // record points to. Make it an array holding a pointer to itself: `maxminddb` alone
    // would overflow its stack (an abort) on the first lookup.
    bytes[22..26].copy_from_slice(&[0x01, 0x04, 0x20, 0x00]);
    let err = GeoIp::from_bytes(bytes).unwrap_err();
    assert!(
        matches!(err, FormatError::Data(ref e) if matches!(e.fault, geoip::DecodeFault::TooDeep(_))),
        "{err}"
    );
}
