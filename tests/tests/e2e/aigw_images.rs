//! "Images as URLs" for providers that take only bytes (issue 19): the official `openai` and
//! `anthropic` SDKs send an image by URL to Gemini and Bedrock through Warden; the gateway
//! fetches it (tests/fixtures/image_origin.py, reached through `[upstream] connect_to` as an
//! operator would map a host) and the provider receives the image's bytes inline, its type
//! sniffed from them. The attacks: the gateway as an SSRF vehicle — image URLs at loopback
//! (the origin itself, by IP and IPv4-mapped IPv6), cloud metadata, a private range, a
//! `file:` URL — and an origin that answers HTML, 6 MiB, a redirect, or nothing for 30 s.
//! Each is a 400 in the caller's dialect naming the field, within bounded time, and the
//! refused addresses are never dialled.

use base64::Engine as _;
use serde_json::{json, Value};

use crate::aigw::{field, gemini_and_bedrock, plan, with, AiGateway, Extra, MockProvider};

const GEMINI_KEY: &str = "AIzaSyMockGeminiKey4hT7pQ2wX9kL3mN8vR";
const BEDROCK_KEY: &str = "AKIAMOCKBEDROCK7Q2X:Bm0ckSecretAccessKey/9xQ2+Lp7Rt4Zw8Vn3Kd5HfYc";
const NO_EVENTS: &str = "[clickhouse]\nurl = \"http://127.0.0.1:1\"\n[events]\nenabled = false\n";
/// The PNG image_origin.py serves.
const PNG_B64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

fn extra(python: &std::path::Path, dir: &std::path::Path) -> Extra {
    let gemini = MockProvider::start(python, dir, "mock_gemini.py", GEMINI_KEY);
    let bedrock = MockProvider::start(python, dir, "mock_bedrock.py", BEDROCK_KEY);
    let origin = MockProvider::start(python, dir, "image_origin.py", "-");
    Extra {
        config: format!(
            "{}[upstream.connect_to]\n\"images.test:80\" = \"127.0.0.1:{}\"\n",
            gemini_and_bedrock(gemini.port, bedrock.port),
            origin.port
        ),
        keys: vec![
            ("gemini-prod".into(), "gemini".into(), GEMINI_KEY.into()),
            ("bedrock-prod".into(), "bedrock".into(), BEDROCK_KEY.into()),
        ],
        mocks: vec![gemini, bedrock, origin],
        ..Extra::default()
    }
}

fn openai_image(key: &str, model: &str, url: &str) -> Value {
    with(
        plan("openai", key, model, "what is this?"),
        "content",
        json!([{"type": "text", "text": "what is this?"}, {"type": "image_url", "image_url": {"url": url}}]),
    )
}

fn anthropic_image(key: &str, model: &str, url: &str) -> Value {
    with(
        plan("anthropic", key, model, "what is this?"),
        "content",
        json!([{"type": "image", "source": {"type": "url", "url": url}}, {"type": "text", "text": "what is this?"}]),
    )
}

/// The last request body a mock received.
fn last_body(mock: &MockProvider) -> Value {
    let requests = mock.requests();
    let last = requests.last().expect("the provider got a request");
    serde_json::from_str(last["body"].as_str().unwrap()).unwrap()
}

