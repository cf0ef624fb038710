//! Writing files in the state directory: whole or not at all (temporary file, fsync, rename),
//! and private (0600) when they hold secrets or their hashes; bearer secrets minted and their
//! digests compared in constant time; and the lock ([`StateLock`]) around read-modify-write of the files the
//! daemon and the CLI both change. Shared by the proxy, the admin plane, the devices and the
//! daemon, so it depends on nothing of theirs (only `ca`, for the atomic write).

mod lock;
pub mod modes;

pub use lock::StateLock;

/// Replaces `path` with `bytes` atomically; `private` files are created 0600.
pub use ca::write_file_atomic as write_atomic;

/// Lowercase hex SHA-256 of a secret (tokens are stored and compared only in this form).
pub fn sha256_hex(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new bearer secret: `prefix` and 32 random bytes, URL-safe base64. Shown once to whoever
/// asked for it; only its [`sha256_hex`] is kept.
pub fn new_secret(prefix: &str) -> String {
    use base64::Engine;
    let secret: [u8; 32] = rand::random();
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    )
}

/// A new short public handle for a stored secret (12 hex digits): what lists, audit records
/// and revocations name instead of the secret.
pub fn new_public_id() -> String {
    rand::random::<[u8; 6]>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Equality whose time does not depend on where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn writes_whole_files_and_keeps_private_ones_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.json");
        write_atomic(&path, b"one", true).unwrap();
        write_atomic(&path, b"two", true).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert!(constant_time_eq(
            sha256_hex("a").as_bytes(),
            sha256_hex("a").as_bytes()
        ));
        assert!(!constant_time_eq(b"a", b"ab"));
    }
}
