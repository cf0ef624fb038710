//! The master key: 32 random bytes that wrap every secret's data key. It never lives in the
//! state directory beside what it protects; it comes from an environment variable, a file
//! (0600 or 0400, owned by the daemon's user) or a systemd credential, as base64 or hex.
//!
//! The key is zeroed when dropped and never printed: its [`MasterKey::id`] (a digest prefix)
//! names it in files and messages.

use std::path::{Path, PathBuf};

use base64::Engine;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::KeyStoreError;

/// Where the master key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterKeySource {
    /// An environment variable holding the key.
    Env(String),
    /// A file holding the key (not group- or world-readable).
    File(PathBuf),
    /// A systemd credential of this name (`$CREDENTIALS_DIRECTORY/NAME`).
    SystemdCredential(String),
}

impl MasterKeySource {
    /// `env:NAME`, `file:PATH` or `systemd:NAME`.
    pub fn parse(text: &str) -> Result<Self, KeyStoreError> {
        let bad = || {
            KeyStoreError::MasterKey(format!(
                "master key source {text:?}: expected env:NAME, file:PATH or systemd:NAME"
            ))
        };
        let (kind, rest) = text.split_once(':').ok_or_else(bad)?;
        if rest.is_empty() {
            return Err(bad());
        }
        match kind {
            // A credential is a name inside CREDENTIALS_DIRECTORY, never a path out of it.
            "systemd" if rest.contains('/') || rest == "." || rest == ".." => Err(bad()),
            "env" => Ok(Self::Env(rest.to_string())),
            "file" => Ok(Self::File(PathBuf::from(rest))),
            "systemd" => Ok(Self::SystemdCredential(rest.to_string())),
            _ => Err(bad()),
        }
    }
}

impl std::fmt::Display for MasterKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Env(name) => write!(f, "env:{name}"),
            Self::File(path) => write!(f, "file:{}", path.display()),
            Self::SystemdCredential(name) => write!(f, "systemd:{name}"),
        }
    }
}

/// The master key itself.
pub struct MasterKey {
    bytes: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id())
    }
}

/// The largest master key file read (a key is 44 characters of base64).
const MAX_KEY_TEXT: u64 = 4096;

impl MasterKey {
    /// Reads the key from `source`.
    pub fn load(source: &MasterKeySource) -> Result<Self, KeyStoreError> {
        let text = match source {
            MasterKeySource::Env(name) => Zeroizing::new(std::env::var(name).map_err(|_| {
                KeyStoreError::MasterKey(format!(
                    "environment variable {name} is not set (make a key with `gatewayd keys master-key`)"
                ))
            })?),
            MasterKeySource::File(path) => read_private(path)?,
            MasterKeySource::SystemdCredential(name) => {
                let dir = std::env::var_os("CREDENTIALS_DIRECTORY").ok_or_else(|| {
                    KeyStoreError::MasterKey(format!(
                        "systemd credential {name}: CREDENTIALS_DIRECTORY is not set (LoadCredential= in the unit)"
                    ))
                })?;
                read_private(&Path::new(&dir).join(name))?
            }
        };
        Self::from_text(&text).map_err(|why| KeyStoreError::MasterKey(format!("{source}: {why}")))
    }

    /// Parses 32 bytes written as base64 (standard or URL-safe) or 64 hex digits.
    pub fn from_text(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let mut decoded = Zeroizing::new(
            if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
                (0..32)
                    .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap_or(0))
                    .collect::<Vec<u8>>()
            } else {
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text))
                    .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(text))
                    .map_err(|_| "not base64 or hex".to_string())?
            },
        );
        if decoded.len() != 32 {
            let n = decoded.len();
            decoded.zeroize();
            return Err(format!("a master key is 32 bytes, this is {n}"));
        }
        let mut bytes = Zeroizing::new([0u8; 32]);
        bytes.copy_from_slice(&decoded);
        Ok(Self { bytes })
    }

    /// A fresh random key, as base64 (for `gatewayd keys master-key`).
    pub fn generate_text() -> Result<Zeroizing<String>, KeyStoreError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        aws_lc_rs::rand::fill(&mut bytes[..])
            .map_err(|_| KeyStoreError::Crypto("no randomness for a master key"))?;
        Ok(Zeroizing::new(
            base64::engine::general_purpose::STANDARD.encode(&bytes[..]),
        ))
    }

    /// The key's name in files and messages: the first 16 hex digits of its SHA-256.
    pub fn id(&self) -> String {
        let digest = Sha256::digest(&self.bytes[..]);
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.bytes
    }
}

/// A key file's text, refused when others may read it.
fn read_private(path: &Path) -> Result<Zeroizing<String>, KeyStoreError> {
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;
    let file = std::fs::File::open(path)
        .map_err(|e| KeyStoreError::MasterKey(format!("{}: {e}", path.display())))?;
    let meta = file
        .metadata()
        .map_err(|e| KeyStoreError::MasterKey(format!("{}: {e}", path.display())))?;
    if meta.mode() & 0o077 != 0 {
        return Err(KeyStoreError::MasterKey(format!(
            "{}: readable by others (mode {:o}); chmod 600 it",
            path.display(),
            meta.mode() & 0o777
        )));
    }
    let mut text = Zeroizing::new(String::new());
    file.take(MAX_KEY_TEXT)
        .read_to_string(&mut text)
        .map_err(|e| KeyStoreError::MasterKey(format!("{}: {e}", path.display())))?;
    Ok(text)
}
