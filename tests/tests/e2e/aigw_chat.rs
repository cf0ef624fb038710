//! "I am not a developer and I want to use AI at work" (issue 21, the sanctioned chat page):
//! on her enrolled laptop, Alice opens ChatGPT, which her organisation has not approved; the
//! block page links to the company's own chat page at `https://ai.warden.internal/chat`. In
//! headless Chromium going through her device's agent (her identity, no key), she picks one
//! of the models the policy allows her, sends a message and watches the mock provider's
//! answer stream in; a message with a card number is blocked and the page says so in words;
//! so is an answer that holds one; markup in an answer shows as text; after a reload her conversation is still there — in
//! the browser's storage, and nowhere in the gateway's state dir.
//!
//! The attacks: the page's API without an identity (the gateway's own port, an anonymous
//! proxy client) is refused; a cross-site POST (another Origin, none, or the browser saying
//! cross-site) is refused before anything reaches a provider; a virtual key sent by the
//! browser does not stand in for an identity; and another site's form post to the gateway's
//! own `/v1/chat/completions` cannot ride on the person's identity either.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::aigw::{field, AiGateway};
use crate::support::agent::{agent_enroll, AgentProcess};
use crate::support::curl;
use crate::support::tools::{free_port, gatewayd_binary};
use crate::support::webdriver::Browser;

const AI_HOST: &str = "ai.warden.internal";
const PAGE: &str = "https://ai.warden.internal/chat";
const API: &str = "https://ai.warden.internal/chat/api/completions";
const CARD: &str = "4539 1488 0343 6467";
const LINK_TEXT: &str = "Use the company's approved AI chat instead:";

/// `[aigw]` lines: identity callers for one model, and the chat page.
fn chat_lines() -> String {
    format!(
        "host = \"{AI_HOST}\"\n\
         response_dlp = \"block\"\n\
         [aigw.identity]\nallow = true\nmodels = [\"gpt-4o-mini\"]\n\
         [aigw.chat]\nenabled = true\ntitle = \"Acme AI chat\"\n\
         notice = \"Do not paste customer data. <b>Really.</b>\"\n\
         block_page_text = \"{LINK_TEXT}\"\n"
    )
}

/// The gateway with its tunnel port, and an enrolled device's agent for `alice`.
fn gateway_and_agent() -> (AiGateway, AgentProcess) {
    let tunnel_port = free_port();
    let mut gw = AiGateway::start_full(
        "listen = \"127.0.0.1:0\"\n",
        &format!(
            "[clickhouse]\nurl = \"http://127.0.0.1:1\"\n[events]\nenabled = false\n\
             [tunnel]\nlisten = \"127.0.0.1:{tunnel_port}\"\n"
        ),
        &chat_lines(),
    );
    let tunnel = listen_addr(gw.dir.path(), "tunnel");
    let token = gw
        .cli(
            &[
                "devices",
                "enroll-token",
                "--user",
                "alice",
                "--groups",
                "ml",
            ],
            "",
        )
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string();
    let fingerprint = {
        use rustls_pki_types::pem::PemObject;
        use sha2::Digest;
        let der = rustls_pki_types::CertificateDer::from_pem_file(root_pem(&gw)).unwrap();
        sha2::Sha256::digest(der.as_ref())
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    let state = gw.dir.path().join("agent-state");
    let enrolled = agent_enroll(tunnel, &token, &fingerprint, &state);
    assert!(
        enrolled.status.success(),
        "{}",
        String::from_utf8_lossy(&enrolled.stderr)
    );
    let agent = AgentProcess::start(&state, &[]);
    agent.wait_connected(Duration::from_secs(10));
    (gw, agent)
}

fn listen_addr(dir: &Path, name: &str) -> std::net::SocketAddr {
    let text = std::fs::read_to_string(dir.join("state/listen.json")).unwrap();
    let listen: Value = serde_json::from_str(&text).unwrap();
    listen[name].as_str().unwrap().parse().unwrap()
}

fn root_pem(gw: &AiGateway) -> String {
    gw.dir
        .path()
        .join("state/ca/root.crt.pem")
        .display()
        .to_string()
}

/// SPKI hashes of the Warden root and intermediate, for Chromium to trust.
fn spki(gw: &AiGateway) -> String {
    let output = Command::new(gatewayd_binary())
        .args(["ca", "show", "--config", "gatewayd.toml"])
        .current_dir(gw.dir.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    let hashes: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("spki sha256 (base64): "))
        .map(str::to_owned)
        .collect();
    format!("--ignore-certificate-errors-spki-list={}", hashes.join(","))
}

/// Waits until the page's script is idle again (a message finished) and returns the source.
fn wait_idle(browser: &Browser) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let idle = browser.execute("return document.body.dataset.idle === '1';");
        if idle == Value::Bool(true) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the page did not finish:\n{}",
            browser.source()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn send(browser: &Browser, text: &str) {
    browser.fill("#prompt", text);
    browser.click("#send");
    std::thread::sleep(Duration::from_millis(100));
    wait_idle(browser);
}

/// The texts of the conversation's messages, in order.
fn messages(browser: &Browser) -> Vec<String> {
    let value = browser.execute(
        "return Array.from(document.querySelectorAll('#log .msg')).map(m => \
         m.className + '|' + m.querySelector('.text').textContent);",
    );
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// Every file under `dir`, read whole.
fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path.display().to_string(), bytes));
        }
    }
    out
}

