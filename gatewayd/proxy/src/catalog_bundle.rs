//! Signed catalog bundles: how the AI app catalog is updated without a new binary.
//!
//! A bundle is one JSON file, written by `gatewayd catalog sign` on the vendor side:
//!
//! ```json
//! {"format": "warden-catalog-bundle/1",
//!  "document": "<base64 of the document's JSON bytes>",
//!  "signature": "<base64 Ed25519 signature over those bytes>"}
//! ```
//!
//! The document is `{"issued_at": <unix seconds>, "files": [{"name": "chat.toml", "text": "..."}]}`:
//! a whole catalog, which replaces the shipped one (operators' `policies.catalog_files` still
//! apply on top). Only keys pinned in `policies.catalog_update_keys` are trusted, the signature
//! is checked before a byte of the document is parsed, an older bundle never replaces a newer
//! one, and the size is bounded. Nothing here falls back to an unverified bundle: a bundle that
//! fails any check is refused as a whole.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde::{Deserialize, Serialize};

/// The installed bundle's file name inside `state.dir`.
pub const BUNDLE_FILE: &str = "catalog-bundle.json";
/// Largest bundle read (the shipped catalog is well under 1 MiB).
pub const MAX_BUNDLE_BYTES: u64 = 16 << 20;
/// Most files one bundle may hold.
const MAX_FILES: usize = 256;
const FORMAT: &str = "warden-catalog-bundle/1";

/// Why a bundle was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BundleError {
    #[error("no catalog update key is configured (policies.catalog_update_keys)")]
    NoKeys,
    #[error("not a catalog bundle: {0}")]
    Malformed(&'static str),
    #[error("the bundle is larger than {MAX_BUNDLE_BYTES} bytes")]
    TooLarge,
    #[error("the bundle's signature does not verify with any key in policies.catalog_update_keys")]
    BadSignature,
    #[error("the bundle was issued at {offered}, before the installed one ({installed}): refusing to go back")]
    Older { offered: i64, installed: i64 },
}

/// A verified bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    pub issued_at: i64,
    /// (file name, TOML text), in bundle order.
    pub files: Vec<(String, String)>,
}

