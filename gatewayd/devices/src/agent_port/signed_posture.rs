//! Posture signed by an MDM. What an agent reports about its device is only what the device
//! says; a posture document signed with an Ed25519 key the gateway is configured to trust
//! (`tunnel.mdm_keys`) is what the MDM says, and only that lets a policy's
//! `posture_signed = true` match.
//!
//! The agent forwards, unchanged, an envelope the MDM wrote for it:
//!
//! ```json
//! {"document": "<base64 of the document's JSON bytes>", "signature": "<base64 Ed25519>"}
//! ```
//!
//! signed over the exact document bytes, which are
//! `{"device_id": "...", "issued_at": <unix seconds>, "posture": {"disk_encrypted": true}}`.
//! A document counts only for the device it names, and only while it is younger than
//! `tunnel.signed_posture_max_age`. Nothing here trusts the agent: a forged, stale or
//! other-device document is refused, never half-accepted.

use std::path::PathBuf;

use base64::Engine;
use policies::rules::Posture;

use super::routes::posture_from_map;

/// How far in the future a document's `issued_at` may lie (clock skew between MDM and us).
const MAX_SKEW_SECS: i64 = 300;

/// Why a signed posture was refused; said to the agent and logged.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignedPostureError {
    #[error("this gateway trusts no MDM key (tunnel.mdm_keys)")]
    NoKeys,
    #[error("not a signed posture envelope: {0}")]
    Malformed(&'static str),
    #[error("the signature does not verify with any configured MDM key")]
    BadSignature,
    #[error("the document is for another device")]
    OtherDevice,
    #[error("the document is older than tunnel.signed_posture_max_age")]
    Stale,
    #[error("the document's issued_at lies in the future")]
    FromTheFuture,
}

/// A verified posture document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedPosture {
    pub fields: Posture,
    pub issued_at: i64,
}

impl SignedPosture {
    /// Whether the document still counts at `now` (unix seconds).
    pub fn fresh(&self, now: i64, max_age_secs: i64) -> bool {
        now.saturating_sub(self.issued_at) <= max_age_secs
            && self.issued_at.saturating_sub(now) <= MAX_SKEW_SECS
    }
}

/// The MDM public keys the gateway trusts.
#[derive(Debug, Default)]
pub struct MdmKeys(Vec<[u8; 32]>);

impl MdmKeys {
    /// Reads each PEM `PUBLIC KEY` file; only Ed25519 keys are accepted.
    pub fn load(paths: &[PathBuf]) -> Result<Self, String> {
        paths
            .iter()
            .map(|p| ca::ed25519::read_public_key(p, "tunnel.mdm_keys"))
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Verifies `body` (the envelope) for `device_id` at `now` (unix seconds).
    pub fn verify(
        &self,
        body: &[u8],
        device_id: &str,
        now: i64,
        max_age_secs: i64,
    ) -> Result<SignedPosture, SignedPostureError> {
        use SignedPostureError as E;
        if self.0.is_empty() {
            return Err(E::NoKeys);
        }
        let envelope: Envelope = serde_json::from_slice(body)
            .map_err(|_| E::Malformed("expected {document, signature}"))?;
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
        // Only now is the document the MDM's: parse it.
        let document: Document = serde_json::from_slice(&document)
            .map_err(|_| E::Malformed("document must be {device_id, issued_at, posture}"))?;
        if document.device_id != device_id {
            return Err(E::OtherDevice);
        }
        let fields = posture_from_map(document.posture).ok_or(E::Malformed(
            "posture must be a flat object of at most 64 short fields",
        ))?;
        let signed = SignedPosture {
            fields,
            issued_at: document.issued_at,
        };
        if document.issued_at.saturating_sub(now) > MAX_SKEW_SECS {
            return Err(E::FromTheFuture);
        }
        if !signed.fresh(now, max_age_secs) {
            return Err(E::Stale);
        }
        Ok(signed)
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    document: String,
    signature: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    device_id: String,
    issued_at: i64,
    posture: serde_json::Map<String, serde_json::Value>,
}

#[cfg(test)]
mod tests;
