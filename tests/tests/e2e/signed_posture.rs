//! "Only our MDM's word counts": a policy requires signed posture; the laptop's own claim
//! that its disk is encrypted is not enough, neither is a document signed by another key, one
//! signed for another device, or one too old; the MDM's fresh signature for this device is.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use rcgen::{KeyPair, SigningKey, PKCS_ED25519};

use crate::support::agent::{enroll, free_port, AgentProcess};
use crate::support::{curl, GatewayOptions, GatewayProcess, Origin};

/// The envelope an MDM writes for the agent: `document` signed by `key`.
fn envelope(key: &KeyPair, device: &str, issued_at: u64, encrypted: bool) -> String {
    let document = format!(
        r#"{{"device_id":"{device}","issued_at":{issued_at},"posture":{{"disk_encrypted":{encrypted},"managed":"yes"}}}}"#
    );
    let b64 = base64::engine::general_purpose::STANDARD;
    serde_json::json!({
        "document": b64.encode(&document),
        "signature": b64.encode(key.sign(document.as_bytes()).unwrap()),
    })
    .to_string()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Waits until `needle` appears in the gateway log more than `seen` times; returns the count.
fn wait_more(gw: &GatewayProcess, needle: &str, seen: usize) -> usize {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let count = gw.log().matches(needle).count();
        if count > seen {
            return count;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no new {needle:?} in the gateway log:\n{}",
            gw.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn write(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[test]
fn only_a_fresh_mdm_signature_for_this_device_satisfies_a_signed_posture_rule() {
    let dir = tempfile::tempdir().unwrap();
    let mdm = KeyPair::generate_for(&PKCS_ED25519).unwrap();
    let stranger = KeyPair::generate_for(&PKCS_ED25519).unwrap();
    let mdm_pub = dir.path().join("mdm.pub.pem");
    std::fs::write(&mdm_pub, mdm.public_key_pem()).unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "version = \"signed-posture\"\n\
         [[rule]]\nid = \"chat-needs-managed-disk\"\nwhen = { app = \"chatgpt\" }\n\
         unless = { posture = { disk_encrypted = true }, posture_signed = true }\n\
         action = \"block\"\nmessage = \"ChatGPT needs a disk your MDM says is encrypted.\"\n",
    )
    .unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections: format!(
                "[tunnel]\nlisten = \"127.0.0.1:{}\"\nmdm_keys = [\"{}\"]\n\n\
                 [policies]\nfiles = [\"{}\"]\n",
                free_port(),
                mdm_pub.display(),
                policy.display()
            ),
            ..Default::default()
        },
    );
    let tunnel = gw.tunnel.unwrap();
    let state = dir.path().join("agent-state");
    let device = enroll(&gw, tunnel, "carol", "", &state);
    let other = enroll(&gw, tunnel, "dave", "", &dir.path().join("other-state"));

    // The laptop claims an encrypted disk on its own.
    let claimed = dir.path().join("posture.json");
    std::fs::write(&claimed, r#"{"disk_encrypted": true}"#).unwrap();
    let signed = dir.path().join("signed-posture.json");
    let agent = AgentProcess::start(
        &state,
        &[
            "--posture-file",
            claimed.to_str().unwrap(),
            "--signed-posture-file",
            signed.to_str().unwrap(),
            "--posture-interval",
            "1",
        ],
    );
    agent.wait_connected(Duration::from_secs(10));
    let root = gw.root_pem.display().to_string();
    let chat = || {
        curl(&[
            "-x",
            &agent.proxy_url(),
            "--cacert",
            &root,
            "https://chatgpt.com/c/1",
        ])
    };
    let blocked = |why: &str| {
        let result = chat();
        assert_eq!(result.status, 403, "{why}: {}", result.body_text());
        assert_eq!(
            result.header("x-warden-rule"),
            Some("chat-needs-managed-disk"),
            "{why}"
        );
    };
    blocked("the device's own report");

    let mut refused = 0;
    for (why, text, reason) in [
        (
            "signed by a key the gateway does not trust",
            envelope(&stranger, &device, now(), true),
            "does not verify",
        ),
        (
            "signed for another device",
            envelope(&mdm, &other, now(), true),
            "another device",
        ),
        (
            "signed two days ago",
            envelope(&mdm, &device, now() - 2 * 86_400, true),
            "older than",
        ),
    ] {
        write(&signed, &text);
        refused = wait_more(&gw, "signed posture refused", refused);
        assert!(gw.log().contains(reason), "{why}: {}", gw.log());
        blocked(why);
    }

    // The MDM's fresh signature for this very device: allowed.
    write(&signed, &envelope(&mdm, &device, now(), true));
    let accepted = wait_more(&gw, "signed device posture accepted", 0);
    let result = chat();
    assert_eq!(result.status, 200, "{}", result.body_text());
    assert!(gw.log().contains("posture_signed=true"));

    // Signed, but the MDM says the disk is not encrypted: blocked again.
    write(&signed, &envelope(&mdm, &device, now(), false));
    wait_more(&gw, "signed device posture accepted", accepted);
    blocked("the MDM's signed word that the disk is not encrypted");
}
