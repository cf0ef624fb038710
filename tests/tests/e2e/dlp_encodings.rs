//! "The encodings left" (issue 17): under the default policy (an unreviewed app's prompts are
//! DLP-scanned), a card number split over JSON numbers, sent over four WebSocket messages or
//! one digit a message, or hidden in base64 of UTF-16 or of non-ASCII text, in base64 of
//! base64, percent-encoded inside base64, gzipped inside base64, or in base64 inside a JSON
//! string inside a JSON string is refused before it reaches the app, as the plain prompt is.
//! Encodings nested past the decode depth, and a gzip bomb, are unscannable: refused, never
//! taken for clean. Ordinary numeric JSON (embeddings, coordinates, timestamps, boxes) passes.

use std::io::Write;
use std::time::Duration;

use base64::Engine;

use crate::support::curl::CurlResult;
use crate::support::{curl, GatewayOptions, GatewayProcess, Origin};

const CARD: &str = "4556 7375 8689 9855";
const PROMPT_URL: &str = "https://chatgpt.com/backend-api/conversation";

fn start() -> (tempfile::TempDir, Origin, GatewayProcess) {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(&origin, GatewayOptions::default());
    (dir, origin, gw)
}

/// POSTs `body` as JSON through the gateway (from a file: bodies are large).
fn post_json(gw: &GatewayProcess, dir: &std::path::Path, name: &str, body: &str) -> CurlResult {
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, body).unwrap();
    let root = gw.root_pem.display().to_string();
    let proxy = gw.proxy_url();
    let data = format!("@{}", path.display());
    curl(&[
        "-x",
        &proxy,
        "--cacert",
        &root,
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        &data,
        PROMPT_URL,
    ])
}

/// Why `result` is not the refusal `rule` gives, if it is not: every case of a test is tried
/// and the misses listed together.
fn not_refused(result: &CurlResult, rule: &str, what: &str) -> Option<String> {
    let refused = result.status == 403
        && result.header("x-warden-rule") == Some(rule)
        && !result.body_text().contains("7375");
    (!refused).then(|| {
        format!(
            "{what}: {} {:?}",
            result.status,
            result.header("x-warden-rule")
        )
    })
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(bytes).unwrap();
    z.finish().unwrap()
}

