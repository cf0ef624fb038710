//! `GeoIpHandle`: a changed file is picked up, a broken one never replaces a good one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use geoip::testdb::TestDbBuilder;
use geoip::{FormatError, GeoIpError, GeoIpHandle};

use crate::{ip, some, write_db};

fn berlin() -> TestDbBuilder {
    TestDbBuilder::new().network("203.0.113.0/24", "DE", "Berlin")
}

fn munich() -> TestDbBuilder {
    TestDbBuilder::new().network("203.0.113.0/24", "DE", "Munich")
}

fn city(handle: &GeoIpHandle) -> Option<String> {
    handle.lookup(ip("203.0.113.10")).city
}

#[test]
fn unchanged_file_is_not_reloaded() {
    let (_dir, path) = write_db(&berlin());
    let handle = GeoIpHandle::open(&path).unwrap();
    assert_eq!(handle.path(), path);
    assert!(!handle.refresh_if_changed().unwrap());
    assert!(!handle.refresh_if_changed().unwrap());
    assert_eq!(city(&handle).as_deref(), Some("Berlin"));
}

#[test]
fn replaced_file_is_swapped_in() {
    let (_dir, path) = write_db(&berlin());
    let handle = GeoIpHandle::open(&path).unwrap();
    let before = handle.current();
    munich().write(&path).unwrap(); // rename over the path, as geoipupdate does
    assert!(handle.refresh_if_changed().unwrap());
    assert_eq!(city(&handle).as_deref(), Some("Munich"));
    assert!(!handle.refresh_if_changed().unwrap());
    // Whoever still holds the old database keeps a working one.
    let loc = before.lookup(ip("203.0.113.10"));
    assert_eq!((loc.country, loc.city), some("DE", "Berlin"));
}

#[test]
fn file_rewritten_in_place_is_swapped_in() {
    let (_dir, path) = write_db(&berlin());
    let handle = GeoIpHandle::open(&path).unwrap();
    let hamburg = TestDbBuilder::new().network("203.0.113.0/24", "DE", "Hamburg");
    std::fs::write(&path, hamburg.to_bytes().unwrap()).unwrap();
    assert!(handle.refresh_if_changed().unwrap());
    assert_eq!(city(&handle).as_deref(), Some("Hamburg"));
}

#[test]
fn garbage_file_is_reported_and_the_old_database_keeps_answering() {
    let (_dir, path) = write_db(&berlin());
    let handle = GeoIpHandle::open(&path).unwrap();
    std::fs::write(&path, b"this is not a MaxMind DB").unwrap();
    let err = handle.refresh_if_changed().unwrap_err();
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
    assert_eq!(city(&handle).as_deref(), Some("Berlin"));
    // Reported once per change, not on every poll.
    assert!(!handle.refresh_if_changed().unwrap());
    assert_eq!(city(&handle).as_deref(), Some("Berlin"));
    // A good file afterwards is picked up.
    munich().write(&path).unwrap();
    assert!(handle.refresh_if_changed().unwrap());
    assert_eq!(city(&handle).as_deref(), Some("Munich"));
}

#[test]
fn corrupted_database_is_rejected_on_reload() {
    let (_dir, path) = write_db(&berlin());
    let handle = GeoIpHandle::open(&path).unwrap();
    let mut bytes = munich().record_size(24).to_bytes().unwrap();
    let len = bytes.len();
    bytes.truncate(len - 20); // half the metadata map is gone
    bytes.extend_from_slice(&[0xff; 4]);
    std::fs::write(&path, &bytes).unwrap();
    let err = handle.refresh_if_changed().unwrap_err();
    assert!(matches!(err, GeoIpError::Invalid { .. }), "{err}");
    assert_eq!(city(&handle).as_deref(), Some("Berlin"));
}

#[test]
fn deleted_file_keeps_the_old_database_until_it_returns() {
    let (_dir, path) = write_db(&berlin());
    let handle = GeoIpHandle::open(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let err = handle.refresh_if_changed().unwrap_err();
    assert!(matches!(err, GeoIpError::Io { .. }), "{err}");
    assert!(!handle.refresh_if_changed().unwrap());
    assert_eq!(city(&handle).as_deref(), Some("Berlin"));
    munich().write(&path).unwrap();
    assert!(handle.refresh_if_changed().unwrap());
    assert_eq!(city(&handle).as_deref(), Some("Munich"));
}

#[test]
fn first_open_of_a_bad_file_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("city.mmdb");
    assert!(matches!(
        GeoIpHandle::open(&path),
        Err(GeoIpError::Io { .. })
    ));
    std::fs::write(&path, [0_u8; 64]).unwrap();
    assert!(matches!(
        GeoIpHandle::open(&path),
        Err(GeoIpError::Invalid { .. })
    ));
}

#[test]
fn lookups_during_reloads_always_get_an_answer() {
    let (_dir, path) = write_db(&berlin());
    let handle = Arc::new(GeoIpHandle::open(&path).unwrap());
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (handle, done) = (Arc::clone(&handle), Arc::clone(&done));
            std::thread::spawn(move || {
                let mut seen = 0_u64;
                while !done.load(Ordering::Relaxed) || seen == 0 {
                    let city = city(&handle);
                    assert!(
                        matches!(city.as_deref(), Some("Berlin" | "Munich")),
                        "{city:?}"
                    );
                    seen += 1;
                }
                seen
            })
        })
        .collect();
    for round in 0..20 {
        let next = if round % 2 == 0 { munich() } else { berlin() };
        next.write(&path).unwrap();
        assert!(handle.refresh_if_changed().unwrap(), "round {round}");
    }
    done.store(true, Ordering::Relaxed);
    for reader in readers {
        assert!(reader.join().unwrap() > 0);
    }
}
