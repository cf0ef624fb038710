//! Records and metadata shaped like GeoLite2-City's, so tests exercise the real layout.
//!
//! Test support only: names are English only and geoname ids are stable hashes, not
//! GeoNames' real ids.

use super::encode::Value;

/// English names for the country codes tests tend to use; others are named by their code.
const COUNTRY_NAMES: &[(&str, &str)] = &[
    ("AU", "Australia"),
    ("BR", "Brazil"),
    ("CA", "Canada"),
    ("DE", "Germany"),
    ("FR", "France"),
    ("GB", "United Kingdom"),
    ("IN", "India"),
    ("JP", "Japan"),
    ("NL", "Netherlands"),
    ("US", "United States"),
];

/// `{"geoname_id": .., "iso_code": "DE", "names": {"en": "Germany"}}`
pub(crate) fn country(iso_code: &str) -> Value {
    let name = COUNTRY_NAMES
        .iter()
        .find(|(code, _)| *code == iso_code)
        .map_or(iso_code, |(_, name)| name);
    Value::map([
        ("geoname_id", Value::U32(geoname_id(iso_code))),
        ("iso_code", Value::str(iso_code)),
        ("names", Value::map([("en", Value::str(name))])),
    ])
}

/// A City record; `country_at` is where the country map was written.
pub(crate) fn city_record(city: Option<&str>, country_at: usize) -> Value {
    let mut entries = Vec::new();
    if let Some(city) = city {
        entries.push((
            "city".to_owned(),
            Value::map([
                ("geoname_id", Value::U32(geoname_id(city))),
                ("names", Value::map([("en", Value::str(city))])),
            ]),
        ));
    }
    // GeoLite2 shares one country map between many records through pointers.
    entries.push(("country".to_owned(), Value::Pointer(country_at)));
    entries.push(("registered_country".to_owned(), Value::Pointer(country_at)));
    Value::Map(entries)
}

/// The metadata map every MaxMind DB ends with.
pub(crate) fn metadata(
    node_count: u32,
    record_size: u16,
    ip_version: u16,
    database_type: &str,
    build_epoch: u64,
) -> Value {
    Value::map([
        ("binary_format_major_version", Value::U16(2)),
        ("binary_format_minor_version", Value::U16(0)),
        ("build_epoch", Value::U64(build_epoch)),
        ("database_type", Value::str(database_type)),
        (
            "description",
            Value::map([("en", Value::str("Warden test database"))]),
        ),
        ("ip_version", Value::U16(ip_version)),
        ("languages", Value::Array(vec![Value::str("en")])),
        ("node_count", Value::U32(node_count)),
        ("record_size", Value::U16(record_size)),
    ])
}

/// FNV-1a: stable across runs, so the same name always gets the same id.
fn geoname_id(name: &str) -> u32 {
    name.bytes().fold(0x811c_9dc5_u32, |hash, b| {
        (hash ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}
