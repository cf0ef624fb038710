//! Review 2's budget holes in the AI gateway, performed with curl against gatewayd and the
//! mock providers (issues 19/20):
//! - `n` multiplies what a call reserves (`n` × `max_tokens`), so `n = 8` no longer slips
//!   under a token budget that holds one answer, and `n` over 16 is refused with 400;
//! - a document given by URL reserves `aigw.url_document_reserve_tokens`, so a PDF by URL
//!   (billed per page) is refused under a small dollar budget that a text call fits in;
//! - provider-side tools (Anthropic `mcp_servers` and `web_fetch`, OpenAI
//!   `web_search_options`, Responses `web_search` / `mcp` tools) are refused with 400 naming
//!   the field, unless `aigw.allow_server_tools = true`;
//! - one address cannot take the port: past `aigw.max_connections_per_source` its
//!   connections get 503 while another address is served, and connections that send nothing
//!   are closed after `aigw.header_read_timeout`, both counted in /metrics;
//! - one key cannot hold the body-memory budget: while its large bodies trickle in, its
//!   further bodies are refused at once (503) and another key's call is served;
//! - a streamed answer's `delta.reasoning_content` (OpenAI-compatible servers) is scanned
//!   by response DLP like its content: an AWS key in it ends the stream with an error.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::aigw::AiGateway;
use crate::support::tools::require;

const NO_EVENTS: &str = "[clickhouse]\nurl = \"http://127.0.0.1:1\"\n[events]\nenabled = false\n";

/// POSTs `body` to the gateway's `path` with `headers`: the status and the JSON answer.
fn post(gw: &AiGateway, path: &str, headers: &[&str], body: &Value) -> (u16, Value) {
    let curl = require("curl", "apt-get install -y curl");
    let mut cmd = Command::new(curl);
    cmd.args([
        "-s",
        "-m",
        "30",
        "-w",
        "\n%{http_code}",
        "--data-binary",
        "@-",
    ])
    .arg(format!("http://{}{path}", gw.addr))
    .args(["-H", "content-type: application/json"]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(body.to_string().as_bytes()).unwrap();
    drop(stdin);
    let out = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
    let (answer, status) = out.rsplit_once('\n').unwrap();
    (
        status.trim().parse().unwrap(),
        serde_json::from_str(answer).unwrap_or(Value::String(answer.into())),
    )
}

#[test]
fn n_multiplies_the_reservation_and_a_large_n_is_refused() {
    let mut gw = AiGateway::start_with(&format!(
        "{NO_EVENTS}[[aigw.budgets]]\nname = \"tiny\"\nscope = \"user\"\nmatch = \"tina\"\n\
         tokens = 300\nwindow = \"day\"\n"
    ));
    let key = gw.virtual_key(&["--name", "tiny-app", "--user", "tina"]);
    let auth = format!("authorization: Bearer {key}");
    let call = |n: u64| {
        json!({"model": "fast", "n": n, "max_tokens": 40,
            "messages": [{"role": "user", "content": "hi"}]})
    };
    // One answer: ~100 bytes of input and 40 of output fit in 300 tokens.
    let (status, body) = post(&gw, "/v1/chat/completions", &[&auth], &call(1));
    assert_eq!(status, 200, "{body}");
    // Eight answers can bill 8 × 40 = 320 output tokens: more than the whole budget, refused
    // before the provider is called (the review saw this one admitted, reserving 40).
    let (status, body) = post(&gw, "/v1/chat/completions", &[&auth], &call(8));
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "budget_exceeded", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("this call alone could cost"), "{message}");
    // n = 128 (OpenAI's own cap) is refused as such, budget or not.
    let (status, body) = post(&gw, "/v1/chat/completions", &[&auth], &call(128));
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "n", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1 to 16"),
        "{body}"
    );
}

#[test]
fn a_document_by_url_reserves_its_configured_bound() {
    // $0.05 a day for Claude (the shipped price: $3 in, $15 out per million, $3.75 cache
    // writes): a text call reserves about 1 cent, a PDF by URL 300,000 tokens ($1.13).
    let mut gw = AiGateway::start_with(&format!(
        "{NO_EVENTS}[[aigw.budgets]]\nname = \"doc-team\"\nscope = \"team\"\nmatch = \"docs\"\n\
         usd = 0.05\nwindow = \"day\"\n"
    ));
    let key = gw.virtual_key(&["--name", "doc-app", "--user", "dora", "--team", "docs"]);
    let auth = format!("x-api-key: {key}");
    let version = "anthropic-version: 2023-06-01";
    let text = json!({"model": "claude", "max_tokens": 5,
        "messages": [{"role": "user", "content": "summarise"}]});
    let (status, body) = post(&gw, "/v1/messages", &[&auth, version], &text);
    assert_eq!(status, 200, "{body}");
    let by_url = json!({"model": "claude", "max_tokens": 5,
        "messages": [{"role": "user", "content": [
            {"type": "document", "source": {"type": "url", "url": "https://example.com/URLDOC.pdf"}},
            {"type": "text", "text": "summarise"}]}]});
    let (status, body) = post(&gw, "/v1/messages", &[&auth, version], &by_url);
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["type"], "error", "Anthropic's error shape: {body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("doc-team") && message.contains("this call alone could cost"),
        "{message}"
    );
}

