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
    // The refusal names the kind of data found, never the data (issue 24).
    assert_eq!(
        value["error"]["data_kinds"][0], "aws_access_key_id",
        "{value}"
    );
    assert!(
        !result.body_text().contains(&key[4..]),
        "{}",
        result.body_text()
    );
    let page = prompt(&gw, &text, "text/html");
    assert!(
        page.body_text()
            .contains("What was found: <strong>aws access key id</strong>"),
        "{}",
        page.body_text()
    );
    assert!(!page.body_text().contains(&key[4..]));
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

/// A policy that scans (and blocks on findings) everything sent to Claude, uploads included.
pub(crate) fn scanning_gateway(dir: &std::path::Path, origin: &Origin) -> GatewayProcess {
    let policy = dir.join("scan-policy.toml");
    std::fs::write(
        &policy,
        "[[rule]]\nid = \"scan-claude\"\nwhen = { app = \"claude\" }\naction = \"dlp\"\nprofile = \"default\"\non_match = \"block\"\n",
    )
    .unwrap();
    GatewayProcess::start(
        origin,
        GatewayOptions {
            sections: format!("[policies]\nfiles = [\"{}\"]\n", policy.display()),
            ..Default::default()
        },
    )
}

pub(crate) fn docx_with(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buf);
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("[Content_Types].xml", options).unwrap();
    zip.write_all(br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#).unwrap();
    zip.start_file("word/document.xml", options).unwrap();
    write!(
        zip,
        r#"<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"#
    )
    .unwrap();
    zip.finish().unwrap();
    buf.into_inner()
}

#[test]
fn a_docx_upload_holding_an_aws_key_is_blocked() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = scanning_gateway(dir.path(), &origin);
    let root = gw.root_pem.display().to_string();
    let upload = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        curl(&[
            "-x",
            &gw.proxy_url(),
            "--cacert",
            &root,
            "-F",
            &format!("file=@{}", path.display()),
            "https://claude.ai/api/upload",
        ])
    };
    let clean = upload(
        "minutes.docx",
        &docx_with("Minutes of the quarterly planning meeting."),
    );
    assert_eq!(
        clean.status,
        200,
        "a clean document passes: {}",
        clean.body_text()
    );
    let secret = upload(
        "deploy.docx",
        &docx_with(&format!("aws_access_key_id = AKIA{}", "Q7RZ4XH2LMNB5TWE")),
    );
    assert_eq!(secret.status, 403, "{}", secret.body_text());
    assert_eq!(secret.header("x-warden-rule"), Some("scan-claude"));
    assert!(
        gw.wait_for_log("dlp_detectors=aws_access_key_id", Duration::from_secs(3)),
        "{}",
        gw.log()
    );
}

#[test]
fn a_zip_bomb_upload_is_refused_quickly_with_bounded_memory() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = scanning_gateway(dir.path(), &origin);
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("zeros.txt", options).unwrap();
        let chunk = vec![0u8; 1 << 20];
        for _ in 0..1024 {
            zip.write_all(&chunk).unwrap(); // 1 GiB of zeros, about 1 MB compressed
        }
        zip.finish().unwrap();
    }
    let path = dir.path().join("bomb.zip");
    std::fs::write(&path, buf.into_inner()).unwrap();
    let before = gw.memory_kib("VmHWM");
    let started = std::time::Instant::now();
    let root = gw.root_pem.display().to_string();
    let result = curl(&[
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &root,
        "-F",
        &format!("file=@{}", path.display()),
        "https://claude.ai/api/upload",
    ]);
    let took = started.elapsed();
    assert_eq!(result.status, 403, "{}", result.body_text());
    assert_eq!(result.header("x-warden-rule"), Some("inspect.unscannable"));
    assert!(took < Duration::from_secs(5), "refused in {took:?}");
    let growth = gw.memory_kib("VmHWM").saturating_sub(before);
    assert!(
        growth < 64 * 1024,
        "gateway memory grew {growth} KiB on a 1 GiB bomb"
    );
}

#[test]
fn gzip_encoded_prompts_are_decoded_and_scanned() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = scanning_gateway(dir.path(), &origin);
    let body = serde_json::json!({ "prompt": "refund card 4539 1488 0343 6467" }).to_string();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(body.as_bytes()).unwrap();
    let path = dir.path().join("body.gz");
    std::fs::write(&path, encoder.finish().unwrap()).unwrap();
    let root = gw.root_pem.display().to_string();
    let result = curl(&[
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &root,
        "-H",
        "Content-Type: application/json",
        "-H",
        "Content-Encoding: gzip",
        "--data-binary",
        &format!("@{}", path.display()),
        "https://claude.ai/api/organizations/o/chat_conversations/c/completion",
    ]);
    assert_eq!(result.status, 403, "{}", result.body_text());
    assert!(gw.wait_for_log("dlp_detectors=credit_card", Duration::from_secs(3)));
}
