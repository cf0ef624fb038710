use super::*;

const APP: &str = "[[app]]\nid = \"x\"\nname = \"X\"\nvendor = \"V\"\nvendor_country = \"US\"\ncategory = \"chat\"\nrisk = 2\nrisk_reasons = [\"r\"]\nsource = \"https://x.example/\"\nhosts = [\"x.example\"]\n";

fn keys() -> (String, UpdateKeys, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = generate_key().unwrap();
    let path = dir.path().join("k.pub.pem");
    std::fs::write(&path, public).unwrap();
    (private, UpdateKeys::load(&[path]).unwrap(), dir)
}

fn files() -> Vec<(String, String)> {
    vec![("a.toml".into(), APP.into())]
}

#[test]
fn a_bundle_signed_by_a_pinned_key_verifies() {
    let (private, keys, _d) = keys();
    let bytes = sign(&files(), 1_700_000_000, &private).unwrap();
    let bundle = keys.verify(&bytes).unwrap();
    assert_eq!(bundle.issued_at, 1_700_000_000);
    assert_eq!(
        bundle.files,
        vec![("bundle:a.toml".to_owned(), APP.to_owned())]
    );
}

#[test]
fn a_stranger_key_a_tampered_document_or_no_keys_are_refused() {
    let (_, keys, _d) = keys();
    let (stranger, _, _d2) = self::keys();
    let bytes = sign(&files(), 1, &stranger).unwrap();
    assert_eq!(keys.verify(&bytes), Err(BundleError::BadSignature));

    let (private, keys, _d3) = self::keys();
    let bytes = sign(&files(), 1, &private).unwrap();
    let mut env: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let doc = b64.decode(env["document"].as_str().unwrap()).unwrap();
    let evil = String::from_utf8(doc)
        .unwrap()
        .replace("x.example", "mail.google.com");
    env["document"] = b64.encode(evil).into();
    let tampered = serde_json::to_vec(&env).unwrap();
    assert_eq!(keys.verify(&tampered), Err(BundleError::BadSignature));

    assert_eq!(
        UpdateKeys::default().verify(&bytes),
        Err(BundleError::NoKeys)
    );
    assert!(matches!(keys.verify(b"{}"), Err(BundleError::Malformed(_))));
    assert!(matches!(
        keys.verify(b"\xff\x00"),
        Err(BundleError::Malformed(_))
    ));
}

#[test]
fn an_older_bundle_never_replaces_a_newer_one() {
    let new = Bundle {
        issued_at: 10,
        files: vec![],
    };
    let old = Bundle {
        issued_at: 9,
        files: vec![],
    };
    assert!(check_not_older(&new, Some(&old)).is_ok());
    assert!(check_not_older(&new, None).is_ok());
    assert_eq!(
        check_not_older(&old, Some(&new)),
        Err(BundleError::Older {
            offered: 9,
            installed: 10
        })
    );
}

#[test]
fn only_ed25519_public_keys_load_and_oversized_bundles_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p256 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let path = dir.path().join("p256.pem");
    std::fs::write(&path, p256.public_key_pem()).unwrap();
    let err = UpdateKeys::load(&[path]).unwrap_err();
    assert!(err.contains("only Ed25519"), "{err}");
    let big = dir.path().join("big.json");
    std::fs::write(&big, vec![b' '; (MAX_BUNDLE_BYTES + 1) as usize]).unwrap();
    assert!(read_bounded(&big).unwrap_err().contains("larger than"));
}

#[test]
fn install_and_load_round_trip_through_the_state_dir() {
    let (private, keys, dir) = keys();
    assert_eq!(load_installed(dir.path(), &keys).unwrap(), None);
    let bytes = sign(&files(), 5, &private).unwrap();
    install(dir.path(), &bytes).unwrap();
    let got = load_installed(dir.path(), &keys).unwrap().unwrap();
    assert_eq!(got.issued_at, 5);
    std::fs::write(installed_path(dir.path()), b"{\"format\":1}").unwrap();
    assert!(
        load_installed(dir.path(), &keys).is_err(),
        "a broken bundle is an error"
    );
}
