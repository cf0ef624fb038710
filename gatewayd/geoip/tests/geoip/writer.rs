//! The test-database writer, judged by the real `maxminddb` reader alone (no `verify`).

use std::collections::BTreeSet;

use geoip::testdb::{TestDbBuilder, TestDbError};
use maxminddb::{geoip2, Reader};

use crate::{city_db, ip};

fn reader(builder: &TestDbBuilder) -> Reader<Vec<u8>> {
    Reader::from_source(builder.to_bytes().unwrap()).unwrap()
}

fn city_of(reader: &Reader<Vec<u8>>, addr: &str) -> Option<(String, Option<String>)> {
    let city: geoip2::City = reader.lookup(ip(addr)).unwrap()?;
    let iso = city.country.unwrap().iso_code.unwrap().to_owned();
    let name = city.city.and_then(|c| c.names).map(|n| n["en"].to_owned());
    Some((iso, name))
}

#[test]
fn real_reader_answers_from_written_databases_at_every_record_size() {
    for bits in [24, 28, 32] {
        let reader = reader(&city_db().record_size(bits));
        let berlin = Some(("DE".to_owned(), Some("Berlin".to_owned())));
        assert_eq!(city_of(&reader, "203.0.113.1"), berlin, "{bits}");
        assert_eq!(city_of(&reader, "203.0.113.255"), berlin, "{bits}");
        assert_eq!(city_of(&reader, "203.0.112.255"), None, "{bits}");
        assert_eq!(
            city_of(&reader, "2001:db8:ffff::1"),
            Some(("JP".into(), Some("Tokyo".into()))),
            "{bits}"
        );
        assert_eq!(
            city_of(&reader, "2001:db8:1::1"),
            Some(("JP".into(), Some("Osaka".into()))),
            "{bits}"
        );
        assert_eq!(city_of(&reader, "192.0.2.9"), Some(("US".into(), None)));
        assert_eq!(city_of(&reader, "8.8.8.8"), None);
        assert_eq!(city_of(&reader, "2a00::1"), None);
    }
}

