//! The store against what an operator and an attacker would try: wrong master keys, moved and
//! edited ciphertexts, rotation and its grace, rewrapping, and values that must never show.

use std::time::Duration;

use super::*;

const MASTER: &str = "q6z4Jb6o8c7r0aJxPqUx1y0JwM9b2v4e6XoE0k1r8Yc=";
const OTHER: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const VALUE: &str = "sk-proj-Zx8Qw7Er6Ty5Ui4Op3As2Df1Gh0JkLzXcVbNm";

fn master(text: &str) -> MasterKey {
    MasterKey::from_text(text).unwrap()
}

#[test]
fn a_value_is_stored_sealed_and_comes_back_only_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = KeyStore::open(dir.path(), master(MASTER)).unwrap();
    let info = store.add("openai-prod", "openai", VALUE).unwrap();
    assert_eq!(info.version, 1);
    assert!(info.fingerprint.starts_with("sha256:"));
    let file = std::fs::read_to_string(dir.path().join(STORE_FILE)).unwrap();
    assert!(
        !file.contains(VALUE) && !file.contains("Zx8Qw7Er"),
        "{file}"
    );
    assert!(!file.contains(MASTER));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.path().join(STORE_FILE))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0);

    let reopened = KeyStore::open(dir.path(), master(MASTER)).unwrap();
    assert_eq!(reopened.secret("openai-prod").unwrap().expose(), VALUE);
    let shown = format!(
        "{:?} {:?} {}",
        reopened,
        reopened.list(),
        reopened.secret("openai-prod").unwrap()
    );
    assert!(!shown.contains("Zx8Qw7Er"), "{shown}");
    assert!(matches!(
        reopened.secret("nope"),
        Err(KeyStoreError::NoSuchKey(_))
    ));
}

#[test]
fn a_wrong_master_key_is_a_clear_error_not_garbage() {
    let dir = tempfile::tempdir().unwrap();
    KeyStore::open(dir.path(), master(MASTER))
        .unwrap()
        .add("a", "anthropic", VALUE)
        .unwrap();
    let error = KeyStore::open(dir.path(), master(OTHER))
        .unwrap_err()
        .to_string();
    assert!(error.contains("is not the one that wrapped"), "{error}");
    assert!(!error.contains(OTHER) && !error.contains(MASTER));
}

#[test]
fn a_value_moved_to_another_name_or_changed_does_not_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = KeyStore::open(dir.path(), master(MASTER)).unwrap();
    store.add("a", "openai", VALUE).unwrap();
    store
        .add("b", "openai", "sk-other-value-000000000000")
        .unwrap();
    let path = dir.path().join(STORE_FILE);
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    // Swap a's sealed value and data key into b: the name is bound, so it does not open.
    let a = json["keys"][0]["versions"][0].clone();
    json["keys"][1]["versions"][0]["secret"] = a["secret"].clone();
    json["keys"][1]["versions"][0]["data_key"] = a["data_key"].clone();
    std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
    let store = KeyStore::open(dir.path(), master(MASTER)).unwrap();
    assert!(matches!(store.secret("b"), Err(KeyStoreError::Crypto(_))));
    assert_eq!(store.secret("a").unwrap().expose(), VALUE);
    // One flipped character in a's value: refused too.
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let sealed = json["keys"][0]["versions"][0]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let mut chars: Vec<char> = sealed.chars().collect();
    let i = chars.len() - 6;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    json["keys"][0]["versions"][0]["secret"] = chars.into_iter().collect::<String>().into();
    std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
    let store = KeyStore::open(dir.path(), master(MASTER)).unwrap();
    assert!(store.secret("a").is_err());
}

