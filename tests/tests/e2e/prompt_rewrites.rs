//! "A card rewritten is still a card" (attack review, item 3): under the default policy (an
//! unreviewed app's prompts are DLP-scanned), a card number written with other separators,
//! one digit at a time, in full-width or other Unicode digits, as HTML character references,
//! in base64, in the URL path, in a cookie, split over two JSON fields or over two WebSocket
//! messages is refused before it reaches the app, as the plain prompt is; and a card in the
//! URL path is never stored in full in `http_events.path` (nor logged).

use std::time::{Duration, Instant};

use schema::testkit::ClickHouseServer;

use crate::support::curl::CurlResult;
use crate::support::{clickhouse_sql, curl, GatewayOptions, GatewayProcess, Origin};

const CARD: &str = "4556737586899855";
const PROMPT_URL: &str = "https://chatgpt.com/backend-api/conversation";

fn proxied(gw: &GatewayProcess, extra: &[&str]) -> CurlResult {
    let root = gw.root_pem.display().to_string();
    let proxy = gw.proxy_url();
    let mut args = vec!["-x", proxy.as_str(), "--cacert", root.as_str()];
    args.extend_from_slice(extra);
    curl(&args)
}

fn post_json(gw: &GatewayProcess, body: &str) -> CurlResult {
    proxied(
        gw,
        &[
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            body,
            PROMPT_URL,
        ],
    )
}

/// Refused by the default rule, and the app's echo of the request never came back.
fn assert_refused(result: &CurlResult, what: &str) {
    assert_eq!(result.status, 403, "{what}: {}", result.body_text());
    assert_eq!(
        result.header("x-warden-rule"),
        Some("dlp-until-approved"),
        "{what}"
    );
    let body = result.body_text();
    for needle in [
        "7375",
        "NDU1Nj",
        "&#52;556",
        "\u{FF17}\u{FF13}\u{FF17}\u{FF15}",
    ] {
        assert!(!body.contains(needle), "{what}: {needle} came back: {body}");
    }
}

fn full_width(digits: &str) -> String {
    digits
        .chars()
        .map(|c| {
            c.to_digit(10)
                .and_then(|d| char::from_u32(0xFF10 + d))
                .unwrap_or(c)
        })
        .collect()
}