impl Bundle {
    /// The files as the catalog loader takes them.
    pub fn sources(&self) -> Vec<(&str, &str)> {
        self.files
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    format: String,
    document: String,
    signature: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    issued_at: i64,
    files: Vec<DocFile>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DocFile {
    name: String,
    text: String,
}

/// The Ed25519 public keys trusted to sign catalog bundles.
#[derive(Debug, Default, Clone)]
pub struct UpdateKeys(Vec<[u8; 32]>);

impl UpdateKeys {
    /// Reads each PEM `PUBLIC KEY` file; only Ed25519 keys are accepted.
    pub fn load(paths: &[PathBuf]) -> Result<Self, String> {
        paths
            .iter()
            .map(|p| ca::ed25519::read_public_key(p, "policies.catalog_update_keys"))
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Verifies a bundle's bytes: envelope, signature, then the document.
    pub fn verify(&self, bytes: &[u8]) -> Result<Bundle, BundleError> {
        use BundleError as E;
        if self.0.is_empty() {
            return Err(E::NoKeys);
        }
        if bytes.len() as u64 > MAX_BUNDLE_BYTES {
            return Err(E::TooLarge);
        }
        let envelope: Envelope = serde_json::from_slice(bytes)
            .map_err(|_| E::Malformed("expected {format, document, signature}"))?;
        if envelope.format != FORMAT {
            return Err(E::Malformed(
                "unknown format (expected warden-catalog-bundle/1)",
            ));
        }
        let b64 = base64::engine::general_purpose::STANDARD;
        let document = b64
            .decode(envelope.document.as_bytes())
            .map_err(|_| E::Malformed("document is not base64"))?;
        let signature = b64
            .decode(envelope.signature.as_bytes())
            .map_err(|_| E::Malformed("signature is not base64"))?;
        if !ca::ed25519::signed_by_any(&self.0, &document, &signature) {
            return Err(E::BadSignature);
        }
        // Only now is the document the vendor's: parse it.
        let document: Document = serde_json::from_slice(&document)
            .map_err(|_| E::Malformed("document must be {issued_at, files: [{name, text}]}"))?;
        if document.files.is_empty() || document.files.len() > MAX_FILES {
            return Err(E::Malformed("a bundle holds 1 to 256 catalog files"));
        }
        Ok(Bundle {
            issued_at: document.issued_at,
            files: document
                .files
                .into_iter()
                .map(|f| (format!("bundle:{}", f.name), f.text))
                .collect(),
        })
    }
}

/// Refuses a bundle older than the installed one (a replayed old bundle would bring back
/// apps or hosts the vendor since removed or corrected).
pub fn check_not_older(offered: &Bundle, installed: Option<&Bundle>) -> Result<(), BundleError> {
    match installed {
        Some(i) if offered.issued_at < i.issued_at => Err(BundleError::Older {
            offered: offered.issued_at,
            installed: i.issued_at,
        }),
        _ => Ok(()),
    }
}

/// Where the installed bundle lives.
pub fn installed_path(state_dir: &Path) -> PathBuf {
    state_dir.join(BUNDLE_FILE)
}

/// Reads a file of at most [`MAX_BUNDLE_BYTES`].
pub fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_BUNDLE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_BUNDLE_BYTES {
        return Err(format!("{}: {}", path.display(), BundleError::TooLarge));
    }
    Ok(bytes)
}

/// The installed bundle, verified; `None` when none is installed (the shipped catalog
/// applies). An installed bundle that no longer verifies is an error, never ignored.
pub fn load_installed(state_dir: &Path, keys: &UpdateKeys) -> Result<Option<Bundle>, String> {
    let path = installed_path(state_dir);
    if !path.exists() {
        return Ok(None);
    }
    let bytes = read_bounded(&path)?;
    keys.verify(&bytes)
        .map(Some)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes verified bundle bytes to the state directory atomically (a reader sees the old
/// bundle or the new one, never half of one).
pub fn install(state_dir: &Path, bytes: &[u8]) -> Result<PathBuf, String> {
    let path = installed_path(state_dir);
    let tmp = state_dir.join(format!(".{BUNDLE_FILE}.tmp"));
    std::fs::write(&tmp, bytes).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// Signs catalog files with a PEM Ed25519 private key (PKCS#8): the vendor side.
pub fn sign(files: &[(String, String)], issued_at: i64, key_pem: &str) -> Result<Vec<u8>, String> {
    use rcgen::SigningKey as _;
    let key = rcgen::KeyPair::from_pem(key_pem).map_err(|e| format!("signing key: {e}"))?;
    if !key.is_compatible(&rcgen::PKCS_ED25519) {
        return Err("signing key: only Ed25519 keys sign catalog bundles".into());
    }
    let document = Document {
        issued_at,
        files: files
            .iter()
            .map(|(name, text)| DocFile {
                name: name.clone(),
                text: text.clone(),
            })
            .collect(),
    };
    let document = serde_json::to_vec(&document).map_err(|e| e.to_string())?;
    let signature = key.sign(&document).map_err(|e| format!("signing: {e}"))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let envelope = Envelope {
        format: FORMAT.into(),
        document: b64.encode(&document),
        signature: b64.encode(signature),
    };
    serde_json::to_vec_pretty(&envelope).map_err(|e| e.to_string())
}

/// A new Ed25519 key pair as (private PKCS#8 PEM, public SPKI PEM).
pub fn generate_key() -> Result<(String, String), String> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).map_err(|e| e.to_string())?;
    Ok((key.serialize_pem(), key.public_key_pem()))
}

#[cfg(test)]
mod tests;
