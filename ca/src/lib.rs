//! Warden's certificate authority.
//!
//! This crate is the only gateway code that holds CA keys or mints certificates. It keeps a
//! root CA and an intermediate (both ECDSA P-256) in the state directory, and mints short-lived
//! leaf certificates for intercepted hosts, each with a fresh key signed by the intermediate.
//! A separate device CA signs the client certificates of enrolled device agents.
//!
//! It must never sign a leaf with a CA's own key pair, never log or print a private key, and
//! never write a key file readable by anyone but its owner.

mod authority;
mod device;
pub mod ed25519;
mod error;
mod files;
mod identity;
mod leaf;
mod leaf_cache;

pub use authority::{Authority, CaSummary, CertificateSummary};
pub use device::{
    device_certificate, DeviceAuthority, DeviceCertificate, IssuedDevice, MAX_CSR_BYTES,
};
pub use error::CaError;
pub use files::write_file_atomic;
pub use identity::ServerIdentity;
pub use leaf::LeafIssuer;
pub use leaf_cache::{LeafCache, DEFAULT_LEAF_CACHE_CAPACITY};
