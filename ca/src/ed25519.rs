//! Ed25519 public keys read from PEM files and signatures checked against them — what the
//! signed catalog bundles (`policies.catalog_update_keys`) and the MDM-signed device posture
//! (`tunnel.mdm_keys`) share. rustls' verifier (aws-lc-rs underneath) does the checking, so no
//! second crypto library is needed.

use std::path::Path;

use rustls::SignatureScheme;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{SignatureVerificationAlgorithm, SubjectPublicKeyInfoDer};

/// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the 32-byte key follows.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

fn verifier() -> Option<&'static dyn SignatureVerificationAlgorithm> {
    rustls::crypto::aws_lc_rs::default_provider()
        .signature_verification_algorithms
        .mapping
        .iter()
        .find(|(scheme, _)| *scheme == SignatureScheme::ED25519)
        .and_then(|(_, algs)| algs.first().copied())
}

/// The raw key of a PEM `PUBLIC KEY` file; errors name `setting` (the config key that
/// listed the file) and the file.
pub fn read_public_key(path: &Path, setting: &str) -> Result<[u8; 32], String> {
    let spki = SubjectPublicKeyInfoDer::from_pem_file(path)
        .map_err(|e| format!("{setting}: {}: not a PEM PUBLIC KEY: {e}", path.display()))?;
    spki.as_ref()
        .strip_prefix(&SPKI_PREFIX[..])
        .and_then(|raw| <[u8; 32]>::try_from(raw).ok())
        .ok_or_else(|| {
            format!(
                "{setting}: {}: only Ed25519 public keys are accepted",
                path.display()
            )
        })
}

/// Whether `signature` over `message` is valid for one of `keys`.
pub fn signed_by_any(keys: &[[u8; 32]], message: &[u8], signature: &[u8]) -> bool {
    let Some(ed25519) = verifier() else {
        return false;
    };
    keys.iter()
        .any(|key| ed25519.verify_signature(key, message, signature).is_ok())
}
