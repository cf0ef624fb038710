//! GeoIP enrichment: where a client address is, for every event the gateway logs.
//!
//! [`GeoIp`] reads a MaxMind DB file (GeoLite2-City in production) and answers
//! [`GeoIp::lookup`] with a [`Location`] (ISO country code and English city name).
//! [`GeoIpHandle`] holds the current database behind an atomic pointer and swaps in a
//! new one when the file changes, keeping the last good database when the new file is bad.
//!
//! Every file is checked in full before the reader sees it (the `verify` module), as the
//! MaxMind reader indexes without bounds checks: a corrupt database must be a clear
//! error at load time, never a panic or an unbounded loop on the request path.
//! Lookups never fail: anything the database cannot answer is an empty [`Location`].
//!
//! With the `testdb` feature, `testdb::TestDbBuilder` writes small databases in the
//! GeoLite2-City shape so tests need no downloaded file.

mod address;
mod error;
mod handle;
mod location;
mod reader;
mod verify;

#[cfg(feature = "testdb")]
pub mod testdb;

pub use address::locatable;
pub use error::{DecodeError, DecodeFault, FormatError, GeoIpError};
pub use handle::GeoIpHandle;
pub use location::Location;
pub use reader::{GeoIp, MAX_DATABASE_BYTES};
