//! Keyed fingerprints of AI API keys: HMAC-SHA256 under a secret of this installation, so a
//! fingerprint names a key inside Warden and cannot be matched against outside lists (nor
//! turned back into the key by trying candidates without the secret).
//!
//! The secret lives in `<state>/ai-key-fingerprint.secret` (0600, 64 hex digits), created
//! once when absent; a file that exists but is not a secret is an error, never replaced,
//! since a new secret would change every fingerprint the inventory holds. The set of
//! org-managed fingerprints (the AI gateway's provider keys) holds fingerprints only.
//!
//! Never: log, return or keep a key's value or the secret.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use aws_lc_rs::hmac;

/// The secret's file in the state directory.
pub const SECRET_FILE: &str = "ai-key-fingerprint.secret";

/// Hex digits of a fingerprint kept (128 bits: no collisions among any organisation's keys).
const FINGERPRINT_HEX: usize = 32;

/// Why the fingerprint secret cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{path}: {why}")]
    Io { path: PathBuf, why: std::io::Error },
    #[error(
        "{path} is not a fingerprint secret (64 hex digits expected); restore it from a \
         backup, or delete it to start a new inventory (every key's fingerprint changes)"
    )]
    Corrupt { path: PathBuf },
    #[error("no randomness for the fingerprint secret")]
    Random,
}

/// Fingerprints keys under the installation's secret and knows the organisation's own.
pub struct KeyFingerprints {
    key: hmac::Key,
    org: ArcSwap<HashSet<String>>,
}

impl std::fmt::Debug for KeyFingerprints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyFingerprints")
            .field("org_keys", &self.org.load().len())
            .finish_non_exhaustive()
    }
}

impl KeyFingerprints {
    /// Loads the secret of `state_dir`, creating it (0600) when there is none.
    pub fn open(state_dir: &Path) -> Result<Self, SecretError> {
        let path = state_dir.join(SECRET_FILE);
        let secret = match std::fs::read_to_string(&path) {
            Ok(text) => parse(text.trim()).ok_or(SecretError::Corrupt { path })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut secret = [0u8; 32];
                aws_lc_rs::rand::fill(&mut secret).map_err(|_| SecretError::Random)?;
                let text = format!("{}\n", hex(&secret));
                state_files::write_atomic(&path, text.as_bytes(), true)
                    .map_err(|why| SecretError::Io { path, why })?;
                secret
            }
            Err(why) => return Err(SecretError::Io { path, why }),
        };
        Ok(Self::with_secret(&secret))
    }

    /// Fingerprints under `secret` (tests, and [`KeyFingerprints::open`]).
    pub fn with_secret(secret: &[u8; 32]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            org: ArcSwap::from_pointee(HashSet::new()),
        }
    }

    /// The fingerprint of `value`: 32 hex digits of its HMAC-SHA256.
    pub fn fingerprint(&self, value: &str) -> String {
        let tag = hmac::sign(&self.key, value.as_bytes());
        let mut text = hex(tag.as_ref());
        text.truncate(FINGERPRINT_HEX);
        text
    }

    /// Replaces the organisation's keys with `values` (the key store's, at start and on
    /// reload); only their fingerprints are kept.
    pub fn set_org_keys<'a>(&self, values: impl IntoIterator<Item = &'a str>) {
        let set: HashSet<String> = values.into_iter().map(|v| self.fingerprint(v)).collect();
        self.org.store(Arc::new(set));
    }

    /// Whether `fingerprint` is one of the organisation's keys.
    pub fn is_org(&self, fingerprint: &str) -> bool {
        self.org.load().contains(fingerprint)
    }
}

fn parse(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_secret_is_created_once_private_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = KeyFingerprints::open(dir.path()).unwrap();
        let path = dir.path().join(SECRET_FILE);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let again = KeyFingerprints::open(dir.path()).unwrap();
        let key = "sk-proj-abcdefghijklmnop";
        assert_eq!(first.fingerprint(key), again.fingerprint(key));
        assert_eq!(first.fingerprint(key).len(), 32);
        assert!(!first.fingerprint(key).contains("abcdefgh"));
    }

    #[test]
    fn a_corrupt_secret_is_an_error_and_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SECRET_FILE);
        std::fs::write(&path, "not hex").unwrap();
        let err = KeyFingerprints::open(dir.path()).unwrap_err();
        assert!(
            err.to_string().contains("not a fingerprint secret"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not hex");
    }

    #[test]
    fn other_installations_fingerprint_differently_and_org_keys_are_known() {
        let a = KeyFingerprints::with_secret(&[1; 32]);
        let b = KeyFingerprints::with_secret(&[2; 32]);
        let key = "sk-ant-api03-abcdefghijkl";
        assert_ne!(a.fingerprint(key), b.fingerprint(key));
        a.set_org_keys(["sk-ant-api03-abcdefghijkl"]);
        assert!(a.is_org(&a.fingerprint(key)));
        assert!(!a.is_org(&a.fingerprint("sk-ant-api03-someone-else")));
    }
}
