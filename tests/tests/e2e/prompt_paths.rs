//! "Every way a prompt can leave is scanned": under the default policy (an unreviewed app's
//! prompts are DLP-scanned, its uploads blocked), a card number sent any other way than a
//! plain JSON prompt — nested deep, as a number, under a duplicate key, mislabelled, in the
//! URL query or a custom header, in UTF-16, in a file whatever its declared type, or over a
//! WebSocket as binary, compressed, orphan continuation, ping or close frame — is refused
//! before it reaches the app, exactly as the plain prompt is.

use std::time::Duration;

use crate::support::curl::CurlResult;
use crate::support::{curl, GatewayOptions, GatewayProcess, Origin};

/// A card number the detector takes as real (published test cards are ignored on purpose).
const CARD: &str = "4539 1488 0343 6467";
const PROMPT_URL: &str = "https://claude.ai/api/organizations/o/chat_conversations/c/completion";

fn start() -> (tempfile::TempDir, Origin, GatewayProcess) {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(&origin, GatewayOptions::default());
    (dir, origin, gw)
}

/// POSTs `body` to claude.ai (unreviewed) with `headers`, through the gateway.
fn send(gw: &GatewayProcess, dir: &std::path::Path, headers: &[&str], body: &[u8]) -> CurlResult {
    let path = dir.join(format!("body-{}", rand_suffix()));
    std::fs::write(&path, body).unwrap();
    let root = gw.root_pem.display().to_string();
    let data = format!("@{}", path.display());
    let proxy = gw.proxy_url();
    let mut args = vec!["-x", proxy.as_str(), "--cacert", root.as_str()];
    for header in headers {
        args.extend(["-H", header]);
    }
    args.extend(["--data-binary", &data, PROMPT_URL]);
    curl(&args)
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn assert_refused(result: &CurlResult, rule: &str, what: &str) {
    assert_eq!(result.status, 403, "{what}: {}", result.body_text());
    assert_eq!(result.header("x-warden-rule"), Some(rule), "{what}");
    assert!(
        !result.body_text().contains(CARD),
        "{what}: the card never comes back from the app"
    );
}

#[test]
fn json_tricks_are_scanned_like_the_plain_prompt() {
    let (dir, _o, gw) = start();
    let json = ["Content-Type: application/json"];
    let deep = format!(
        "{}{{\"prompt\": \"card {CARD}\"}}{}",
        "[".repeat(100),
        "]".repeat(100)
    );
    let cases: Vec<(&str, Vec<&str>, String)> = vec![
        ("nested 100 deep", json.to_vec(), deep),
        (
            "the card as a number",
            json.to_vec(),
            format!("{{\"prompt\": \"hi\", \"n\": {}}}", CARD.replace(' ', "")),
        ),
        (
            "a duplicate key",
            json.to_vec(),
            format!("{{\"prompt\": \"card {CARD}\", \"prompt\": \"hello\"}}"),
        ),
        (
            "JSON labelled as a form",
            vec!["Content-Type: application/x-www-form-urlencoded"],
            format!("{{\"prompt\": \"card {CARD}\"}}"),
        ),
    ];
    for (what, headers, body) in cases {
        let result = send(&gw, dir.path(), &headers, body.as_bytes());
        assert_refused(&result, "dlp-until-approved", what);
    }
    let clean = send(
        &gw,
        dir.path(),
        &json,
        br#"{"prompt": "hello", "prompt": "x", "n": 42}"#,
    );
    assert_eq!(
        clean.status,
        200,
        "a clean prompt passes: {}",
        clean.body_text()
    );
    assert!(
        !gw.log().contains(CARD) && !gw.log().contains(&CARD.replace(' ', "")),
        "never logged in full"
    );
}

#[test]
fn the_query_a_custom_header_and_utf16_are_scanned() {
    let (dir, _o, gw) = start();
    let root = gw.root_pem.display().to_string();
    let proxy = gw.proxy_url();
    let query = curl(&[
        "-x",
        &proxy,
        "--cacert",
        &root,
        &format!("https://claude.ai/?q={}", CARD.replace(' ', "+")),
    ]);
    assert_refused(&query, "dlp-until-approved", "the URL query");
    let clean = curl(&[
        "-x",
        &proxy,
        "--cacert",
        &root,
        "https://claude.ai/?q=hello",
    ]);
    assert_eq!(
        clean.status,
        200,
        "a clean query passes: {}",
        clean.body_text()
    );

    let note = format!("X-Note: card {CARD}");
    let header = send(&gw, dir.path(), &[&note], b"{\"prompt\": \"hello\"}");
    assert_refused(&header, "dlp-until-approved", "a custom header");

    let utf16: Vec<u8> = format!("card {CARD}")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let result = send(
        &gw,
        dir.path(),
        &["Content-Type: text/plain; charset=utf-16le"],
        &utf16,
    );
    assert_refused(&result, "dlp-until-approved", "a UTF-16LE body");
    let with_bom: Vec<u8> = [0xff, 0xfe].into_iter().chain(utf16).collect();
    let result = send(&gw, dir.path(), &["Content-Type: text/plain"], &with_bom);
    assert_refused(&result, "dlp-until-approved", "UTF-16 told by its BOM");
}

#[test]
fn a_document_is_an_upload_whatever_type_it_declares() {
    let (dir, _o, gw) = start();
    let docx = crate::dlp::docx_with("Minutes of the quarterly planning meeting.");
    for content_type in ["application/x-docx", "text/plain", "application/json", ""] {
        let header = format!("Content-Type: {content_type}");
        let result = send(&gw, dir.path(), &[&header], &docx);
        assert_refused(
            &result,
            "no-uploads-until-approved",
            &format!("a docx posted as {content_type:?}"),
        );
    }
    let clean = send(&gw, dir.path(), &["Content-Type: text/plain"], b"just text");
    assert_eq!(
        clean.status,
        200,
        "text is not an upload: {}",
        clean.body_text()
    );
}

#[test]
fn a_document_is_an_upload_even_when_the_policy_streams_bodies_unread() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[[rule]]\nid = \"no-uploads\"\nwhen = { app = \"claude\" }\naction = \"block_uploads\"\n\n\
         [[rule]]\nid = \"allow-claude\"\nwhen = { app = \"claude\" }\naction = \"allow\"\n",
    )
    .unwrap();
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections: format!("[policies]\nfiles = [\"{}\"]\n", policy.display()),
            ..Default::default()
        },
    );
    let mut docx = crate::dlp::docx_with("Minutes of the quarterly planning meeting.");
    docx.extend(std::iter::repeat_n(b' ', 64 * 1024));
    let result = send(&gw, dir.path(), &["Content-Type: text/plain"], &docx);
    assert_refused(&result, "no-uploads", "a docx posted as text/plain");
    let text = "a long plain prompt ".repeat(10_000);
    let clean = send(
        &gw,
        dir.path(),
        &["Content-Type: text/plain"],
        text.as_bytes(),
    );
    assert_eq!(
        clean.status,
        200,
        "text streams through: {}",
        clean.body_text()
    );
    assert_eq!(
        clean.body,
        text.as_bytes(),
        "every byte arrives, the sniffed head first"
    );
}

