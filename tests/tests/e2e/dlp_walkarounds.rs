//! Review 2's walk-arounds of the DLP (issue 17), performed through the real gateways: two
//! characters in front of a card or an SSN (`a/4556 ...`, `https://x/4556...`,
//! `x/536-22-1234`), an SSN written with typographic dashes, and a card inside a compressed
//! PDF or a DOCX attached to a prompt (OpenAI `file`, Responses `input_file`, Anthropic
//! `document`). Each is refused naming the detector, and the provider or app never sees the
//! number; a document that cannot be opened is refused as unscannable, never passed as clean.

use std::io::Write;
use std::process::Command;

use base64::Engine;
use serde_json::{json, Value};

use crate::aigw::AiGateway;
use crate::dlp::docx_with;
use crate::support::tools::require;
use crate::support::{curl, GatewayOptions, GatewayProcess, Origin};

const NO_EVENTS: &str = "[clickhouse]\nurl = \"http://127.0.0.1:1\"\n[events]\nenabled = false\n";

/// Status line, headers and body curl received for one POST of `body` to `path`.
fn post(gw: &AiGateway, key: &str, path: &str, body: &Value) -> String {
    let out = Command::new(require("curl", "apt-get install -y curl"))
        .args(["-sS", "-i", "--max-time", "20", "-X", "POST"])
        .arg(format!("http://{}{path}", gw.addr))
        .args(["-H", "content-type: application/json"])
        .args(["-H", &format!("authorization: Bearer {key}")])
        .args(["-H", &format!("x-api-key: {key}")])
        .args(["-H", "anthropic-version: 2023-06-01"])
        .arg("--data-binary")
        .arg(body.to_string())
        .output()
        .expect("curl runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn chat(content: Value) -> Value {
    json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}]})
}

