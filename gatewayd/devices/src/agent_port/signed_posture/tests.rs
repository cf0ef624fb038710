#![allow(clippy::unwrap_used)]
use super::*;
use rcgen::{KeyPair, SigningKey, PKCS_ED25519};
use std::path::Path;

const NOW: i64 = 1_750_000_000;
const DAY: i64 = 86_400;

fn keys(dir: &Path, pairs: &[&KeyPair]) -> MdmKeys {
    let paths: Vec<PathBuf> = pairs
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let path = dir.join(format!("mdm{i}.pem"));
            std::fs::write(&path, k.public_key_pem()).unwrap();
            path
        })
        .collect();
    MdmKeys::load(&paths).unwrap()
}

fn envelope(key: &KeyPair, document: &str) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let signature = key.sign(document.as_bytes()).unwrap();
    serde_json::to_vec(&serde_json::json!({
        "document": b64.encode(document),
        "signature": b64.encode(signature),
    }))
    .unwrap()
}

fn document(device: &str, issued_at: i64) -> String {
    format!(
        r#"{{"device_id":"{device}","issued_at":{issued_at},"posture":{{"disk_encrypted":true,"os":"macos"}}}}"#
    )
}

#[test]
fn a_document_signed_by_a_configured_key_for_this_device_counts() {
    let dir = tempfile::tempdir().unwrap();
    let (mdm, other) = (
        KeyPair::generate_for(&PKCS_ED25519).unwrap(),
        KeyPair::generate_for(&PKCS_ED25519).unwrap(),
    );
    let keys = keys(dir.path(), &[&other, &mdm]);
    let signed = keys
        .verify(
            &envelope(&mdm, &document("dev-1", NOW - 60)),
            "dev-1",
            NOW,
            DAY,
        )
        .unwrap();
    assert_eq!(signed.fields["disk_encrypted"], "true");
    assert!(signed.fresh(NOW, DAY));
    assert!(!signed.fresh(NOW + DAY, DAY), "goes stale with time");
}

#[test]
fn forged_stale_future_and_other_device_documents_are_refused() {
    use SignedPostureError as E;
    let dir = tempfile::tempdir().unwrap();
    let mdm = KeyPair::generate_for(&PKCS_ED25519).unwrap();
    let stranger = KeyPair::generate_for(&PKCS_ED25519).unwrap();
    let keys = keys(dir.path(), &[&mdm]);
    let check = |body: &[u8]| keys.verify(body, "dev-1", NOW, DAY).err();
    assert_eq!(
        check(&envelope(&stranger, &document("dev-1", NOW))),
        Some(E::BadSignature)
    );
    assert_eq!(
        check(&envelope(&mdm, &document("dev-2", NOW))),
        Some(E::OtherDevice)
    );
    assert_eq!(
        check(&envelope(&mdm, &document("dev-1", NOW - DAY - 1))),
        Some(E::Stale)
    );
    assert_eq!(
        check(&envelope(&mdm, &document("dev-1", NOW + 3600))),
        Some(E::FromTheFuture)
    );
    // A valid signature over one document does not cover another.
    let good = envelope(&mdm, &document("dev-1", NOW));
    let mut tampered: serde_json::Value = serde_json::from_slice(&good).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    tampered["document"] = b64
        .encode(document("dev-1", NOW).replace("true", "false"))
        .into();
    assert_eq!(
        check(&serde_json::to_vec(&tampered).unwrap()),
        Some(E::BadSignature)
    );
    assert!(matches!(
        check(b"{\"os\":\"linux\"}"),
        Some(E::Malformed(_))
    ));
    assert!(matches!(check(b"\xff"), Some(E::Malformed(_))));
    let nested = r#"{"device_id":"dev-1","issued_at":1750000000,"posture":{"a":{"b":1}}}"#;
    assert!(matches!(
        check(&envelope(&mdm, nested)),
        Some(E::Malformed(_))
    ));
    assert_eq!(
        MdmKeys::default().verify(&good, "dev-1", NOW, DAY).err(),
        Some(E::NoKeys)
    );
}

#[test]
fn only_ed25519_public_keys_load() {
    let dir = tempfile::tempdir().unwrap();
    let ecdsa = dir.path().join("ecdsa.pem");
    std::fs::write(&ecdsa, KeyPair::generate().unwrap().public_key_pem()).unwrap();
    let error = MdmKeys::load(&[ecdsa]).unwrap_err();
    assert!(error.contains("only Ed25519"), "{error}");
    let missing = MdmKeys::load(&[dir.path().join("nope.pem")]).unwrap_err();
    assert!(missing.contains("nope.pem"), "{missing}");
}
