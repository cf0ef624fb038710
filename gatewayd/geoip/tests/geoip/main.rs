//! Integration tests for the `geoip` crate: one binary, one module per concern.
//!
//! Every database here is built by `geoip::testdb` and, in `writer`, checked against the
//! `maxminddb` reader on its own, so the writer is tested by the real reader.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod lookup;
mod reload;
mod robustness;
mod writer;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use geoip::testdb::TestDbBuilder;

/// The database most tests use: documentation ranges, plus a private range a broken
/// database might claim (the gateway must ignore it).
pub fn city_db() -> TestDbBuilder {
    TestDbBuilder::new()
        .network("203.0.113.0/24", "DE", "Berlin")
        .network("198.51.100.0/24", "FR", "Paris")
        .country_network("192.0.2.0/24", "US")
        .network("2001:db8::/32", "JP", "Tokyo")
        .network("2001:db8:1::/48", "JP", "Osaka")
        .network("10.0.0.0/8", "GB", "London")
}

/// Writes `builder` into a fresh temp dir; keep the dir alive as long as the file.
pub fn write_db(builder: &TestDbBuilder) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("GeoLite2-City.mmdb");
    builder.write(&path).unwrap();
    (dir, path)
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// `(country, city)` as plain strs, for short assertions.
pub fn place(db: &geoip::GeoIp, addr: &str) -> (Option<String>, Option<String>) {
    let loc = db.lookup(ip(addr));
    (loc.country, loc.city)
}

pub fn some(country: &str, city: &str) -> (Option<String>, Option<String>) {
    (Some(country.to_owned()), Some(city.to_owned()))
}

/// Deterministic xorshift64*: reproducible "random" inputs without a dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}
