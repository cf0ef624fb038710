//! "I give Warden our OpenAI key once, and nobody can read it back" (issue 19, the provider key
//! store): `gatewayd keys` takes values on stdin, lists only fingerprints, keeps them
//! encrypted under a master key that is not in the state directory, records every change in
//! the audit trail, and says plainly when the master key is wrong.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::tools::gatewayd_binary;

const VALUE: &str = "sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90";

fn keys(dir: &std::path::Path, master: &str, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(gatewayd_binary())
        .arg("keys")
        .args(args)
        .current_dir(dir)
        .env("WARDEN_MASTER_KEY", master)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_provider_key_goes_in_once_and_never_comes_back_out() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("warden-state")).unwrap();
    let (code, master, err) = keys(dir.path(), "", &["master-key"], "");
    assert_eq!(code, 0, "{err}");
    let master = master.trim().to_string();

    let (code, _, err) = keys(
        dir.path(),
        &master,
        &["add", "openai-prod", "--provider", "openai"],
        VALUE,
    );
    assert_eq!(code, 0, "{err}");
    let (code, listed, err) = keys(dir.path(), &master, &["list"], "");
    assert_eq!(code, 0, "{err}");
    assert!(
        listed.contains("openai-prod") && listed.contains("sha256:"),
        "{listed}"
    );
    let (code, _, err) = keys(
        dir.path(),
        &master,
        &["rotate", "openai-prod", "--grace", "10m"],
        "sk-proj-Rotated000000000000000000000000000000",
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("version 2"), "{err}");

    // Nowhere in the state directory in clear, nor the master key.
    for entry in std::fs::read_dir(dir.path().join("warden-state")).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("Ab12Cd34Ef56") && !text.contains(&master),
            "{text}"
        );
    }
    let audit = std::fs::read_to_string(dir.path().join("warden-state/admin-audit.jsonl")).unwrap();
    assert!(
        audit.contains("provider_key.add") && audit.contains("provider_key.rotate"),
        "{audit}"
    );

    // The wrong master key: a clear error, no garbage, no value.
    let other = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let (code, out, err) = keys(dir.path(), other, &["list"], "");
    assert_eq!(code, 1);
    assert!(err.contains("is not the one that wrapped"), "{err}");
    assert!(!out.contains("openai-prod"));
    // A master key pasted into the config instead of where it is: refused without echo.
    std::fs::write(
        dir.path().join("bad.toml"),
        format!("[keys]\nmaster_key = \"{master}\"\n"),
    )
    .unwrap();
    let (code, _, err) = keys(dir.path(), &master, &["list", "--config", "bad.toml"], "");
    assert_eq!(code, 2, "{err}");
    assert!(!err.contains(&master), "the key is never echoed: {err}");

    let (code, _, err) = keys(
        dir.path(),
        &master,
        &["add", "x", "--provider", "openai"],
        "",
    );
    assert_ne!(code, 0);
    assert!(err.contains("no key on stdin"), "{err}");
    let (code, _, _) = keys(dir.path(), &master, &["delete", "openai-prod"], "");
    assert_eq!(code, 0);
    let (_, listed, _) = keys(dir.path(), &master, &["list"], "");
    assert!(!listed.contains("openai-prod"));
}