#[test]
fn rewritten_cards_in_a_prompt_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(&origin, GatewayOptions::default());
    let spaced_digits: Vec<String> = CARD.chars().map(String::from).collect();
    let per_field: Vec<String> = CARD
        .chars()
        .enumerate()
        .map(|(i, c)| format!("\"d{i}\":\"{c}\""))
        .collect();
    let cases: Vec<(&str, String)> = vec![
        ("slashes", r#"{"prompt":"4556/7375/8689/9855"}"#.into()),
        ("underscores", r#"{"prompt":"4556_7375_8689_9855"}"#.into()),
        (
            "one digit at a time",
            format!(r#"{{"prompt":"{}"}}"#, spaced_digits.join(" ")),
        ),
        (
            "full-width digits",
            format!(r#"{{"prompt":"{}"}}"#, full_width(CARD)),
        ),
        (
            "HTML character references",
            r#"{"prompt":"<p>&#52;556 7375 8689 9855</p>"}"#.into(),
        ),
        (
            "base64 of the text",
            r#"{"prompt":"NDU1NiA3Mzc1IDg2ODkgOTg1NQ=="}"#.into(),
        ),
        (
            "a base64 data: URL",
            r#"{"file":"data:text/plain;base64,NDU1NjczNzU4Njg5OTg1NQ=="}"#.into(),
        ),
        (
            "split across two fields",
            r#"{"a":"card 4556 7375","b":"8689 9855"}"#.into(),
        ),
        (
            "split inside a group",
            r#"{"a":"card 4556737","b":"586899855"}"#.into(),
        ),
        (
            "one digit per field",
            format!("{{{}}}", per_field.join(",")),
        ),
    ];
    for (what, body) in &cases {
        assert_refused(&post_json(&gw, body), what);
    }
    let cookie = proxied(
        &gw,
        &[
            "-H",
            &format!("Cookie: n={CARD}"),
            "https://chatgpt.com/backend-api/me",
        ],
    );
    assert_refused(&cookie, "a cookie value");

    // Clean near-misses still pass: a session cookie, dates, counting, ordinary base64.
    let clean = proxied(
        &gw,
        &[
            "-H",
            "Cookie: session=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc; theme=dark",
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            r#"{"prompt":"on 2026/12/07 count 1 2 3 4 5 6 7 8 9 10, see SGVsbG8gd29ybGQsIHRoaXMgaXMgYmFzZTY0","w":"1920","h":"1080"}"#,
            PROMPT_URL,
        ],
    );
    assert_eq!(clean.status, 200, "clean: {}", clean.body_text());
    assert!(!gw.log().contains(CARD), "never logged in full");
}

#[test]
fn two_websocket_messages_holding_one_card_are_refused() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(&origin, GatewayOptions::default());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (mut ws, _) = crate::streaming::websocket_with(&gw, "claude.ai", &[]).await;
        ws.send(Message::text("my card is 4556 7375"))
            .await
            .unwrap();
        let echoed = ws.next().await.unwrap().unwrap();
        assert_eq!(echoed.into_text().unwrap().as_str(), "my card is 4556 7375");
        let _ = ws.send(Message::text("8689 9855")).await;
        let next = tokio::time::timeout(Duration::from_secs(5), ws.next()).await;
        if let Ok(Some(Ok(Message::Text(t)))) = next {
            assert!(!t.contains("8689"), "the second half reached the app: {t}");
        }
    });
    assert!(
        gw.wait_for_log("websocket message blocked by DLP", Duration::from_secs(3)),
        "{}",
        gw.log()
    );
}

#[test]
fn a_card_in_the_url_path_is_refused_and_never_stored_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let clickhouse = ClickHouseServer::start().expect("clickhouse-server starts");
    let sections = format!(
        "[clickhouse]\nurl = \"{}\"\ndatabase = \"warden\"\n\n\
         [events]\nflush_interval = \"200ms\"\nbatch_size = 1000\ninsert_timeout = \"3s\"\n",
        clickhouse.http_url()
    );
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections,
            ..Default::default()
        },
    );
    let path = proxied(&gw, &[&format!("https://chatgpt.com/backend-api/{CARD}")]);
    assert_refused(&path, "the URL path");
    let split = proxied(
        &gw,
        &["https://chatgpt.com/backend-api/4556/7375/8689/9855"],
    );
    assert_refused(&split, "the URL path, one group a segment");
    let encoded = proxied(&gw, &["https://chatgpt.com/x/4556%207375%208689%209855"]);
    assert_refused(&encoded, "the URL path, percent-encoded");

    let sql = "SELECT count() FROM warden.http_events WHERE host = 'chatgpt.com'";
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = clickhouse_sql(&clickhouse.http_url(), sql);
        if got.status == 200 && got.body_text().trim() == "3" {
            break;
        }
        assert!(Instant::now() < deadline, "events: {}", got.body_text());
        std::thread::sleep(Duration::from_millis(200));
    }
    let paths = clickhouse_sql(
        &clickhouse.http_url(),
        "SELECT path FROM warden.http_events WHERE host = 'chatgpt.com' ORDER BY path",
    );
    let paths = paths.body_text();
    assert!(
        paths.contains("/backend-api/4556"),
        "the path is kept, masked: {paths}"
    );
    for leak in [CARD, "7375/8689", "7375%208689", "7375 8689"] {
        assert!(!paths.contains(leak), "{leak} stored in full: {paths}");
    }
    let log = gw.log();
    assert!(
        !log.contains(CARD) && !log.contains("7375/8689"),
        "never logged in full"
    );
}