#[test]
fn a_multipart_file_named_with_filename_star_is_opened_and_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = crate::dlp::scanning_gateway(dir.path(), &origin);
    let post = |text: &str| {
        let docx = crate::dlp::docx_with(text);
        let mut body = b"--b\r\nContent-Disposition: form-data; name=\"file\"; \
            filename*=UTF-8''card.docx\r\nContent-Type: application/octet-stream\r\n\r\n"
            .to_vec();
        body.extend_from_slice(&docx);
        body.extend_from_slice(b"\r\n--b--\r\n");
        send(
            &gw,
            dir.path(),
            &["Content-Type: multipart/form-data; boundary=b"],
            &body,
        )
    };
    let clean = post("Minutes of the quarterly planning meeting.");
    assert_eq!(
        clean.status,
        200,
        "a clean document passes: {}",
        clean.body_text()
    );
    let secret = post(&format!("Refund card {CARD} today"));
    assert_refused(&secret, "scan-claude", "a docx named by filename*");
    assert!(gw.wait_for_log("dlp_detectors=credit_card", Duration::from_secs(3)));
}

#[test]
fn a_redact_rule_masks_the_card_as_a_number_and_under_a_duplicate_key() {
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
    let json = ["Content-Type: application/json"];
    let digits = CARD.replace(' ', "");
    let number = send(
        &gw,
        dir.path(),
        &json,
        format!("{{\"prompt\": \"pay\", \"card\": {digits}}}").as_bytes(),
    );
    assert_eq!(number.status, 200, "{}", number.body_text());
    let echoed: serde_json::Value = serde_json::from_slice(&number.body).unwrap();
    assert_eq!(echoed["card"], "[REDACTED:credit_card]");
    assert_eq!(echoed["prompt"], "pay");

    let duplicate = send(
        &gw,
        dir.path(),
        &json,
        format!("{{\"prompt\": \"card {CARD}\", \"prompt\": \"hello\"}}").as_bytes(),
    );
    assert_eq!(duplicate.status, 200, "{}", duplicate.body_text());
    assert!(
        !duplicate.body_text().contains(CARD),
        "{}",
        duplicate.body_text()
    );
    assert_eq!(duplicate.header("x-warden-redacted"), Some("credit_card"));

    // A body that cannot be rewritten safely is blocked rather than sent unmasked.
    let form = send(
        &gw,
        dir.path(),
        &["Content-Type: application/x-www-form-urlencoded"],
        format!("{{\"prompt\": \"card {CARD}\"}}").as_bytes(),
    );
    assert_refused(&form, "redact-claude", "mislabelled JSON under redact");
}