#[test]
fn rotation_keeps_the_old_value_for_its_grace_then_drops_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = KeyStore::open(dir.path(), master(MASTER)).unwrap();
    let first = store
        .add("k", "gemini", "AIzaFirstValue000000000000000000000000")
        .unwrap();
    let second = store
        .rotate(
            "k",
            "AIzaSecondValue00000000000000000000000",
            Duration::from_secs(3600),
        )
        .unwrap();
    assert_eq!(second.version, 2);
    assert_ne!(first.fingerprint, second.fingerprint);
    assert_eq!(second.previous_versions_live, 1);
    assert!(second.rotated_unix_ms.is_some());
    assert!(store
        .secret("k")
        .unwrap()
        .expose()
        .starts_with("AIzaSecond"));
    let third = store
        .rotate(
            "k",
            "AIzaThirdValue000000000000000000000000",
            Duration::ZERO,
        )
        .unwrap();
    assert_eq!(third.version, 3);
    // Version 1 kept its first grace (an hour); version 2's ended at once.
    assert_eq!(third.previous_versions_live, 1);
    store.delete("k").unwrap();
    assert!(store.list().is_empty());
    assert!(matches!(
        store.delete("k"),
        Err(KeyStoreError::NoSuchKey(_))
    ));
}

#[test]
fn rewrapping_moves_every_data_key_to_the_new_master() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = KeyStore::open(dir.path(), master(MASTER)).unwrap();
    store.add("a", "openai", VALUE).unwrap();
    store.add("b", "bedrock", "AKIA-and-secret").unwrap();
    assert_eq!(store.rewrap(master(OTHER)).unwrap(), 2);
    assert!(KeyStore::open(dir.path(), master(MASTER)).is_err());
    let store = KeyStore::open(dir.path(), master(OTHER)).unwrap();
    assert_eq!(store.secret("a").unwrap().expose(), VALUE);
    assert_eq!(store.secret("b").unwrap().expose(), "AKIA-and-secret");
}

#[test]
fn bad_input_is_refused_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = KeyStore::open(dir.path(), master(MASTER)).unwrap();
    for (name, provider, value) in [
        ("", "openai", VALUE),
        ("../x", "openai", VALUE),
        ("UPPER", "openai", VALUE),
        ("ok", "not-a-provider", VALUE),
        ("ok", "openai", "   "),
    ] {
        assert!(
            matches!(
                store.add(name, provider, value),
                Err(KeyStoreError::Input(_))
            ),
            "{name} {provider}"
        );
    }
    let huge = "x".repeat(MAX_SECRET_BYTES + 1);
    assert!(store.add("ok", "openai", &huge).is_err());
    store.add("ok", "openai", VALUE).unwrap();
    assert!(matches!(
        store.add("ok", "openai", VALUE),
        Err(KeyStoreError::Exists(_))
    ));
    std::fs::write(dir.path().join(STORE_FILE), b"{\"format\": 9").unwrap();
    assert!(matches!(
        KeyStore::open(dir.path(), master(MASTER)),
        Err(KeyStoreError::File { .. })
    ));
}

#[test]
fn master_keys_come_from_text_files_and_the_environment() {
    assert!(MasterKey::from_text("short").is_err());
    assert!(MasterKey::from_text(&"ab".repeat(32)).is_ok(), "hex");
    assert!(MasterKey::from_text(&"ab".repeat(31)).is_err());
    let generated = MasterKey::generate_text().unwrap();
    assert!(MasterKey::from_text(&generated).is_ok());
    assert_ne!(master(MASTER).id(), master(OTHER).id());
    assert!(!format!("{:?}", master(MASTER)).contains(MASTER));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("master.key");
    std::fs::write(&file, MASTER).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let source = MasterKeySource::parse(&format!("file:{}", file.display())).unwrap();
    let error = MasterKey::load(&source).unwrap_err().to_string();
    assert!(error.contains("readable by others"), "{error}");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(MasterKey::load(&source).unwrap().id(), master(MASTER).id());
    let unset = MasterKeySource::parse("env:WARDEN_TEST_NO_SUCH_VARIABLE").unwrap();
    assert!(MasterKey::load(&unset)
        .unwrap_err()
        .to_string()
        .contains("is not set"));
    assert!(MasterKeySource::parse("vault:x").is_err());
    assert!(MasterKeySource::parse("env:").is_err());
    assert!(MasterKeySource::parse("systemd:../../tmp/key").is_err());
    assert!(MasterKeySource::parse("systemd:warden-master-key").is_ok());
}