#[test]
fn images_by_url_reach_gemini_and_bedrock_inline_and_the_fetcher_is_no_ssrf_vehicle() {
    let mut gw = AiGateway::start_extended(NO_EVENTS, extra);
    let key = gw.virtual_key(&["--name", "dev", "--user", "dana"]);
    let origin_port = gw.extra[2].port;
    let png = base64::engine::general_purpose::STANDARD
        .decode(PNG_B64)
        .unwrap();

    // Served: the provider gets the bytes, typed by what they are.
    let ok = gw.clients(vec![openai_image(
        &key,
        "gem",
        "http://images.test/cat.png",
    )]);
    assert_eq!(ok[0]["ok"], true, "{}", ok[0]);
    let sent = last_body(&gw.extra[0]);
    let inline = &sent["contents"][0]["parts"][1]["inlineData"];
    assert_eq!(inline["mimeType"], "image/png", "{sent}");
    assert_eq!(inline["data"], PNG_B64, "{sent}");

    let ok = gw.clients(vec![openai_image(
        &key,
        "haiku-bedrock",
        "http://images.test/disguised.bin",
    )]);
    assert_eq!(ok[0]["ok"], true, "{}", ok[0]);
    let sent = last_body(&gw.extra[1]);
    let image = &sent["messages"][0]["content"][1]["image"];
    assert_eq!(image["format"], "png", "{sent}");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(image["source"]["bytes"].as_str().unwrap())
        .unwrap();
    assert_eq!(bytes, png, "Bedrock got the image's own bytes");

    let ok = gw.clients(vec![anthropic_image(
        &key,
        "gem",
        "http://images.test/cat.png",
    )]);
    assert_eq!(ok[0]["ok"], true, "{}", ok[0]);
    let sent = last_body(&gw.extra[0]);
    assert_eq!(
        sent["contents"][0]["parts"][0]["inlineData"]["data"], PNG_B64,
        "{sent}"
    );

    // Refused: each a 400 naming the field and why, in the caller's dialect.
    let param = "messages[0].content[1].image_url.url";
    let cases = [
        (
            format!("http://127.0.0.1:{origin_port}/cat.png?via=loopback"),
            "loopback",
        ),
        (
            format!("http://[::ffff:127.0.0.1]:{origin_port}/cat.png?via=mapped"),
            "loopback",
        ),
        (
            "http://169.254.169.254/latest/meta-data/".into(),
            "link-local",
        ),
        ("http://10.20.30.40/cat.png".into(), "private"),
        ("file:///etc/passwd".into(), "only http and https"),
        (
            "http://images.test/page.html".into(),
            "not a PNG, JPEG, GIF or WebP",
        ),
        ("http://images.test/big.png".into(), "larger than"),
        ("http://images.test/moved.png".into(), "redirects"),
    ];
    let plans: Vec<Value> = cases
        .iter()
        .enumerate()
        .map(|(i, (url, _))| {
            openai_image(&key, if i % 2 == 0 { "gem" } else { "haiku-bedrock" }, url)
        })
        .collect();
    let results = gw.clients(plans);
    for ((url, why), r) in cases.iter().zip(&results) {
        assert_eq!(r["status"], 400, "{url}: {r}");
        assert_eq!(r["error"], "BadRequestError", "{url}: {r}");
        assert_eq!(r["body"]["param"], param, "{url}: {r}");
        assert!(
            r["message"].as_str().unwrap().contains(why),
            "{url}: the error says why ({why}): {r}"
        );
    }
    let anthropic = gw.clients(vec![anthropic_image(
        &key,
        "haiku-bedrock",
        "http://169.254.169.254/latest/meta-data/iam/",
    )]);
    let r = &anthropic[0];
    assert_eq!(r["status"], 400, "{r}");
    assert_eq!(r["body"]["error"]["type"], "invalid_request_error", "{r}");
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("messages[0].content[0].source.url"),
        "{r}"
    );
    // The refused addresses were never dialled: the origin saw no request by its loopback
    // address, and neither provider got any of the refused calls.
    let seen: Vec<String> = gw.extra[2]
        .requests()
        .iter()
        .map(|r| r["path"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !seen.iter().any(|p| p.contains("via=")),
        "a refused address was fetched: {seen:?}"
    );
    assert_eq!(
        gw.extra[0].requests().len(),
        2,
        "Gemini got only the two good calls"
    );
    assert_eq!(
        gw.extra[1].requests().len(),
        1,
        "Bedrock got only the good call"
    );

    // An origin that never answers: refused at the fetch's bound (10 s), not hung. The
    // gateway's own latency for the call says so (the SDK's clock includes Python's start).
    let slow = gw.clients(vec![openai_image(
        &key,
        "gem",
        "http://images.test/slow.png",
    )]);
    assert_eq!(slow[0]["status"], 400, "{}", slow[0]);
    assert!(
        slow[0]["message"].as_str().unwrap().contains("within 10 s"),
        "{}",
        slow[0]
    );
    let id = slow[0]["headers"]["x-request-id"].as_str().unwrap();
    let latency: u64 = field(&gw.call_line(id), "latency_ms").parse().unwrap();
    assert!((10_000..12_000).contains(&latency), "latency {latency} ms");
}
