//! One loaded database and the lookup the log phase calls for every event.
//!
//! Loading reads the whole file into memory, checks it (`crate::verify`) and only then
//! hands it to `maxminddb`. A lookup never fails and never panics: whatever the
//! database cannot answer comes back as an empty [`Location`].

use std::fmt;
use std::fs::{self, File};
use std::io::Read;
use std::net::IpAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use serde::Deserialize;

use crate::address::locatable;
use crate::error::{FormatError, GeoIpError};
use crate::location::Location;
use crate::verify;

/// Largest database file the gateway loads (GeoLite2-City is about 60 MB).
pub const MAX_DATABASE_BYTES: u64 = 2 << 30;

/// A verified MaxMind DB, ready for lookups.
pub struct GeoIp {
    reader: maxminddb::Reader<Vec<u8>>,
    ipv4_only: bool,
}

impl GeoIp {
    /// Loads and verifies the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, GeoIpError> {
        load(path.as_ref()).map(|(db, _)| db)
    }

    /// Verifies and loads a database already in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, FormatError> {
        let layout = verify::check(&bytes)?;
        // `verify::check` makes a panic here unreachable; this keeps a reader bug from
        // taking the daemon down with it.
        let reader = catch_unwind(AssertUnwindSafe(|| maxminddb::Reader::from_source(bytes)))
            .map_err(|_| FormatError::ReaderPanicked)??;
        Ok(Self {
            reader,
            ipv4_only: layout.ip_version == 4,
        })
    }

    /// Where `ip` is. Empty for private, loopback and unknown addresses.
    pub fn lookup(&self, ip: IpAddr) -> Location {
        let Some(ip) = locatable(ip) else {
            return Location::default();
        };
        if self.ipv4_only && ip.is_ipv6() {
            return Location::default();
        }
        // As in `from_bytes`: unreachable after verification, but never worth a crash.
        catch_unwind(|| match self.reader.lookup::<CityRecord<'_>>(ip) {
            Ok(Some(record)) => record.into_location(),
            Ok(None) | Err(_) => Location::default(),
        })
        .unwrap_or_default()
    }

    /// The database's `database_type`, for example `GeoLite2-City`.
    pub fn database_type(&self) -> &str {
        &self.reader.metadata.database_type
    }

    /// When the database was built, in seconds since the Unix epoch.
    pub fn build_epoch(&self) -> u64 {
        self.reader.metadata.build_epoch
    }
}

impl fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeoIp")
            .field("database_type", &self.database_type())
            .field("build_epoch", &self.build_epoch())
            .field("node_count", &self.reader.metadata.node_count)
            .finish_non_exhaustive()
    }
}

/// Reads and verifies the file at `path`; also returns the metadata of the very file
/// read, so a reload can tell later whether the path still names it.
pub(crate) fn load(path: &Path) -> Result<(GeoIp, fs::Metadata), GeoIpError> {
    let io = |source| GeoIpError::Io {
        path: path.to_owned(),
        source,
    };
    let too_large = |size| GeoIpError::TooLarge {
        path: path.to_owned(),
        size,
        limit: MAX_DATABASE_BYTES,
    };
    let file = File::open(path).map_err(io)?;
    let stat = file.metadata().map_err(io)?;
    if stat.len() > MAX_DATABASE_BYTES {
        return Err(too_large(stat.len()));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(stat.len()).unwrap_or(0));
    // The file may grow while it is read; never read more than the limit allows.
    file.take(MAX_DATABASE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    let read = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if read > MAX_DATABASE_BYTES {
        return Err(too_large(read));
    }
    let db = GeoIp::from_bytes(bytes).map_err(|source| GeoIpError::Invalid {
        path: path.to_owned(),
        source,
    })?;
    Ok((db, stat))
}

/// The parts of a GeoIP2/GeoLite2 City record an event needs, borrowed from the file.
#[derive(Deserialize)]
struct CityRecord<'a> {
    #[serde(borrow)]
    country: Option<Country<'a>>,
    /// Where the block is registered; stands in when `country` is absent (anycast and
    /// satellite ranges).
    #[serde(borrow)]
    registered_country: Option<Country<'a>>,
    #[serde(borrow)]
    city: Option<City<'a>>,
}

#[derive(Deserialize)]
struct Country<'a> {
    iso_code: Option<&'a str>,
}

#[derive(Deserialize)]
struct City<'a> {
    #[serde(borrow)]
    names: Option<Names<'a>>,
}

#[derive(Deserialize)]
struct Names<'a> {
    en: Option<&'a str>,
}

impl<'a> CityRecord<'a> {
    fn into_location(self) -> Location {
        let iso = |c: Option<Country<'a>>| c.and_then(|c| c.iso_code);
        let country = iso(self.country).or_else(|| iso(self.registered_country));
        let city = self.city.and_then(|c| c.names).and_then(|n| n.en);
        Location {
            country: country.map(str::to_owned),
            city: city.map(str::to_owned),
        }
    }
}
