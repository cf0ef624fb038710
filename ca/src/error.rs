//! Errors of the CA crate: each says which file or which step failed.

use std::path::PathBuf;

/// What went wrong while loading, creating or using the certificate authority.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// A file of the CA could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A CA file exists but does not hold what it should.
    #[error("{path}: {reason}")]
    BadFile { path: PathBuf, reason: String },
    /// The CA directory holds some of the CA files but not all of them.
    #[error("{dir}: incomplete CA ({missing} is missing); restore it or remove the directory to create a new CA")]
    Incomplete { dir: PathBuf, missing: &'static str },
    /// Certificate generation or signing failed.
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the minted key or certificate.
    #[error("TLS key could not be loaded: {0}")]
    Tls(#[from] rustls::Error),
    /// A host name cannot be put into a certificate.
    #[error("cannot mint a certificate for {host:?}: {reason}")]
    BadHost { host: String, reason: &'static str },
}
