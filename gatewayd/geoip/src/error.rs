//! Errors: why a database could not be loaded, down to the byte offset that is wrong.
//!
//! All of these are the operator's (or the download's) fault, never the client's: the
//! caller logs them and keeps the last good database. Lookups have no error type at all.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

/// Why a database file could not be loaded. Retrying helps only once the file changes.
#[derive(Debug, Error)]
pub enum GeoIpError {
    /// The file could not be opened, inspected or read.
    #[error("cannot read GeoIP database {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The file is larger than any database this gateway will load.
    #[error("GeoIP database {} is {size} bytes, over the {limit}-byte limit", path.display())]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    /// The file is not a well-formed MaxMind DB.
    #[error("GeoIP database {} is not a valid MaxMind DB: {source}", path.display())]
    Invalid {
        path: PathBuf,
        #[source]
        source: FormatError,
    },
}

/// What is wrong with the bytes of a MaxMind DB.
#[derive(Debug, Error)]
pub enum FormatError {
    #[error("no metadata section (the \\xab\\xcd\\xefMaxMind.com marker is missing)")]
    NoMetadata,
    #[error("metadata section: {0}")]
    Metadata(DecodeError),
    #[error("metadata has no usable `{0}`")]
    MissingMetadataField(&'static str),
    #[error("unsupported record size {0} (expected 24, 28 or 32)")]
    UnsupportedRecordSize(u64),
    #[error("unsupported ip_version {0} (expected 4 or 6)")]
    UnsupportedIpVersion(u64),
    #[error("search tree of {node_count} nodes needs {needed} bytes but only {available} precede the metadata")]
    TreeTooLarge {
        node_count: u64,
        needed: u64,
        available: u64,
    },
    #[error("search tree node {node}: record value {value} {reason}")]
    BadRecord {
        node: usize,
        value: usize,
        reason: &'static str,
    },
    #[error("data section: {0}")]
    Data(DecodeError),
    #[error("rejected by the MaxMind reader: {0}")]
    Reader(#[from] maxminddb::MaxMindDbError),
    #[error("the MaxMind reader failed on this file")]
    ReaderPanicked,
}

/// A value in the data or metadata section that cannot be decoded safely.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("at offset {offset}: {fault}")]
pub struct DecodeError {
    /// Offset from the start of the section.
    pub offset: usize,
    pub fault: DecodeFault,
}

/// The kinds of malformed value [`DecodeError`] reports.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeFault {
    #[error("value runs past the end of the section")]
    Truncated,
    #[error("unknown or unsupported type {0}")]
    UnknownType(u8),
    #[error("{ty} of invalid size {size}")]
    BadSize { ty: &'static str, size: usize },
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    #[error("pointer to {0} is outside the section")]
    PointerOutOfRange(usize),
    #[error("pointer points to another pointer")]
    PointerToPointer,
    #[error("unsupported pointer encoding")]
    PointerEncoding,
    #[error("map key is not a string")]
    NonStringKey,
    #[error("values nested deeper than {0} levels")]
    TooDeep(u32),
    #[error("record expands to more than {0} values")]
    TooLarge(u64),
}

impl DecodeFault {
    pub(crate) fn at(self, offset: usize) -> DecodeError {
        DecodeError {
            offset,
            fault: self,
        }
    }
}