mod websocket {
    //! WebSocket frames a client crafts by hand, after a real handshake through the gateway.

    use std::time::Duration;

    use futures_util::{SinkExt, StreamExt};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_tungstenite::tungstenite::Message;

    use super::{start, CARD};
    use crate::streaming::websocket_with;

    /// A masked client frame whose first byte is `first` (FIN, RSV, opcode).
    fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
        assert!(payload.len() < 126);
        let mask = [0x37u8, 0xfa, 0x21, 0x3d];
        let mut out = vec![first, 0x80 | payload.len() as u8];
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        out
    }

    /// Opens a WebSocket to claude.ai (unreviewed), proves an echo works, sends `raw`, and
    /// returns every byte the app sent back until the connection ended (or 5 s passed).
    fn attack(raw: Vec<u8>, offer: &[(&'static str, &str)], expect_log: &str) -> Vec<u8> {
        attack_after(Vec::new(), raw, offer, expect_log)
    }

    /// [`attack`], first sending `prelude` and reading until its last frame's echo is back.
    fn attack_after(
        prelude: Vec<u8>,
        raw: Vec<u8>,
        offer: &[(&'static str, &str)],
        expect_log: &str,
    ) -> Vec<u8> {
        let (_d, _o, gw) = start();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let back = runtime.block_on(async {
            let (mut ws, response) = websocket_with(&gw, "claude.ai", offer).await;
            assert!(
                response.headers().get("sec-websocket-extensions").is_none(),
                "no extension is negotiated while messages are scanned"
            );
            ws.send(Message::text("hello there")).await.unwrap();
            let echoed = ws.next().await.unwrap().unwrap();
            assert_eq!(echoed.into_text().unwrap().as_str(), "hello there");
            let tls = ws.get_mut();
            let mut back = Vec::new();
            if !prelude.is_empty() {
                tls.write_all(&prelude).await.unwrap();
                tls.flush().await.unwrap();
                let read = async {
                    while !String::from_utf8_lossy(&back).contains("prelude done") {
                        let mut buf = [0u8; 1024];
                        let n = tls.read(&mut buf).await.unwrap();
                        assert!(n > 0, "the connection ended during the prelude");
                        back.extend_from_slice(&buf[..n]);
                    }
                };
                tokio::time::timeout(Duration::from_secs(5), read)
                    .await
                    .expect("the prelude's echo");
            }
            tls.write_all(&raw).await.unwrap();
            tls.flush().await.unwrap();
            let _ = tokio::time::timeout(Duration::from_secs(5), tls.read_to_end(&mut back)).await;
            back
        });
        assert!(
            gw.wait_for_log(expect_log, Duration::from_secs(3)),
            "{}",
            gw.log()
        );
        assert!(!gw.log().contains(CARD), "the card is never logged");
        back
    }

    fn assert_never_echoed(back: &[u8], what: &str) {
        let seen = String::from_utf8_lossy(back);
        assert!(
            !seen.contains(CARD),
            "{what} reached the app and came back: {seen:?}"
        );
    }

    #[test]
    fn a_binary_message_is_scanned() {
        let card = format!("card {CARD}");
        let back = attack(
            frame(0x82, card.as_bytes()),
            &[],
            "websocket message blocked by DLP",
        );
        assert_never_echoed(&back, "a binary message");
    }

    #[test]
    fn a_compressed_frame_is_refused_and_deflate_is_not_offered() {
        use std::io::Write;
        let mut deflate =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        deflate
            .write_all(format!("card {CARD}").as_bytes())
            .unwrap();
        let compressed = deflate.finish().unwrap();
        let back = attack(
            frame(0x80 | 0x40 | 0x01, &compressed),
            &[(
                "sec-websocket-extensions",
                "permessage-deflate; client_max_window_bits",
            )],
            "reserved bits set that were not negotiated",
        );
        assert_never_echoed(&back, "a compressed message");
    }

    #[test]
    fn a_continuation_with_no_start_is_a_protocol_error() {
        let card = format!("card {CARD}");
        let back = attack(
            frame(0x80, card.as_bytes()),
            &[],
            "a continuation frame with no message to continue",
        );
        assert_never_echoed(&back, "an orphan continuation");
    }

    #[test]
    fn a_ping_payload_is_scanned() {
        let card = format!("card {CARD}");
        // The app answers a ping when it next reads: a text message after it flushes the pong.
        let mut prelude = frame(0x89, b"clean ping");
        prelude.extend(frame(0x81, b"prelude done"));
        let back = attack_after(
            prelude,
            frame(0x89, card.as_bytes()),
            &[],
            "websocket message blocked by DLP",
        );
        assert!(
            String::from_utf8_lossy(&back).contains("clean ping"),
            "a clean ping reaches the app (its pong comes back)"
        );
        assert_never_echoed(&back, "a ping payload");
    }

    #[test]
    fn a_close_reason_is_scanned() {
        let mut payload = 1000u16.to_be_bytes().to_vec();
        payload.extend_from_slice(format!("card {CARD}").as_bytes());
        let back = attack(
            frame(0x88, &payload),
            &[],
            "websocket message blocked by DLP",
        );
        assert_never_echoed(&back, "a close reason");
    }

    /// A rule that only logs findings lets messages through (it said so before too, for text);
    /// binary noise is not read as code; the finding is logged without its content.
    #[test]
    fn a_logging_rule_lets_messages_through_and_binary_noise_is_not_code() {
        let dir = tempfile::tempdir().unwrap();
        let origin = crate::support::Origin::start(dir.path());
        let policy = dir.path().join("log.toml");
        std::fs::write(
            &policy,
            "version = \"ws-log\"\n[[rule]]\nid = \"log-claude\"\n\
             when = { app = \"claude\" }\naction = \"dlp\"\nprofile = \"default\"\n\
             on_match = \"log\"\n",
        )
        .unwrap();
        let gw = crate::support::GatewayProcess::start(
            &origin,
            crate::support::GatewayOptions {
                sections: format!("[policies]\nfiles = [\"{}\"]\n", policy.display()),
                ..Default::default()
            },
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (mut ws, _) = websocket_with(&gw, "claude.ai", &[]).await;
            let card = format!("card {CARD}");
            ws.send(Message::text(card.clone())).await.unwrap();
            let echoed = ws.next().await.unwrap().unwrap();
            assert_eq!(echoed.into_text().unwrap().as_str(), card);
            // Pseudo-random binary messages (a fixed LCG), as a binary protocol sends them.
            let mut x: u32 = 7;
            for _ in 0..20 {
                let noise: Vec<u8> = (0..4096)
                    .map(|_| {
                        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                        (x >> 16) as u8
                    })
                    .collect();
                ws.send(Message::binary(noise.clone())).await.unwrap();
                let echoed = ws.next().await.unwrap().unwrap();
                assert_eq!(echoed.into_data().as_ref(), noise.as_slice());
            }
        });
        assert!(
            gw.wait_for_log(
                "websocket message matched a logging DLP rule",
                Duration::from_secs(5)
            ),
            "{}",
            gw.log()
        );
        let log = gw.log();
        assert!(!log.contains("blocked by DLP"), "{log}");
        assert!(!log.contains("1488 0343"), "the card never reaches the log");
    }
}