/// A one-page PDF whose content stream is FlateDecode-compressed, as every PDF writer makes.
fn flate_pdf(text: &str) -> Vec<u8> {
    let content = format!("BT /F1 12 Tf 72 720 Td ({text}) Tj ET");
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(content.as_bytes()).unwrap();
    let stream = z.finish().unwrap();
    let mut pdf = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n".to_vec();
    pdf.extend(
        format!(
            "4 0 obj\n<< /Length {} /Filter /FlateDecode >>\nstream\n",
            stream.len()
        )
        .bytes(),
    );
    pdf.extend(&stream);
    pdf.extend(b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n");
    pdf
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn refused_naming(seen: &str, detector: &str) -> bool {
    seen.starts_with("HTTP/1.1 403") && seen.contains(detector) && !seen.contains("7375")
}

#[test]
fn two_characters_or_typographic_dashes_do_not_hide_a_card_or_an_ssn_from_the_ai_gateway() {
    let mut gw = AiGateway::start_with(NO_EVENTS);
    let key = gw.virtual_key(&["--name", "bob-laptop", "--user", "bob"]);
    let cases = [
        (
            "a letter and a slash",
            "charge card a/4556 7375 8689 9855",
            "credit_card",
        ),
        (
            "a URL path",
            "card number: https://evil.invalid/4556737586899855",
            "credit_card",
        ),
        ("a file URL", "file:///home/4556737586899855", "credit_card"),
        ("an SSN after a slash", "my ssn x/536-22-1234", "us_ssn"),
        (
            "an SSN with en dashes",
            "my ssn is 536\u{2013}22\u{2013}1234",
            "us_ssn",
        ),
        (
            "an SSN with minus signs",
            "my ssn is 536\u{2212}22\u{2212}1234",
            "us_ssn",
        ),
    ];
    let missed: Vec<String> = cases
        .iter()
        .filter_map(|(what, text, detector)| {
            let seen = post(&gw, &key, "/v1/chat/completions", &chat(json!(text)));
            (!refused_naming(&seen, detector)).then(|| format!("{what}: {seen}"))
        })
        .collect();
    assert!(missed.is_empty(), "reached the provider: {missed:#?}");
    // Paths and URLs with ids and dates are not cards.
    let clean = post(
        &gw,
        &key,
        "/v1/chat/completions",
        &chat(json!(
            "see https://github.com/org/repo/pull/4556, /usr/4556/7375/8689/9855 and v2/2026/12/07"
        )),
    );
    assert!(clean.starts_with("HTTP/1.1 200"), "{clean}");
    let sent = Value::Array(gw.openai.requests()).to_string();
    for leak in [
        "4556737586899855",
        "4556 7375 8689",
        "22-1234",
        "22\u{2013}1234",
    ] {
        assert!(!sent.contains(leak), "the provider saw {leak}: {sent}");
    }
}

#[test]
fn a_card_in_a_compressed_pdf_or_a_docx_is_refused_in_every_dialect() {
    let mut gw = AiGateway::start_with(NO_EVENTS);
    let key = gw.virtual_key(&["--name", "bob-laptop", "--user", "bob"]);
    let pdf = b64(&flate_pdf(
        "Customer card 4556 7375 8689 9855, expiry 04/29",
    ));
    let docx = b64(&docx_with("Customer card 4556 7375 8689 9855"));
    let cases = [
        (
            "chat file, PDF",
            "/v1/chat/completions",
            chat(
                json!([{"type": "text", "text": "summarise"}, {"type": "file", "file": {"filename": "a.pdf", "file_data": format!("data:application/pdf;base64,{pdf}")}}]),
            ),
        ),
        (
            "chat file, DOCX",
            "/v1/chat/completions",
            chat(
                json!([{"type": "file", "file": {"filename": "a.docx", "file_data": format!("data:application/vnd.openxmlformats-officedocument.wordprocessingml.document;base64,{docx}")}}]),
            ),
        ),
        (
            "Responses input_file, PDF",
            "/v1/responses",
            json!({"model": "gpt-4o-mini", "input": [{"role": "user", "content": [{"type": "input_file", "filename": "a.pdf", "file_data": format!("data:application/pdf;base64,{pdf}")}]}]}),
        ),
        (
            "Anthropic document, PDF",
            "/v1/messages",
            json!({"model": "claude", "max_tokens": 64, "messages": [{"role": "user", "content": [{"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": pdf}}]}]}),
        ),
    ];
    let missed: Vec<String> = cases
        .iter()
        .filter_map(|(what, path, body)| {
            let seen = post(&gw, &key, path, body);
            (!refused_naming(&seen, "credit_card")).then(|| format!("{what}: {seen}"))
        })
        .collect();
    assert!(missed.is_empty(), "reached the provider: {missed:#?}");
    // A RAR the gateway does not open is unscannable: refused, not passed as clean.
    let rar = b64(b"Rar!\x1a\x07\x01\x00 a packed customer list, not opened by the gateway");
    let seen = post(
        &gw,
        &key,
        "/v1/messages",
        &json!({"model": "claude", "max_tokens": 64, "messages": [{"role": "user", "content": [{"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": rar}}]}]}),
    );
    assert!(
        seen.starts_with("HTTP/1.1 403") && seen.contains("unscannable_document"),
        "{seen}"
    );
    // A clean compressed PDF goes through.
    let clean = b64(&flate_pdf("Minutes of the quarterly planning meeting."));
    let seen = post(
        &gw,
        &key,
        "/v1/chat/completions",
        &chat(
            json!([{"type": "file", "file": {"filename": "m.pdf", "file_data": format!("data:application/pdf;base64,{clean}")}}]),
        ),
    );
    assert!(seen.starts_with("HTTP/1.1 200"), "{seen}");
    assert!(gw.anthropic.requests().is_empty(), "Anthropic saw a call");
    // Only the clean document reached OpenAI (every PDF starts with the same bytes, so the
    // count is the check).
    assert_eq!(gw.openai.requests().len(), 1, "{:?}", gw.openai.requests());
}

#[test]
fn a_slash_in_front_of_a_card_does_not_get_it_through_the_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(&origin, GatewayOptions::default());
    let root = gw.root_pem.display().to_string();
    let proxy = gw.proxy_url();
    let send = |prompt: &str| {
        let body = json!({"prompt": prompt}).to_string();
        curl(&[
            "-x",
            &proxy,
            "--cacert",
            &root,
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            &body,
            "https://chatgpt.com/backend-api/conversation",
        ])
    };
    for prompt in [
        "card a/4556 7375 8689 9855",
        "see https://x/4556737586899855",
        "ssn x/536-22-1234",
        "ssn 536\u{2013}22\u{2013}1234",
    ] {
        let result = send(prompt);
        assert_eq!(result.status, 403, "{prompt}: {}", result.body_text());
        assert_eq!(
            result.header("x-warden-rule"),
            Some("dlp-until-approved"),
            "{prompt}"
        );
    }
    let clean = send("see https://github.com/org/repo/pull/4556 and /usr/4556/7375/8689/9855");
    assert_eq!(clean.status, 200, "{}", clean.body_text());
}
