//! "An engineer pastes a customer's card number into a chatbot under review": the prompt is
//! scanned before a byte leaves, blocked with the DLP page, and the event records which
//! detector fired — with the secret masked, never in full.

use std::time::Duration;

use crate::support::{curl, GatewayOptions, GatewayProcess, Origin};

fn start() -> (tempfile::TempDir, Origin, GatewayProcess) {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(&origin, GatewayOptions::default());
    (dir, origin, gw)
}

fn prompt(gw: &GatewayProcess, text: &str, accept: &str) -> crate::support::curl::CurlResult {
    let root = gw.root_pem.display().to_string();
    let body = serde_json::json!({ "prompt": text, "model": "claude-x" }).to_string();
    curl(&[
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &root,
        "-H",
        "Content-Type: application/json",
        "-H",
        &format!("Accept: {accept}"),
        "-d",
        &body,
        "https://claude.ai/api/organizations/o/chat_conversations/c/completion",
    ])
}

#[test]
fn a_card_number_in_a_prompt_to_an_app_in_review_is_blocked_before_it_leaves() {
    let (_d, _o, gw) = start();
    let result = prompt(
        &gw,
        "Please check this payment: card 4539 1488 0343 6467, exp 09/29",
        "text/html",
    );
    assert_eq!(result.status, 403, "{}", result.body_text());
    assert_eq!(result.header("x-warden-rule"), Some("dlp-until-approved"));
    assert!(
        result.body_text().contains("Sensitive data")
            || result.body_text().contains("may not be sent")
    );
    assert!(
        gw.wait_for_log("dlp_detectors=credit_card:1", Duration::from_secs(3)),
        "{}",
        gw.log()
    );
    assert!(
        !gw.log().contains("4539 1488 0343 6467") && !gw.log().contains("4539148803436467"),
        "never logged in full"
    );

    let clean = prompt(&gw, "What is the capital of Australia?", "application/json");
    assert_eq!(
        clean.status,
        200,
        "a clean prompt passes: {}",
        clean.body_text()
    );
}

#[test]
fn credentials_in_a_prompt_are_blocked_and_json_clients_get_json() {
    let (_d, _o, gw) = start();
    let key = format!("AKIA{}", "Q7RZ4XH2LMNB5TWE");
    let text = format!("deploy failing, here is our config: aws_access_key_id = {key}");
    let result = prompt(&gw, &text, "application/json");
    assert_eq!(result.status, 403, "{}", result.body_text());
    let value: serde_json::Value = serde_json::from_slice(&result.body).unwrap();
    assert_eq!(value["error"]["rule"], "dlp-until-approved");
    assert!(gw.wait_for_log("aws_access_key_id", Duration::from_secs(3)));
    assert!(!gw.log().contains(&key), "the key is never logged in full");
}

#[test]
fn a_body_over_the_inspection_limit_is_refused_when_it_must_be_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections: "[inspect]\nmax_body_bytes = 1024\n".into(),
            ..Default::default()
        },
    );
    let big = "lorem ipsum ".repeat(500);
    let result = prompt(&gw, &big, "application/json");
    assert_eq!(result.status, 403);
    assert_eq!(result.header("x-warden-rule"), Some("inspect.unscannable"));
}

#[test]
fn a_redact_rule_masks_the_secret_and_forwards_the_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[[rule]]\nid = \"redact-claude\"\nwhen = { app = \"claude\" }\naction = \"dlp\"\nprofile = \"default\"\non_match = \"redact\"\n",
    )
    .unwrap();
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections: format!("[policies]\nfiles = [\"{}\"]\n", policy.display()),
            ..Default::default()
        },
    );
    let result = prompt(
        &gw,
        "Charge card 4539 1488 0343 6467 for the renewal",
        "application/json",
    );
    assert_eq!(result.status, 200, "{}", result.body_text());
    // The origin echoes what it received: the masked prompt, not the card.
    let echoed: serde_json::Value = serde_json::from_slice(&result.body).unwrap();
    assert_eq!(
        echoed["prompt"],
        "Charge card [REDACTED:credit_card] for the renewal"
    );
    assert_eq!(
        echoed["model"], "claude-x",
        "the rest of the body is untouched"
    );
    assert_eq!(result.header("x-warden-redacted"), Some("credit_card"));
}
