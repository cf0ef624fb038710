//! Updating the AI app catalog without a new binary: a bundle signed with the pinned key
//! (`policies.catalog_update_keys`) is installed by `gatewayd catalog update` and a new app is
//! matched by the running gateway; a tampered bundle, a bundle signed by a stranger, an older
//! bundle and a tampered file dropped straight into the state directory are all refused, and
//! the last good catalog stays in force.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::Engine;

use crate::support::gateway::gatewayd;
use crate::support::tools::gatewayd_binary;
use crate::support::{curl, GatewayOptions, GatewayProcess, Origin};

const NEW_APP: &str = "[[app]]\nid = \"e2e-bundle-app\"\nname = \"Bundle App\"\nvendor = \"E2E\"\nvendor_country = \"US\"\ncategory = \"chat\"\nrisk = 4\nrisk_reasons = [\"added by a signed catalog update\"]\nsource = \"https://plain.test/\"\nhosts = [\"plain.test\"]\n";

const POLICY: &str = "version = \"v1\"\n[[rule]]\nid = \"block-bundle-app\"\nwhen = { app = \"e2e-bundle-app\" }\naction = \"block\"\n";

fn offline(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(gatewayd_binary()).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn keygen(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let prefix = dir.join(name);
    let (code, _, err) = offline(&["catalog", "keygen", prefix.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    (
        dir.join(format!("{name}.key.pem")),
        dir.join(format!("{name}.pub.pem")),
    )
}

/// Signs the shipped catalog files plus the new app into `out`.
fn sign(dir: &Path, key: &Path, out: &Path, issued_at: i64) {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/catalog");
    let extra = dir.join("e2e-new.toml");
    std::fs::write(&extra, NEW_APP).unwrap();
    let (code, stdout, err) = offline(&[
        "catalog",
        "sign",
        "--key",
        key.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--issued-at",
        &issued_at.to_string(),
        shipped.to_str().unwrap(),
        extra.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("signed"), "{stdout}");
}

fn status(gw: &GatewayProcess, url: &str) -> (u16, Option<String>) {
    let root = gw.root_pem.display().to_string();
    let r = curl(&["-x", &gw.proxy_url(), "--cacert", &root, url]);
    (r.status, r.header("x-warden-rule").map(str::to_owned))
}

/// The bundle with its signed document edited (the signature left as it was).
fn tampered(bundle: &Path) -> Vec<u8> {
    let mut env: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle).unwrap()).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let doc = b64.decode(env["document"].as_str().unwrap()).unwrap();
    let evil = String::from_utf8(doc)
        .unwrap()
        .replace("plain.test", "chat.test");
    env["document"] = b64.encode(evil).into();
    serde_json::to_vec(&env).unwrap()
}

#[test]
fn a_signed_bundle_adds_an_app_live_and_tampered_or_stale_bundles_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let (key, public) = keygen(dir.path(), "vendor");
    let (stranger, _) = keygen(dir.path(), "stranger");
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, POLICY).unwrap();
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections: format!(
                "[policies]\nfiles = [\"{}\"]\ncatalog_update_keys = [\"{}\"]\n",
                policy.display(),
                public.display()
            ),
            ..Default::default()
        },
    );
    assert_eq!(status(&gw, "https://plain.test/").0, 200, "no such app yet");

    // A stranger's signature and a tampered document are refused; nothing is installed.
    let bundle = dir.path().join("catalog.bundle.json");
    sign(dir.path(), &stranger, &bundle, 2_000_000_000);
    let (code, _, err) = gatewayd(&gw, &["catalog", "update", bundle.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("signature does not verify"), "{err}");
    sign(dir.path(), &key, &bundle, 2_000_000_000);
    let evil = dir.path().join("evil.bundle.json");
    std::fs::write(&evil, tampered(&bundle)).unwrap();
    let (code, _, err) = gatewayd(&gw, &["catalog", "update", evil.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("signature does not verify"), "{err}");
    assert!(err.contains("unchanged"), "{err}");
    assert!(!gw.dir.path().join("state/catalog-bundle.json").exists());

    // The vendor's bundle is installed and the running gateway matches the new app.
    let (code, out, err) = gatewayd(&gw, &["catalog", "update", bundle.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("installed"), "{out}");
    assert!(
        gw.wait_for_log("configuration reloaded", Duration::from_secs(5)),
        "{}",
        gw.log()
    );
    assert_eq!(
        status(&gw, "https://plain.test/"),
        (403, Some("block-bundle-app".to_owned())),
        "{}",
        gw.log()
    );
    let (code, out, _) = gatewayd(&gw, &["catalog", "match", "https://plain.test/"]);
    assert_eq!(code, 0);
    assert!(out.contains("e2e-bundle-app"), "{out}");
    let (code, _, _) = gatewayd(&gw, &["catalog", "match", "https://chatgpt.com/"]);
    assert_eq!(code, 0, "the shipped apps came with the bundle");

    // An older bundle, even correctly signed, does not replace the newer one.
    let old = dir.path().join("old.bundle.json");
    sign(dir.path(), &key, &old, 1_000_000_000);
    let (code, _, err) = gatewayd(&gw, &["catalog", "update", old.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("refusing to go back"), "{err}");

    // A tampered bundle written straight into the state directory: the daemon refuses the
    // reload and keeps the last good catalog.
    std::fs::write(
        gw.dir.path().join("state/catalog-bundle.json"),
        tampered(&bundle),
    )
    .unwrap();
    assert!(
        gw.wait_for_log("reload refused", Duration::from_secs(5)),
        "{}",
        gw.log()
    );
    assert!(
        gw.log().contains("signature does not verify"),
        "{}",
        gw.log()
    );
    assert_eq!(
        status(&gw, "https://plain.test/"),
        (403, Some("block-bundle-app".to_owned()))
    );
    assert_eq!(status(&gw, "https://chat.test/").0, 200);
}
