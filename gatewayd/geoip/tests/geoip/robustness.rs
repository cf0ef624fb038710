//! Fuzz-style: random and mutated files must load or be rejected, never panic or hang.
//!
//! `GeoIp` guards the reader with `catch_unwind` as a last resort, which would hide a
//! gap in `verify`; a panic hook counts panics on this thread so such a gap fails here.

use std::cell::Cell;
use std::sync::Once;

use geoip::testdb::TestDbBuilder;
use geoip::GeoIp;

use crate::{city_db, ip, Rng};

thread_local! {
    static PANICS: Cell<u32> = const { Cell::new(0) };
}

fn count_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.with(|p| p.set(p.get() + 1));
            default(info);
        }));
    });
}

fn panics_so_far() -> u32 {
    PANICS.with(Cell::get)
}

/// Addresses in, around and outside every network the test databases hold.
const PROBES: &[&str] = &[
    "203.0.113.9",
    "198.51.100.1",
    "192.0.2.1",
    "8.8.8.8",
    "1.1.1.1",
    "255.255.255.254",
    "2001:db8::1",
    "2001:db8:1::1",
    "2a00::1",
    "ffff::1",
    "::ffff:203.0.113.9",
];

/// Loads `bytes`; when they load, looks up every probe. Returns whether they loaded.
fn exercise(bytes: Vec<u8>) -> bool {
    match GeoIp::from_bytes(bytes) {
        Ok(db) => {
            for probe in PROBES {
                let loc = db.lookup(ip(probe));
                // Whatever a mutated file says, answers stay small strings.
                assert!(loc.country.as_ref().is_none_or(|c| c.len() < 1 << 16));
            }
            true
        }
        Err(err) => {
            assert!(!err.to_string().is_empty());
            false
        }
    }
}

#[test]
fn random_bytes_from_a_file_never_panic() {
    count_panics();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("random.mmdb");
    let mut rng = Rng::new(0x5eed_0001);
    for round in 0..300 {
        let len = rng.below(4096);
        std::fs::write(&path, rng.bytes(len)).unwrap();
        assert!(GeoIp::open(&path).is_err(), "round {round}");
    }
    assert_eq!(panics_so_far(), 0);
}

#[test]
fn random_tree_and_data_under_valid_metadata_never_panic() {
    count_panics();
    let valid = city_db().record_size(24).to_bytes().unwrap();
    let marker = b"\xab\xcd\xefMaxMind.com";
    let meta_at = valid
        .windows(marker.len())
        .rposition(|w| w == marker)
        .unwrap();
    let mut rng = Rng::new(0x5eed_0002);
    for _ in 0..3000 {
        let len = rng.below(meta_at * 2);
        let mut bytes = rng.bytes(len);
        bytes.extend_from_slice(&valid[meta_at..]);
        exercise(bytes);
    }
    assert_eq!(panics_so_far(), 0);
}

#[test]
fn mutated_databases_load_or_fail_cleanly() {
    count_panics();
    let mut rng = Rng::new(0x5eed_0003);
    let (mut loaded, mut rejected) = (0, 0);
    for bits in [24, 28, 32] {
        let valid = city_db().record_size(bits).to_bytes().unwrap();
        for _ in 0..4000 {
            let mut bytes = valid.clone();
            match rng.below(4) {
                0 => {
                    let at = rng.below(bytes.len());
                    bytes[at] ^= 1 << rng.below(8);
                }
                1 => {
                    for _ in 0..=rng.below(8) {
                        let at = rng.below(bytes.len());
                        bytes[at] = rng.next_u64() as u8;
                    }
                }
                2 => {
                    let at = rng.below(bytes.len());
                    let hole = rng.below(16).min(bytes.len() - at);
                    bytes.drain(at..at + hole);
                }
                _ => {
                    let at = rng.below(bytes.len());
                    let n = rng.below(16);
                    let junk = rng.bytes(n);
                    bytes.splice(at..at, junk);
                }
            }
            if exercise(bytes) {
                loaded += 1;
            } else {
                rejected += 1;
            }
        }
    }
    assert_eq!(panics_so_far(), 0);
    // Both outcomes must be common, or the mutations are not reaching the checks.
    assert!(
        loaded > 1000 && rejected > 1000,
        "loaded {loaded}, rejected {rejected}"
    );
}

#[test]
fn empty_and_degenerate_databases_answer_nothing() {
    count_panics();
    let db = GeoIp::from_bytes(TestDbBuilder::new().to_bytes().unwrap()).unwrap();
    for probe in PROBES {
        assert!(db.lookup(ip(probe)).is_empty(), "{probe}");
    }
    assert_eq!(panics_so_far(), 0);
}