#[test]
fn in_chromium_alice_chats_through_her_agent_sees_a_dlp_block_and_keeps_history_in_her_browser() {
    let (mut gw, agent) = gateway_and_agent();
    gw.cli(&["apps", "set-status", "chatgpt", "unapproved"], "");
    std::thread::sleep(Duration::from_millis(1500)); // the daemon notices the CLI's change
    let browser = Browser::start_args(
        Some(&agent.proxy_url()),
        None,
        &[spki(&gw), "--disable-quic".into()],
    );

    // The unapproved chat app's block page links to the sanctioned page, in the team's words.
    browser.goto("https://chatgpt.com/");
    let blocked = browser.text("#warden-sanctioned-chat");
    assert!(blocked.contains(LINK_TEXT), "{}", browser.source());
    browser.click("#warden-sanctioned-chat a");
    let deadline = Instant::now() + Duration::from_secs(10);
    while browser.url() != PAGE {
        assert!(
            Instant::now() < deadline,
            "not on the page: {}",
            browser.url()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // Server-rendered: her name, the notice escaped, only the models she may use.
    browser.find("body[data-ready='1']");
    assert_eq!(browser.text("h1"), "Acme AI chat");
    assert_eq!(browser.text("#user"), "alice");
    assert_eq!(
        browser.text("#notice"),
        "Do not paste customer data. <b>Really.</b>"
    );
    let models = browser.execute(
        "return Array.from(document.querySelectorAll('#model option')).map(o => o.value);",
    );
    assert_eq!(models, serde_json::json!(["gpt-4o-mini"]));

    // A message: the mock's answer streams in.
    send(&browser, "Say hello");
    let got = messages(&browser);
    assert_eq!(
        got,
        [
            "msg user|Say hello",
            "msg assistant|Bonjour, café ☕ from mock-openai"
        ],
        "{}",
        browser.source()
    );
    // Through the normal pipeline, streamed, as alice on her device, logged as the page's.
    let line = gw
        .log()
        .lines()
        .find(|l| l.contains("ai call") && l.contains("chat_page"))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no call line:\n{}", gw.log()));
    for (name, value) in [
        ("user", "alice"),
        ("team", "ml"),
        ("via", "agent"),
        ("identity", "device"),
        ("stream", "true"),
        ("status", "200"),
        ("model_asked", "gpt-4o-mini"),
    ] {
        assert_eq!(field(&line, name), value, "{name} in {line}");
    }

    // A long answer shows while it streams: part of it is on the page before the end.
    browser.fill("#prompt", "slow-stream please");
    browser.click("#send");
    let deadline = Instant::now() + Duration::from_secs(20);
    let partial = loop {
        let text = browser.execute(
            "const m = document.querySelectorAll('#log .msg.assistant .text'); \
             return m.length > 1 ? m[m.length - 1].textContent : '';",
        );
        let text = text.as_str().unwrap_or("").to_string();
        // (DLP on answers releases text once scanned: a first piece may be a space.)
        if !text.trim().is_empty() {
            break text;
        }
        assert!(Instant::now() < deadline, "no answer appeared");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        partial.trim_start().starts_with("word0") && !partial.contains(" word39"),
        "{partial:?}"
    );
    wait_idle(&browser);
    let streamed = messages(&browser);
    assert!(
        streamed.last().unwrap().ends_with(" word38 word39"),
        "{streamed:?}"
    );

    // A card number: blocked by the organisation's DLP, said in words, never sent.
    let asked = gw.openai.requests().len();
    send(&browser, &format!("Please check my card {CARD}"));
    let got = messages(&browser);
    assert_eq!(
        got.last().unwrap(),
        "msg user blocked|This message was blocked: it contains a card number.",
        "{got:?}"
    );
    // The text goes back into the box to be fixed, and is not kept in the history.
    let prompt = browser.execute("return document.getElementById('prompt').value;");
    assert!(prompt.as_str().unwrap().contains(CARD), "{prompt}");
    assert_eq!(
        gw.openai.requests().len(),
        asked,
        "the card reached the provider"
    );
    let stored = browser.execute("return JSON.stringify(window.localStorage);");
    assert!(!stored.as_str().unwrap().contains("4539"), "{stored}");

    // Markup in an answer is text: no element made, no script run.
    send(&browser, "html-answer please");
    let got = messages(&browser);
    assert!(
        got.last()
            .unwrap()
            .contains("<script>document.title='pwned2'</script>"),
        "{got:?}"
    );
    let injected = browser.execute(
        "return [document.querySelectorAll('#log img, #log script, #log b').length, document.title];",
    );
    assert_eq!(injected, serde_json::json!([0, "Acme AI chat · Warden"]));

    // An answer that holds a card number: cut by DLP on the answer, said in words.
    send(&browser, "leak-card please");
    let got = messages(&browser);
    assert_eq!(
        got.last().unwrap(),
        "msg assistant blocked|This answer was blocked: it contains a card number.",
        "{got:?}"
    );
    let stored = browser.execute("return JSON.stringify(window.localStorage);");
    assert!(!stored.as_str().unwrap().contains("4539"), "{stored}");

    // Reload: the conversation comes back from the browser's storage.
    browser.goto(PAGE);
    browser.find("body[data-ready='1']");
    let after = messages(&browser);
    assert_eq!(after.len(), 9, "{after:?}");
    assert_eq!(after[1], "msg assistant|Bonjour, café ☕ from mock-openai");
    assert_eq!(
        after[4],
        "msg user blocked|This message was blocked: it contains a card number."
    );
    assert_eq!(
        browser.execute("return document.querySelectorAll('#log img, #log script').length;"),
        serde_json::json!(0)
    );

    // Nothing of the conversation is on the gateway: not in its state dir, not in its log.
    for (path, bytes) in files_under(&gw.dir.path().join("state")) {
        let text = String::from_utf8_lossy(&bytes);
        for needle in ["Say hello", "Bonjour", "html-answer", "4539 1488", "pwned"] {
            assert!(!text.contains(needle), "{needle:?} in {path}");
        }
    }
    let log = gw.log();
    for needle in ["Say hello", "Bonjour", "4539 1488"] {
        assert!(!log.contains(needle), "{needle:?} in the gateway's log");
    }
    let _ = browser.screenshot("aigw-chat-page");
}

/// A POST to the page's API through `via` (a proxy URL, or none for the gateway's port with
/// `--resolve`), with `headers`.
fn post(
    gw: &AiGateway,
    via: Option<&str>,
    url: &str,
    headers: &[&str],
    body: &str,
) -> curl::CurlResult {
    let root = root_pem(gw);
    // HTTP/1.1: a refusal answered before the body was read ends an h2 stream with a reset,
    // which curl reports as an error (92) instead of the answer it already has.
    let mut args: Vec<String> = vec!["--http1.1".into()];
    if let Some(proxy) = via {
        args.extend(["-x".into(), proxy.into(), "--cacert".into(), root]);
    }
    for header in headers {
        args.extend(["-H".into(), (*header).into()]);
    }
    args.extend(["--data-binary".into(), body.into(), url.into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    curl::curl(&args)
}

#[test]
fn the_pages_api_refuses_callers_without_identity_and_cross_site_posts() {
    let (mut gw, agent) = gateway_and_agent();
    let via = agent.proxy_url();
    let body = r#"{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Say hello"}]}"#;
    let json = "Content-Type: application/json";
    let page_origin = "Origin: https://ai.warden.internal";

    // The page's own request, from Alice's device: served (the control).
    let ok = post(
        &gw,
        Some(&via),
        API,
        &[json, page_origin, "Sec-Fetch-Site: same-origin"],
        body,
    );
    assert_eq!(ok.status, 200, "{}", ok.body_text());
    assert!(ok.body_text().contains("mock-openai"), "{}", ok.body_text());
    assert_eq!(ok.header("access-control-allow-origin"), None);
    assert!(ok
        .header("content-security-policy")
        .is_some_and(|c| c.starts_with("default-src 'none'")));
    let asked = gw.openai.requests().len();

    // Cross-site: another site's page in her browser posting with her ambient identity.
    for headers in [
        vec![json, "Origin: https://evil.example"],
        vec![json],
        vec![json, "Origin: null"],
        vec![json, "Origin: http://ai.warden.internal"],
        vec![json, page_origin, "Sec-Fetch-Site: cross-site"],
        vec![json, page_origin, "Origin: https://evil.example"],
    ] {
        let refused = post(&gw, Some(&via), API, &headers, body);
        assert_eq!(refused.status, 403, "{headers:?}: {}", refused.body_text());
        assert!(
            refused.body_text().contains("cross-site request refused"),
            "{}",
            refused.body_text()
        );
    }
    // A form post (no preflight in a browser): not JSON, refused.
    let form = post(
        &gw,
        Some(&via),
        API,
        &["Content-Type: text/plain", page_origin],
        body,
    );
    assert_eq!(form.status, 400, "{}", form.body_text());
    assert_eq!(
        gw.openai.requests().len(),
        asked,
        "a refused post reached the provider"
    );

    // The same ambient identity on the gateway's own API: another site's form post is
    // refused there too, while a client that is not a browser (an SDK) is served.
    let v1 = "https://ai.warden.internal/v1/chat/completions";
    for headers in [
        vec![
            "Content-Type: text/plain",
            "Origin: https://evil.example",
            "Sec-Fetch-Site: cross-site",
        ],
        vec![json, "Sec-Fetch-Site: same-site"],
        vec![json, "Origin: https://evil.example"],
    ] {
        let refused = post(&gw, Some(&via), v1, &headers, body);
        assert_eq!(refused.status, 403, "{headers:?}: {}", refused.body_text());
        assert!(refused.body_text().contains("cross-site request refused"));
    }
    assert_eq!(
        gw.openai.requests().len(),
        asked,
        "a cross-site post reached the provider"
    );
    // Over HTTP/2 there is no Host header: a foreign Origin without Sec-Fetch-Site (an older
    // browser) is refused all the same (review 2, finding 11: it was served).
    let root = root_pem(&gw);
    let h2 = curl::curl(&[
        "--http2",
        "-x",
        &via,
        "--cacert",
        &root,
        "-H",
        json,
        "-H",
        "Origin: https://evil.example",
        "--data-binary",
        body,
        v1,
    ]);
    assert_eq!(h2.status, 403, "{}", h2.body_text());
    assert!(h2.body_text().contains("cross-site request refused"));
    let sdk_like = post(&gw, Some(&via), v1, &[json], body);
    assert_eq!(sdk_like.status, 200, "{}", sdk_like.body_text());
    let asked = gw.openai.requests().len();

    // Without identity: the gateway's own port (no proxy, no agent), even naming the host
    // and origin, and even with a virtual key — the page's API takes no credentials.
    let key = gw.virtual_key(&["--name", "stolen", "--user", "mallory"]);
    let port = gw.addr.port();
    let direct = format!("http://127.0.0.1:{port}/chat/api/completions");
    let host = format!("Host: {AI_HOST}");
    let bearer = format!("Authorization: Bearer {key}");
    for headers in [
        vec![json, page_origin, host.as_str()],
        vec![json, page_origin, host.as_str(), bearer.as_str()],
    ] {
        let refused = post(&gw, None, &direct, &headers, body);
        assert_eq!(refused.status, 401, "{}", refused.body_text());
    }
    // The page itself off the identified path says where to open it.
    let page = curl::curl(&[&format!("http://127.0.0.1:{port}/chat")]);
    assert_eq!(page.status, 401, "{}", page.body_text());
    assert!(page.body_text().contains("https://ai.warden.internal/chat"));

    // An anonymous client of the proxy port (loopback, no users file): not a person.
    let proxy = format!("http://{}", listen_addr(gw.dir.path(), "proxy"));
    let anonymous = post(&gw, Some(&proxy), API, &[json, page_origin], body);
    assert_eq!(
        anonymous.status,
        401,
        "{} {}\n{}",
        anonymous.body_text(),
        anonymous.stderr,
        gw.log()
    );
    assert!(
        anonymous.body_text().contains("did not identify a person"),
        "{}",
        anonymous.body_text()
    );
    assert_eq!(gw.openai.requests().len(), asked);
    drop(agent);
}