#[test]
fn provider_side_tools_are_refused_unless_allowed() {
    let gw = AiGateway::start_with(NO_EVENTS);
    let mut gw = gw;
    let key = gw.virtual_key(&["--name", "tools-app", "--user", "mallory"]);
    let openai = format!("authorization: Bearer {key}");
    let anthropic = format!("x-api-key: {key}");
    let version = "anthropic-version: 2023-06-01";
    let hi = json!([{"role": "user", "content": "hi"}]);
    let cases = [
        (
            "/v1/messages",
            json!({"model": "claude", "max_tokens": 9, "messages": hi,
                "mcp_servers": [{"type": "url", "name": "meta",
                    "url": "http://169.254.169.254/latest", "authorization_token": "tok"}]}),
            "mcp_servers",
        ),
        (
            "/v1/messages",
            json!({"model": "claude", "max_tokens": 9, "messages": hi,
                "tools": [{"type": "web_fetch_20250910", "name": "web_fetch"}]}),
            "tools[0].type",
        ),
        (
            "/v1/chat/completions",
            json!({"model": "fast", "max_tokens": 9, "messages": hi, "web_search_options": {}}),
            "web_search_options",
        ),
        (
            "/v1/responses",
            json!({"model": "fast", "input": "hi", "tools": [
                {"type": "function", "name": "f", "parameters": {}},
                {"type": "mcp", "server_label": "x", "server_url": "https://evil.example/mcp"}]}),
            "tools[1].type",
        ),
        (
            "/v1/responses",
            json!({"model": "fast", "input": "hi", "tools": [{"type": "web_search"}]}),
            "tools[0].type",
        ),
    ];
    for (path, body, field) in &cases {
        let headers: Vec<&str> = if *path == "/v1/messages" {
            vec![&anthropic, version]
        } else {
            vec![&openai]
        };
        let (status, answer) = post(&gw, path, &headers, body);
        assert_eq!(status, 400, "{path} {field}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("aigw.allow_server_tools"),
            "{path} {field}: {answer}"
        );
        if *path != "/v1/messages" {
            assert_eq!(answer["error"]["param"], *field, "{answer}");
        }
        assert!(!answer.to_string().contains("169.254"), "{answer}");
    }
    // A caller's own function tool is not a server tool.
    let (status, answer) = post(
        &gw,
        "/v1/chat/completions",
        &[&openai],
        &json!({"model": "fast", "max_tokens": 9, "messages": hi, "tools": [
            {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]}),
    );
    assert_eq!(status, 200, "{answer}");
    // An operator who allows them lets them through.
    let mut open = AiGateway::start_with_aigw(NO_EVENTS, "allow_server_tools = true");
    let key = open.virtual_key(&["--name", "tools-app", "--user", "mallory"]);
    let (status, answer) = post(
        &open,
        "/v1/chat/completions",
        &[&format!("authorization: Bearer {key}")],
        &json!({"model": "fast", "max_tokens": 9, "messages": hi, "web_search_options": {}}),
    );
    assert_eq!(status, 200, "{answer}");
}

#[test]
fn one_address_cannot_take_the_port_and_silent_connections_are_closed() {
    let mut gw = AiGateway::start_with_aigw(
        NO_EVENTS,
        "max_connections_per_source = 4\nheader_read_timeout = \"2s\"",
    );
    let key = gw.virtual_key(&["--name", "flood", "--user", "mallory"]);
    // The attack: plain TCP connections from one address that send nothing.
    let idle: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(gw.addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut fifth = TcpStream::connect(gw.addr).unwrap();
    fifth
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut answer = String::new();
    let _ = fifth.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.contains("too many connections open from your address"),
        "{answer}"
    );
    // Another address (127.0.0.2, also loopback) is served meanwhile.
    let curl = require("curl", "apt-get install -y curl");
    let out = Command::new(curl)
        .args([
            "-s",
            "-m",
            "20",
            "--interface",
            "127.0.0.2",
            "-w",
            "\n%{http_code}",
        ])
        .args(["-H", "content-type: application/json", "-H"])
        .arg(format!("authorization: Bearer {key}"))
        .args([
            "--data-binary",
            r#"{"model":"fast","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}"#,
        ])
        .arg(format!("http://{}/v1/chat/completions", gw.addr))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.ends_with("\n200"), "{out}");
    // The silent connections are closed after the 2 s header deadline (the review saw one
    // open for 472 s).
    let started = Instant::now();
    for mut socket in idle {
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut buf = [0u8; 64];
        let n = socket.read(&mut buf).unwrap_or(usize::MAX);
        assert!(
            n == 0,
            "a silent connection got {n} bytes or was not closed"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "closed after {:?}",
        started.elapsed()
    );
    // Its share given back, the same address is served again.
    let mut again = TcpStream::connect(gw.addr).unwrap();
    again
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        again,
        "GET /v1/models HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n",
        gw.addr
    )
    .unwrap();
    let mut answer = String::new();
    let _ = again.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let listen: Value = serde_json::from_str(
        &std::fs::read_to_string(gw.dir.path().join("state/listen.json")).unwrap(),
    )
    .unwrap();
    let admin = listen["admin"].as_str().unwrap();
    let metrics = crate::support::curl(&[&format!("http://{admin}/metrics")]).body_text();
    assert!(
        metrics.contains("warden_aigw_connections_refused_total{reason=\"per_source\"} 1"),
        "{metrics}"
    );
    let silent = metrics
        .lines()
        .find_map(|l| l.strip_prefix("warden_aigw_connections_silent_closed_total "))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    assert!(silent >= 4, "silent closes counted: {silent}");
}

