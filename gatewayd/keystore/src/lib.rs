//! `keystore`: the AI providers' keys an organisation holds centrally, encrypted at rest and
//! used by name. Each value is sealed (AES-256-GCM, aws-lc-rs) by a data key of its own, and
//! each data key by the master key, which lives outside the state directory (environment,
//! file or systemd credential: [`MasterKeySource`]). Nobody reads a value back: operators
//! list names, providers and fingerprints; the AI gateway asks for a value by name at the
//! moment it calls the provider ([`KeyStore::secret`]).
//!
//! What this crate must never do: put a value (or the master key) in an error, a log line,
//! a `Debug` output or the store file in clear.

mod master;
mod sealed;
mod secret;
mod store;

use std::path::PathBuf;

pub use master::{MasterKey, MasterKeySource};
pub use secret::Secret;
pub use store::{valid_name, KeyInfo, KeyStore, MAX_SECRET_BYTES, PROVIDERS, STORE_FILE};

/// Why a key store operation failed. No variant carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    #[error("master key: {0}")]
    MasterKey(String),
    #[error(
        "{path}: the master key given ({given}) is not the one that wrapped these keys ({expected})"
    )]
    WrongMasterKey {
        path: PathBuf,
        expected: String,
        given: String,
    },
    #[error("{path}: {why}")]
    File { path: PathBuf, why: String },
    #[error("no provider key named {0:?}")]
    NoSuchKey(String),
    #[error("a provider key named {0:?} exists (rotate it instead)")]
    Exists(String),
    #[error("{0}")]
    Input(String),
    #[error("encryption: {0}")]
    Crypto(&'static str),
}

#[cfg(test)]
mod tests;