#[test]
fn records_have_the_geolite2_city_shape() {
    let reader = reader(&city_db());
    let city: geoip2::City = reader.lookup(ip("203.0.113.7")).unwrap().unwrap();
    let country = city.country.unwrap();
    assert_eq!(country.iso_code, Some("DE"));
    assert_eq!(country.names.unwrap()["en"], "Germany");
    assert!(country.geoname_id.is_some());
    assert_eq!(city.registered_country.unwrap().iso_code, Some("DE"));
    let json = serde_json::to_value(
        reader
            .lookup::<serde_json::Value>(ip("203.0.113.7"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(json["city"]["names"]["en"], "Berlin");
    assert_eq!(json["country"]["names"]["en"], "Germany");
    assert_eq!(json["country"]["iso_code"], "DE");
}

#[test]
fn metadata_is_what_geolite2_city_declares() {
    let builder = city_db().build_epoch(1_700_000_000);
    let reader = reader(&builder);
    let meta = &reader.metadata;
    assert_eq!(meta.binary_format_major_version, 2);
    assert_eq!(meta.binary_format_minor_version, 0);
    assert_eq!(meta.build_epoch, 1_700_000_000);
    assert_eq!(meta.database_type, "GeoLite2-City");
    assert_eq!(meta.ip_version, 6);
    assert_eq!(meta.record_size, 28);
    assert_eq!(meta.languages, ["en"]);
    assert_eq!(meta.description["en"], "Warden test database");
    let tree_bytes = meta.node_count as usize * 28 / 4;
    let bytes = builder.to_bytes().unwrap();
    assert_eq!(bytes[tree_bytes..tree_bytes + 16], [0; 16], "separator");
}

#[test]
fn iterating_the_tree_yields_exactly_the_written_networks() {
    let reader = reader(&city_db());
    let all = "::/0".parse().unwrap();
    let found: BTreeSet<String> = reader
        .within::<geoip2::Country>(all)
        .unwrap()
        .map(|item| {
            let item = item.unwrap();
            format!(
                "{} {}",
                item.ip_net,
                item.info.country.unwrap().iso_code.unwrap()
            )
        })
        .collect();
    let expected: BTreeSet<String> = [
        "10.0.0.0/8 GB",
        "192.0.2.0/24 US",
        "198.51.100.0/24 FR",
        "203.0.113.0/24 DE",
        "2001:db8::/48 JP",
        "2001:db8:1::/48 JP",
        "2001:db8:2::/47 JP",
        "2001:db8:4::/46 JP",
        "2001:db8:8::/45 JP",
        "2001:db8:10::/44 JP",
        "2001:db8:20::/43 JP",
        "2001:db8:40::/42 JP",
        "2001:db8:80::/41 JP",
        "2001:db8:100::/40 JP",
        "2001:db8:200::/39 JP",
        "2001:db8:400::/38 JP",
        "2001:db8:800::/37 JP",
        "2001:db8:1000::/36 JP",
        "2001:db8:2000::/35 JP",
        "2001:db8:4000::/34 JP",
        "2001:db8:8000::/33 JP",
    ]
    .map(str::to_owned)
    .into();
    assert_eq!(found, expected);
}

#[test]
fn more_specific_network_wins_whatever_the_order() {
    for builder in [
        TestDbBuilder::new()
            .network("203.0.0.0/16", "US", "Denver")
            .network("203.0.113.0/24", "DE", "Berlin"),
        TestDbBuilder::new()
            .network("203.0.113.0/24", "DE", "Berlin")
            .network("203.0.0.0/16", "US", "Denver"),
    ] {
        let reader = reader(&builder);
        assert_eq!(city_of(&reader, "203.0.113.5").unwrap().0, "DE");
        assert_eq!(city_of(&reader, "203.0.114.5").unwrap().0, "US");
        assert_eq!(city_of(&reader, "203.0.0.1").unwrap().0, "US");
    }
}

#[test]
fn ipv4_only_trees_load_in_the_real_reader() {
    let reader = reader(&TestDbBuilder::new().ipv4_only().network(
        "203.0.113.0/24",
        "DE",
        "Berlin",
    ));
    assert_eq!(reader.metadata.ip_version, 4);
    assert_eq!(city_of(&reader, "203.0.113.5").unwrap().0, "DE");
    assert_eq!(city_of(&reader, "203.0.114.5"), None);
}

#[test]
fn host_bits_and_whole_space_networks_are_accepted() {
    let reader = reader(
        &TestDbBuilder::new()
            .network("::/0", "NL", "Amsterdam")
            .network("203.0.113.77/24", "DE", "Berlin"),
    );
    assert_eq!(city_of(&reader, "203.0.113.1").unwrap().0, "DE");
    assert_eq!(city_of(&reader, "2a00::1").unwrap().0, "NL");
    assert_eq!(city_of(&reader, "8.8.8.8").unwrap().0, "NL");
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let err = TestDbBuilder::new()
        .network("203.0.113.0/33", "DE", "Berlin")
        .to_bytes()
        .unwrap_err();
    assert!(matches!(err, TestDbError::BadNetwork { .. }), "{err}");
    assert!(err.to_string().contains("203.0.113.0/33"), "{err}");
    let err = TestDbBuilder::new()
        .ipv4_only()
        .network("2001:db8::/32", "JP", "Tokyo")
        .to_bytes()
        .unwrap_err();
    assert!(matches!(err, TestDbError::Ipv6InIpv4Database(_)), "{err}");
    let err = TestDbBuilder::new().record_size(20).to_bytes().unwrap_err();
    assert!(matches!(err, TestDbError::RecordSize(20)), "{err}");
    let err = TestDbBuilder::new()
        .write("/nonexistent-dir/x.mmdb")
        .unwrap_err();
    assert!(matches!(err, TestDbError::Io { .. }), "{err}");
}

#[test]
fn empty_database_loads_and_knows_nothing() {
    let reader = reader(&TestDbBuilder::new());
    assert_eq!(city_of(&reader, "203.0.113.1"), None);
    assert_eq!(city_of(&reader, "2001:db8::1"), None);
}
