//! A small MaxMind DB writer for tests (feature `testdb`).
//!
//! Builds GeoLite2-City-shaped databases over a handful of networks, so tests here and
//! in the end-to-end crate need no downloaded file and no external tool. It writes only
//! what the format needs (search tree, data section with pointers, metadata); it is not
//! meant for production databases and is never compiled into the daemon.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("city.mmdb");
//! geoip::testdb::TestDbBuilder::new()
//!     .network("203.0.113.0/24", "DE", "Berlin")
//!     .network("2001:db8::/32", "JP", "Tokyo")
//!     .write(&path)?;
//! let db = geoip::GeoIp::open(&path)?;
//! assert_eq!(db.lookup("203.0.113.7".parse()?).city.as_deref(), Some("Berlin"));
//! # Ok(())
//! # }
//! ```

mod encode;
mod record;
mod tree;

use std::collections::HashMap;
use std::fs;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use ipnet::IpNet;
use thiserror::Error;

use tree::Trie;

const METADATA_MARKER: &[u8] = b"\xab\xcd\xefMaxMind.com";

/// Why a test database could not be built or written.
#[derive(Debug, Error)]
pub enum TestDbError {
    #[error("`{network}` is not a network in CIDR notation: {source}")]
    BadNetwork {
        network: String,
        #[source]
        source: ipnet::AddrParseError,
    },
    #[error("`{0}` is an IPv6 network but the database is IPv4-only")]
    Ipv6InIpv4Database(String),
    #[error("record size {0} is not 24, 28 or 32")]
    RecordSize(u16),
    #[error("the database is too large for {0}-bit records")]
    TooLarge(u16),
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// One network's answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Place {
    country: String,
    city: Option<String>,
}

/// Collects networks, then writes them as a MaxMind DB.
#[derive(Debug, Clone)]
pub struct TestDbBuilder {
    networks: Vec<(String, Place)>,
    record_size: u16,
    ip_version: u16,
    database_type: String,
    build_epoch: u64,
}

impl Default for TestDbBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl TestDbBuilder {
    /// An empty IPv6 `GeoLite2-City` database with 28-bit records, built now.
    pub fn new() -> Self {
        let now = SystemTime::now().duration_since(UNIX_EPOCH);
        Self {
            networks: Vec::new(),
            record_size: 28,
            ip_version: 6,
            database_type: "GeoLite2-City".to_owned(),
            build_epoch: now.map(|d| d.as_secs()).unwrap_or_default(),
        }
    }

    /// Addresses in `cidr` (IPv4 or IPv6) are in `city`, country `iso_code`. A more
    /// specific network wins over a broader one, whatever the order they are added in.
    pub fn network(mut self, cidr: &str, iso_code: &str, city: &str) -> Self {
        let place = Place {
            country: iso_code.to_owned(),
            city: Some(city.to_owned()),
        };
        self.networks.push((cidr.to_owned(), place));
        self
    }

    /// Addresses in `cidr` are in country `iso_code`, city unknown.
    pub fn country_network(mut self, cidr: &str, iso_code: &str) -> Self {
        let place = Place {
            country: iso_code.to_owned(),
            city: None,
        };
        self.networks.push((cidr.to_owned(), place));
        self
    }

    /// Bits per search-tree record: 24, 28 (the default, as GeoLite2-City) or 32.
    pub fn record_size(mut self, bits: u16) -> Self {
        self.record_size = bits;
        self
    }

    /// Writes an IPv4-only tree (`ip_version` 4) instead of the usual IPv6 one.
    pub fn ipv4_only(mut self) -> Self {
        self.ip_version = 4;
        self
    }

    /// Sets the metadata's `build_epoch` (seconds since the Unix epoch).
    pub fn build_epoch(mut self, secs: u64) -> Self {
        self.build_epoch = secs;
        self
    }

    /// The database file's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, TestDbError> {
        if !matches!(self.record_size, 24 | 28 | 32) {
            return Err(TestDbError::RecordSize(self.record_size));
        }
        let mut networks = Vec::with_capacity(self.networks.len());
        for (cidr, place) in &self.networks {
            let net: IpNet = cidr.parse().map_err(|source| TestDbError::BadNetwork {
                network: cidr.clone(),
                source,
            })?;
            networks.push((self.tree_key(net.trunc(), cidr)?, place));
        }
        // Shortest prefixes first, so longer ones split them.
        networks.sort_by_key(|((_, len), _)| *len);

        let mut data = Vec::new();
        let mut countries = HashMap::new();
        let mut places = HashMap::new();
        let mut trie = Trie::new();
        for ((key, len), place) in networks {
            let offset = match places.get(place) {
                Some(&offset) => offset,
                None => {
                    let country_at = *countries.entry(place.country.clone()).or_insert_with(|| {
                        let at = data.len();
                        record::country(&place.country).encode(&mut data);
                        at
                    });
                    let at = data.len();
                    record::city_record(place.city.as_deref(), country_at).encode(&mut data);
                    places.insert(place.clone(), at);
                    at
                }
            };
            trie.insert(key, len, offset);
        }

        let too_large = || TestDbError::TooLarge(self.record_size);
        let mut out = trie.encode(self.record_size).ok_or_else(too_large)?;
        out.extend_from_slice(&[0; 16]);
        out.extend_from_slice(&data);
        out.extend_from_slice(METADATA_MARKER);
        let node_count = u32::try_from(trie.node_count()).map_err(|_| too_large())?;
        record::metadata(
            node_count,
            self.record_size,
            self.ip_version,
            &self.database_type,
            self.build_epoch,
        )
        .encode(&mut out);
        Ok(out)
    }

    /// Writes the database to `path`, replacing any file there in one rename (as
    /// `geoipupdate` does), so a watcher never sees half a file.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<(), TestDbError> {
        let path = path.as_ref();
        let bytes = self.to_bytes()?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let tmp = path.with_file_name(format!(".{}.tmp", name.unwrap_or_default()));
        let io = |source| TestDbError::Io {
            path: path.to_owned(),
            source,
        };
        fs::write(&tmp, bytes).map_err(io)?;
        fs::rename(&tmp, path).map_err(io)
    }

    /// The network's bits, left-aligned in 128 bits, and its length in tree levels.
    fn tree_key(&self, net: IpNet, cidr: &str) -> Result<(u128, u32), TestDbError> {
        let len = u32::from(net.prefix_len());
        match (net.network(), self.ip_version) {
            (IpAddr::V4(v4), 4) => Ok((u128::from(u32::from(v4)) << 96, len)),
            // IPv4 lives in the first /96 of an IPv6 tree (`::a.b.c.d`).
            (IpAddr::V4(v4), _) => Ok((u128::from(u32::from(v4)), 96 + len)),
            (IpAddr::V6(_), 4) => Err(TestDbError::Ipv6InIpv4Database(cidr.to_owned())),
            (IpAddr::V6(v6), _) => Ok((u128::from(v6), len)),
        }
    }
}