#[test]
fn one_key_cannot_hold_the_body_memory_budget() {
    let mut gw = AiGateway::start_with(NO_EVENTS);
    let hog = gw.virtual_key(&["--name", "hog", "--user", "mallory"]);
    let other = gw.virtual_key(&["--name", "other", "--user", "olga"]);
    // The attack: bodies that declare 7 MB (each held at the most they could take parsed,
    // ~180 MB of the default 256 MiB) and trickle in.
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {hog}\r\n\
         Content-Type: application/json\r\nContent-Length: 7000000\r\n\r\n{{\"model\":\"fast\",",
        gw.addr
    );
    let mut first = TcpStream::connect(gw.addr).unwrap();
    first.write_all(head.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let more: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut s = TcpStream::connect(gw.addr).unwrap();
            s.write_all(head.as_bytes()).unwrap();
            s
        })
        .collect();
    // Another key's call is served at once (before: it queued behind the hog's bodies for
    // the budget and was refused after 2 s, or took 12 s).
    let started = Instant::now();
    let (status, body) = post(
        &gw,
        "/v1/chat/completions",
        &[&format!("authorization: Bearer {other}")],
        &json!({"model": "fast", "max_tokens": 9, "messages": [{"role": "user", "content": "hi"}]}),
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    // The hog's further bodies are refused without waiting, naming its share.
    for mut s in more {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut answer = vec![0; 4096];
        let n = s.read(&mut answer).unwrap_or(0);
        let answer = String::from_utf8_lossy(&answer[..n]);
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(answer.contains("its share (a quarter)"), "{answer}");
    }
    drop(first);
}

#[test]
fn a_key_in_streamed_reasoning_content_is_blocked() {
    let mut gw =
        AiGateway::start_with_aigw(NO_EVENTS, &crate::aigw_response_dlp::response_dlp("block"));
    let key = gw.virtual_key(&["--name", "reasoner", "--user", "rita"]);
    let body = json!({"model": "fast", "stream": true, "max_tokens": 50,
        "messages": [{"role": "user", "content": "leak-aws in-reasoning"}]});
    let out = crate::aigw_response_dlp::curl(&gw, "/v1/chat/completions", &key, &body);
    crate::aigw_response_dlp::assert_none_of(
        crate::aigw_response_dlp::KEY_PARTS,
        &out,
        "the caller",
    );
    assert!(out.contains("response_dlp_blocked"), "{out}");
    // The control: the same stream without the secret arrives whole.
    let clean = json!({"model": "fast", "stream": true, "max_tokens": 50,
        "messages": [{"role": "user", "content": "hello in-reasoning"}]});
    let out = crate::aigw_response_dlp::curl(&gw, "/v1/chat/completions", &key, &clean);
    assert!(
        out.contains("reasoning_content") && out.contains("[DONE]"),
        "{out}"
    );
}
