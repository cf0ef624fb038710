//! One AEAD seal: AES-256-GCM with a random 96-bit nonce, written as `v1.` and the base64 of
//! nonce ‖ ciphertext ‖ tag. The associated data binds a sealed value to where it belongs (a
//! secret's name and version), so a value moved to another entry does not open.

use aws_lc_rs::aead::{Aad, Nonce, RandomizedNonceKey, AES_256_GCM, NONCE_LEN};
use base64::Engine;
use zeroize::Zeroizing;

use crate::KeyStoreError;

const PREFIX: &str = "v1.";

/// Seals `plaintext` under `key` with `aad`.
pub(crate) fn seal(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Result<String, KeyStoreError> {
    let key = RandomizedNonceKey::new(&AES_256_GCM, key)
        .map_err(|_| KeyStoreError::Crypto("cannot use the key"))?;
    let mut in_out = Zeroizing::new(plaintext.to_vec());
    let nonce = key
        .seal_in_place_append_tag(Aad::from(aad), &mut *in_out)
        .map_err(|_| KeyStoreError::Crypto("sealing failed"))?;
    let mut out = Vec::with_capacity(NONCE_LEN + in_out.len());
    out.extend_from_slice(nonce.as_ref());
    out.extend_from_slice(&in_out);
    Ok(format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(out)
    ))
}

/// Opens what [`seal`] wrote; a wrong key, wrong `aad` or a changed byte is an error.
pub(crate) fn open(
    key: &[u8; 32],
    aad: &[u8],
    sealed: &str,
) -> Result<Zeroizing<Vec<u8>>, KeyStoreError> {
    let body = sealed
        .strip_prefix(PREFIX)
        .ok_or(KeyStoreError::Crypto("unknown sealed-value format"))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| KeyStoreError::Crypto("sealed value is not base64"))?;
    if bytes.len() < NONCE_LEN + AES_256_GCM.tag_len() {
        return Err(KeyStoreError::Crypto("sealed value too short"));
    }
    let (nonce, rest) = bytes.split_at(NONCE_LEN);
    let nonce =
        Nonce::try_assume_unique_for_key(nonce).map_err(|_| KeyStoreError::Crypto("bad nonce"))?;
    let key = RandomizedNonceKey::new(&AES_256_GCM, key)
        .map_err(|_| KeyStoreError::Crypto("cannot use the key"))?;
    let mut in_out = Zeroizing::new(rest.to_vec());
    let plain_len = key
        .open_in_place(nonce, Aad::from(aad), &mut in_out)
        .map_err(|_| KeyStoreError::Crypto("does not open (wrong key, or changed)"))?
        .len();
    in_out.truncate(plain_len);
    Ok(in_out)
}
