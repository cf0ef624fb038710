//! "A card rewritten is still a card" on the AI gateway (attack review, item 3): a prompt
//! holding a card written with `/`, in full-width digits, or as a base64 `data:` URL (even
//! one labelled as an image) is refused naming the detector, and the provider never sees it.

use std::process::Command;

use base64::Engine;
use serde_json::{json, Value};

use crate::aigw::AiGateway;
use crate::support::tools::require;

const NO_EVENTS: &str = "[clickhouse]\nurl = \"http://127.0.0.1:1\"\n[events]\nenabled = false\n";

/// Status line, headers and body curl received for one chat call.
fn chat(gw: &AiGateway, key: &str, content: Value) -> String {
    let body = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}]});
    let out = Command::new(require("curl", "apt-get install -y curl"))
        .args(["-sS", "-i", "--max-time", "20", "-X", "POST"])
        .arg(format!("http://{}/v1/chat/completions", gw.addr))
        .args(["-H", "content-type: application/json"])
        .args(["-H", &format!("authorization: Bearer {key}")])
        .arg("--data-binary")
        .arg(body.to_string())
        .output()
        .expect("curl runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn rewritten_cards_in_a_prompt_never_reach_the_provider() {
    let mut gw = AiGateway::start_with(NO_EVENTS);
    let key = gw.virtual_key(&["--name", "bob-laptop", "--user", "bob"]);
    let b64 = base64::engine::general_purpose::STANDARD.encode("card 4556 7375 8689 9855");
    let full_width: String = "4556737586899855"
        .chars()
        .filter_map(|c| c.to_digit(10).and_then(|d| char::from_u32(0xFF10 + d)))
        .collect();
    let cases = [
        ("slashes", json!("pay 4556/7375/8689/9855")),
        ("full-width digits", json!(format!("pay {full_width}"))),
        (
            "a data: URL of text",
            json!([{"type": "image_url", "image_url": {"url": format!("data:text/plain;base64,{b64}")}}]),
        ),
        (
            "text labelled as an image",
            json!([{"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{b64}")}}]),
        ),
    ];
    for (what, content) in cases {
        let seen = chat(&gw, &key, content);
        assert!(
            seen.starts_with("HTTP/1.1 403") && seen.contains("credit_card"),
            "{what}: {seen}"
        );
        assert!(!seen.contains("7375"), "{what}: {seen}");
    }
    let clean = chat(&gw, &key, json!("hello, on 2026/12/07"));
    assert!(clean.starts_with("HTTP/1.1 200"), "{clean}");
    let sent = Value::Array(gw.openai.requests()).to_string();
    for leak in ["7375", "\u{FF17}\u{FF13}", &b64[..12]] {
        assert!(!sent.contains(leak), "the provider saw {leak}: {sent}");
    }
}