#[test]
fn a_card_over_json_numbers_is_refused_and_numeric_json_passes() {
    let (dir, _o, gw) = start();
    let per_digit: Vec<String> = CARD
        .replace(' ', "")
        .chars()
        .enumerate()
        .map(|(i, c)| format!("\"d{i}\":{c}"))
        .collect();
    let cases = [
        (
            "four numeric members",
            r#"{"a":4556,"b":7375,"c":8689,"d":9855}"#.to_owned(),
        ),
        (
            "one digit a member",
            format!("{{\"n\":1,{}}}", per_digit.join(",")),
        ),
        (
            "an array of the groups",
            r#"{"n":[4556, 7375, 8689, 9855]}"#.to_owned(),
        ),
    ];
    let missed: Vec<String> = cases
        .iter()
        .filter_map(|(what, body)| {
            let result = post_json(&gw, dir.path(), "card", body);
            not_refused(&result, "dlp-until-approved", what)
        })
        .collect();
    assert!(missed.is_empty(), "reached the app: {missed:#?}");
    // Numeric JSON as AI apps send it.
    let embedding: Vec<String> = (0..512)
        .map(|i| format!("{:.8}", ((i * 7919) % 2000) as f64 / 1e5 - 0.01))
        .collect();
    let tokens: Vec<String> = (0..400)
        .map(|i| ((i * 48271) % 100_257).to_string())
        .collect();
    let times: Vec<String> = (0..100)
        .map(|i| (1_733_580_000 + 60 * i).to_string())
        .collect();
    let clean = [
        format!(r#"{{"model":"text-embedding-3-small","input":[{}]}}"#, tokens.join(",")),
        format!(r#"{{"embedding":[{}]}}"#, embedding.join(", ")),
        format!(r#"{{"t":[{}],"user":412345,"created":1733580000}}"#, times.join(",")),
        r#"{"box":{"x":412,"y":300,"w":512,"h":384},"coordinates":[[13.404954,52.520008],[2.352222,48.856613]]}"#.to_owned(),
    ];
    for (k, body) in clean.iter().enumerate() {
        let result = post_json(&gw, dir.path(), &format!("clean-{k}"), body);
        assert_eq!(result.status, 200, "clean body {k}: {}", result.body_text());
    }
}

#[test]
fn nested_and_non_ascii_encodings_are_refused_and_past_the_bounds_unscannable() {
    let (dir, _o, gw) = start();
    let b64 = base64::engine::general_purpose::STANDARD;
    let utf16: Vec<u8> = format!("номер карты {CARD}")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let inner = serde_json::json!({ "data": b64.encode(format!("card {CARD}")) }).to_string();
    let middle = serde_json::json!({ "inner": inner }).to_string();
    let cases = [
        ("base64 of UTF-16", b64.encode(&utf16)),
        (
            "base64 of Cyrillic text",
            b64.encode(format!("карта {CARD}, срок 12/29")),
        ),
        (
            "base64 of base64",
            b64.encode(b64.encode(format!("card {CARD}"))),
        ),
        (
            "percent-encoding in base64",
            b64.encode(format!("card {}", CARD.replace(' ', "%20"))),
        ),
        (
            "gzip in base64",
            b64.encode(gzip(format!("card {CARD}").as_bytes())),
        ),
        ("base64 in JSON in a JSON string", middle),
    ];
    let mut missed: Vec<String> = cases
        .iter()
        .filter_map(|(what, value)| {
            let body = serde_json::json!({ "prompt": value }).to_string();
            let result = post_json(&gw, dir.path(), "nested", &body);
            not_refused(&result, "dlp-until-approved", what)
        })
        .collect();
    // Four levels: past the decode depth.
    let mut deep = format!("card {CARD}");
    for _ in 0..4 {
        deep = b64.encode(deep);
    }
    // 32 MiB of digits in 43 KiB of base64: past the decode budget.
    let bomb = b64.encode(gzip(&vec![b'7'; 32 << 20]));
    for (what, value) in [("four levels of base64", deep), ("a gzip bomb", bomb)] {
        let body = serde_json::json!({ "prompt": value }).to_string();
        let result = post_json(&gw, dir.path(), "bounds", &body);
        missed.extend(not_refused(&result, "inspect.unscannable", what));
    }
    assert!(missed.is_empty(), "not refused: {missed:#?}");
    // Base64 of base64 of words: read and clean.
    let clean = serde_json::json!({ "prompt": b64.encode(b64.encode("hello, a quiet note with nothing in it")) });
    let result = post_json(&gw, dir.path(), "clean", &clean.to_string());
    assert_eq!(result.status, 200, "{}", result.body_text());
    assert!(!gw.log().contains("4556737586899855") && !gw.log().contains(CARD));
}

#[test]
fn a_card_over_many_websocket_messages_is_refused() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let (_dir, _o, gw) = start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Four groups in four messages, and one digit a message.
    let groups: Vec<String> = CARD.split(' ').map(str::to_owned).collect();
    let digits: Vec<String> = CARD.replace(' ', "").chars().map(String::from).collect();
    let mut missed = Vec::new();
    for (what, parts) in [("four messages", groups), ("a digit a message", digits)] {
        runtime.block_on(async {
            let (mut ws, _) = crate::streaming::websocket_with(&gw, "claude.ai", &[]).await;
            ws.send(Message::text("my card")).await.unwrap();
            let echoed = ws.next().await.unwrap().unwrap();
            assert_eq!(echoed.into_text().unwrap().as_str(), "my card");
            let (last, first) = parts.split_last().unwrap();
            for part in first {
                ws.send(Message::text(part.as_str())).await.unwrap();
                let echoed = ws.next().await.unwrap().unwrap();
                assert_eq!(echoed.into_text().unwrap().as_str(), part, "{what}");
            }
            let _ = ws.send(Message::text(last.as_str())).await;
            let next = tokio::time::timeout(Duration::from_secs(5), ws.next()).await;
            if let Ok(Some(Ok(Message::Text(t)))) = next {
                missed.push(format!("{what}: the last part reached the app: {t}"));
            }
        });
    }
    assert!(missed.is_empty(), "{missed:#?}");
    let blocked = gw.log().matches("websocket message blocked by DLP").count();
    assert_eq!(blocked, 2, "{}", gw.log());
    // A chat of small numbers is not a card.
    runtime.block_on(async {
        let (mut ws, _) = crate::streaming::websocket_with(&gw, "claude.ai", &[]).await;
        for n in 1..=40 {
            let text = n.to_string();
            ws.send(Message::text(text.as_str())).await.unwrap();
            let echoed = ws.next().await.unwrap().unwrap();
            assert_eq!(echoed.into_text().unwrap().as_str(), text);
        }
    });
}
