//! The AI gateway's holes an attacker and a new user found (issues 19/20, reviews of
//! 2026-12-07), each performed for real against gatewayd and the mock providers with curl
//! and raw sockets:
//! - a flood of wide JSON bodies (`[{},{},...]`, ~10x their size once parsed) stays within
//!   `aigw.max_body_memory` (RSS read from /proc), the rest answered 503 `overloaded`;
//! - a key's concurrency cap refuses a call before its body is read;
//! - `text/plain` and form bodies (the no-preflight CSRF vector) get 415;
//! - failed provider calls (401, unreachable) leave the budget as it was;
//! - `budget_exceeded` while a call is in flight names the window's real end;
//! - a foreign `Host` gets 421 (DNS rebinding);
//! - an unreachable provider is named with its host, the cause and the request id, and the
//!   log says the cause.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::aigw::{AiGateway, Extra, MockProvider};
use crate::support::tools::require;

const NO_EVENTS: &str = "[clickhouse]\nurl = \"http://127.0.0.1:1\"\n[events]\nenabled = false\n";

/// Output at $100 per million tokens, input free: `max_tokens = 9` reserves 900 µ$, and the
/// mock's 9 completion tokens cost exactly that.
const PRICES: &str = r#"
[[aigw.prices]]
provider = "openai"
model = "gpt-4o-mini"
input = 0.0
cached_input = 0.0
cache_write = 0.0
output = 100.0
checked = "2026-12-07"
"#;

/// The same price for the provider that refuses the gateway's key.
const BADKEY_PRICE: &str = r#"
[[aigw.prices]]
provider = "badkey"
model = "gpt-4o-mini"
input = 0.0
cached_input = 0.0
cache_write = 0.0
output = 100.0
checked = "2026-12-07"
"#;

/// An answer: status, headers (lower-case names) and body.
struct Answer {
    status: u16,
    headers: String,
    body: Value,
}

/// `curl -X POST` (or GET without a body) to the gateway with `headers`.
fn curl(gw: &AiGateway, path: &str, headers: &[String], body: Option<&str>) -> Answer {
    let curl = require("curl", "apt-get install -y curl");
    let mut cmd = Command::new(curl);
    cmd.args(["-s", "-D", "-", "-m", "30"])
        .arg(format!("http://{}{path}", gw.addr));
    for h in headers {
        cmd.args(["-H", h]);
    }
    if body.is_some() {
        cmd.args(["--data-binary", "@-"]);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(body.unwrap_or("").as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Answer {
        status,
        headers: head.to_ascii_lowercase(),
        body: serde_json::from_str(body).unwrap_or(Value::String(body.to_string())),
    }
}

fn bearer(key: &str) -> String {
    format!("Authorization: Bearer {key}")
}

const JSON: &str = "Content-Type: application/json";

fn chat(model: &str, prompt: &str) -> String {
    serde_json::json!({"model": model, "max_tokens": 9,
        "messages": [{"role": "user", "content": prompt}]})
    .to_string()
}

/// `gatewayd aigw budgets --json`'s row for `name`, once nothing is reserved.
fn settled_budget(gw: &mut AiGateway, name: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out: Value = serde_json::from_str(&gw.cli(&["aigw", "budgets", "--json"], "")).unwrap();
        let row = out["budgets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name && r["reserved"] == 0)
            .cloned();
        if let Some(row) = row {
            return row;
        }
        assert!(Instant::now() < deadline, "{name} never settled: {out}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_flood_of_wide_json_bodies_stays_within_the_body_memory_budget() {
    // The default aigw.max_body_memory: 256 MiB.
    let mut gw = AiGateway::start_with(NO_EVENTS);
    let key = gw.virtual_key(&["--name", "wide", "--user", "mallory"]);
    // The attack's body: 7.5 MB of `{}` (under max_body_bytes, 8 MiB), ~80 MB once parsed.
    let wide = format!(
        "{{\"model\":\"fast\",\"max_tokens\":9,\"messages\":[{{\"role\":\"user\",\"content\":\"hi\"}}],\"x\":[{}]}}",
        vec!["{}"; 2_500_000].join(",")
    );
    let file = gw.dir.path().join("wide.json");
    std::fs::write(&file, &wide).unwrap();
    let pid = gw.pid();
    let baseline = rss_kib(pid);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut peak = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(rss_kib(pid));
                std::thread::sleep(Duration::from_millis(10));
            }
            peak
        })
    };
    let curl_bin = require("curl", "apt-get install -y curl");
    let children: Vec<_> = (0..12)
        .map(|i| {
            Command::new(&curl_bin)
                .args(["-s", "-m", "120", "-D", "-", "-o"])
                .arg(gw.dir.path().join(format!("wide-{i}.out")))
                .arg(format!("http://{}/v1/chat/completions", gw.addr))
                // No `Expect: 100-continue`: the whole body is sent, as an attacker would.
                .args([
                    "-H",
                    &bearer(&key),
                    "-H",
                    JSON,
                    "-H",
                    "Expect:",
                    "--data-binary",
                ])
                .arg(format!("@{}", file.display()))
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let heads: Vec<String> = children
        .into_iter()
        .map(|c| String::from_utf8_lossy(&c.wait_with_output().unwrap().stdout).to_lowercase())
        .collect();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak = sampler.join().unwrap();
    let grown_mib = peak.saturating_sub(baseline) / 1024;
    eprintln!(
        "RSS {} MiB -> peak {} MiB (+{grown_mib} MiB)",
        baseline / 1024,
        peak / 1024
    );
    // Unbounded, 12 bodies took ~1.1 GB on the review's release build and +289 MiB on this
    // 2-core debug build (all 12 served). Bounded by the 256 MiB budget, where each body is
    // estimated at ~255 MB (about 2.5 times what it really takes): one parses at a time,
    // +105-112 MiB measured. Bound: 200 MiB.
    assert!(
        grown_mib < 200,
        "12 wide bodies grew RSS by {grown_mib} MiB (bound 200 MiB)"
    );
    let (mut ok, mut refused) = (0, 0);
    for (i, head) in heads.iter().enumerate() {
        let status = head.split_whitespace().nth(1).unwrap_or("");
        let body = std::fs::read_to_string(gw.dir.path().join(format!("wide-{i}.out")))
            .unwrap_or_default();
        match status {
            "200" => ok += 1,
            "503" => {
                refused += 1;
                assert!(head.contains("retry-after: 1"), "{head}");
                let body: Value = serde_json::from_str(&body).unwrap();
                assert_eq!(body["error"]["code"], "overloaded", "{body}");
                assert!(
                    body["error"]["message"]
                        .as_str()
                        .unwrap()
                        .contains("aigw.max_body_memory"),
                    "{body}"
                );
            }
            other => panic!("call {i}: {other}: {head}{body}"),
        }
    }
    assert!(ok >= 1 && refused >= 1, "{ok} served, {refused} refused");
    // The gateway serves on as before.
    let a = curl(
        &gw,
        "/v1/chat/completions",
        &[bearer(&key), JSON.into()],
        Some(&chat("fast", "hi")),
    );
    assert_eq!(a.status, 200, "{}", a.body);
}

#[test]
fn a_keys_concurrency_cap_refuses_before_the_body_is_read() {
    let mut gw = AiGateway::start_with(&format!(
        "{NO_EVENTS}[[aigw.limits]]\nname = \"one-at-a-time\"\nscope = \"key\"\nconcurrent = 1\n"
    ));
    let key = gw.virtual_key(&["--name", "busy", "--user", "mallory"]);
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: 7000000\r\n\r\n",
        gw.addr
    );
    // The first call holds the key's one slot while its body trickles in.
    let mut first = TcpStream::connect(gw.addr).unwrap();
    first.write_all(head.as_bytes()).unwrap();
    first.write_all(b"{\"model\":\"fast\",").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    // The second sends no body at all: refused at once, not after 7 MB or 60 s.
    let started = Instant::now();
    let mut second = TcpStream::connect(gw.addr).unwrap();
    second
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    second.write_all(head.as_bytes()).unwrap();
    let mut answer = vec![0; 4096];
    let n = second
        .read(&mut answer)
        .expect("an answer before any body byte");
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(answer.contains("rate_limit_exceeded"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5), "{answer}");
    drop(first);
}

#[test]
fn text_plain_and_form_bodies_are_refused_with_415() {
    let mut gw = AiGateway::start_with(NO_EVENTS);
    let key = gw.virtual_key(&["--name", "victim", "--user", "bob"]);
    let body = chat("fast", "hi from evil page");
    for (path, ct) in [
        (
            "/v1/chat/completions",
            "Content-Type: text/plain;charset=UTF-8",
        ),
        (
            "/v1/chat/completions",
            "Content-Type: application/x-www-form-urlencoded",
        ),
        (
            "/v1/messages",
            "Content-Type: multipart/form-data; boundary=x",
        ),
        ("/v1/embeddings", "Content-Type: text/plain"),
    ] {
        let a = curl(
            &gw,
            path,
            &[
                bearer(&key),
                ct.into(),
                "Origin: https://evil.example".into(),
            ],
            Some(&body),
        );
        assert_eq!(a.status, 415, "{path} {ct}: {}", a.body);
        let text = a.body.to_string();
        assert!(text.contains("Content-Type: application/json"), "{text}");
        if path == "/v1/messages" {
            assert_eq!(a.body["type"], "error", "Anthropic's shape: {text}");
        } else {
            assert_eq!(a.body["error"]["code"], "unsupported_media_type", "{text}");
        }
    }
    assert!(gw.openai.requests().is_empty() && gw.anthropic.requests().is_empty());
    let a = curl(
        &gw,
        "/v1/chat/completions",
        &[bearer(&key), JSON.into()],
        Some(&body),
    );
    assert_eq!(a.status, 200, "{}", a.body);
}

#[test]
fn failed_provider_calls_leave_the_budget_as_it_was() {
    let mut gw = AiGateway::start_extended(
        &format!(
            "{NO_EVENTS}{PRICES}{BADKEY_PRICE}[[aigw.budgets]]\nname = \"data-daily\"\nscope = \"team\"\n\
             match = \"data\"\nusd = 0.01\nwindow = \"day\"\n"
        ),
        |python, dir| {
            // A provider whose stored key the provider does not take: 401 on every call.
            let sub = dir.join("badkey");
            std::fs::create_dir(&sub).unwrap();
            let mock = MockProvider::start(python, &sub, "mock_openai.py", "sk-proj-TheRightOne12345678");
            Extra {
                config: format!(
                    "[[aigw.providers]]\nname = \"badkey\"\nkind = \"openai\"\n\
                     base_url = \"http://127.0.0.1:{}/v1\"\nkey = \"badkey-prod\"\n\
                     [[aigw.models]]\nname = \"bad-mini\"\nprovider = \"badkey\"\nmodel = \"gpt-4o-mini\"\n",
                    mock.port
                ),
                keys: vec![(
                    "badkey-prod".into(),
                    "openai".into(),
                    "sk-proj-TheWrongOne87654321".into(),
                )],
                mocks: vec![mock],
                ..Extra::default()
            }
        },
    );
    let key = gw.virtual_key(&["--name", "data-app", "--user", "dana", "--team", "data"]);
    for _ in 0..5 {
        let a = curl(
            &gw,
            "/v1/chat/completions",
            &[bearer(&key), JSON.into()],
            Some(&chat("bad-mini", "hi")),
        );
        assert_eq!(a.status, 502, "{}", a.body);
    }
    let row = settled_budget(&mut gw, "data-daily");
    assert_eq!(
        row["spent"], 0,
        "five calls the provider refused (401, no usage) cost nothing: {row}"
    );
    // One call that works is charged what the provider reported: exactly 900 µ$.
    let a = curl(
        &gw,
        "/v1/chat/completions",
        &[bearer(&key), JSON.into()],
        Some(&chat("fast", "hi")),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let row = settled_budget(&mut gw, "data-daily");
        if row["spent"] == 900 {
            break;
        }
        assert!(Instant::now() < deadline, "{row}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn budget_exceeded_with_a_call_in_flight_names_the_days_end() {
    // Room for one call's reservation (900 µ$), not two.
    let mut gw = AiGateway::start_with(&format!(
        "{NO_EVENTS}{PRICES}[[aigw.budgets]]\nname = \"tight-daily\"\nscope = \"all\"\n\
         usd = 0.0015\nwindow = \"day\"\n"
    ));
    let key = gw.virtual_key(&["--name", "app", "--user", "dana"]);
    let slow = {
        let (addr, key) = (gw.addr, key.clone());
        std::thread::spawn(move || {
            // "slow": the mock answers after 1.5 s, so this call's reservation is held.
            let mut s = TcpStream::connect(addr).unwrap();
            let body = chat("fast", "slow please");
            write!(
                s,
                "POST /v1/chat/completions HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            out
        })
    };
    std::thread::sleep(Duration::from_millis(600));
    let a = curl(
        &gw,
        "/v1/chat/completions",
        &[bearer(&key), JSON.into()],
        Some(&chat("fast", "hi")),
    );
    assert_eq!(a.status, 429, "{}", a.body);
    let message = a.body["error"]["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("T00:00:00Z") && message.contains("sooner"),
        "a daily budget resets at midnight UTC, not in a second: {message}"
    );
    assert!(slow.join().unwrap().starts_with("HTTP/1.1 200"));
}

#[test]
fn a_foreign_host_is_misdirected() {
    let mut gw = AiGateway::start_with_aigw(
        NO_EVENTS,
        "host = \"ai.warden.internal\"\nallowed_hosts = [\"ai-gateway.corp.example\"]",
    );
    let key = gw.virtual_key(&["--name", "k", "--user", "bob"]);
    let port = gw.addr.port();
    for (host, status) in [
        ("evil.example".to_string(), 421),
        (format!("evil.example:{port}"), 421),
        (format!("localhost:{port}"), 200),
        (format!("127.0.0.1:{port}"), 200),
        ("ai.warden.internal".to_string(), 200),
        ("AI-Gateway.corp.example.".to_string(), 200),
    ] {
        let a = curl(
            &gw,
            "/v1/models",
            &[bearer(&key), format!("Host: {host}")],
            None,
        );
        assert_eq!(a.status, status, "Host: {host}: {}", a.body);
        if status == 421 {
            assert_eq!(a.body["error"]["code"], "misdirected_host", "{}", a.body);
        }
    }
}

#[test]
fn an_unreachable_provider_is_named_with_its_host_cause_and_request_id() {
    let mut gw = AiGateway::start_extended(NO_EVENTS, |_, _| {
        Extra {
        config: "[[aigw.providers]]\nname = \"gone\"\nkind = \"openai\"\n\
                 base_url = \"http://127.0.0.1:9/v1\"\n\
                 [[aigw.models]]\nname = \"gone-mini\"\nprovider = \"gone\"\nmodel = \"gpt-4o-mini\"\n"
            .into(),
        ..Extra::default()
    }
    });
    let key = gw.virtual_key(&["--name", "k", "--user", "alice"]);
    let a = curl(
        &gw,
        "/v1/chat/completions",
        &[bearer(&key), JSON.into()],
        Some(&chat("gone-mini", "hi")),
    );
    assert_eq!(a.status, 502, "{}", a.body);
    let message = a.body["error"]["message"].as_str().unwrap();
    let id = a
        .headers
        .lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .unwrap()
        .trim()
        .to_string();
    assert!(
        message.contains("127.0.0.1:9")
            && message.contains("connection was refused")
            && message.contains(&id),
        "{message}"
    );
    let line = gw.call_line(&id);
    assert!(line.contains("unreachable_refused"), "{line}");
}

#[test]
fn the_ai_report_counts_identified_users_and_names_every_row() {
    let clickhouse = schema::testkit::ClickHouseServer::start().expect("clickhouse-server starts");
    let mut gw = AiGateway::start_with(&crate::aigw_spend::sections(&clickhouse));
    let key = gw.virtual_key(&["--name", "alice-laptop", "--user", "alice"]);
    // The new user's steps: a call by alias, a bogus key, the models list, an unknown model.
    let steps = [
        (
            bearer(&key),
            "/v1/chat/completions",
            Some(chat("fast", "hi")),
            200,
        ),
        (
            bearer("wvk_bogus"),
            "/v1/chat/completions",
            Some(chat("fast", "hi")),
            401,
        ),
        (bearer(&key), "/v1/models", None, 200),
        (
            bearer(&key),
            "/v1/chat/completions",
            Some(chat("gpt-4o", "hi")),
            404,
        ),
    ];
    for (auth, path, body, status) in &steps {
        let a = curl(&gw, path, &[auth.clone(), JSON.into()], body.as_deref());
        assert_eq!(a.status, *status, "{path}: {}", a.body);
    }
    crate::aigw_spend::rows(
        &clickhouse,
        "SELECT request_id FROM warden.ai_requests",
        steps.len(),
        Duration::from_secs(20),
    );
    let report: Value = serde_json::from_str(&gw.cli(&["report", "ai", "--json"], "")).unwrap();
    assert_eq!(
        crate::aigw_spend::num(&report["totals"]["users"]),
        1,
        "only alice is a user, not the caller with a bogus key: {report}"
    );
    for group in ["by_key", "by_team", "by_user", "by_model", "by_provider"] {
        for row in report[group].as_array().unwrap() {
            let name = row["name"].as_str().unwrap();
            assert!(
                !name.is_empty() && !name.starts_with('/'),
                "{group} has an unnamed row: {row}"
            );
            assert_ne!(name, "openai/fast", "{group}: the alias, not the model");
        }
    }
    let models: Vec<&str> = report["by_model"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(
        models.iter().any(|m| m.starts_with("openai/gpt-4o-mini"))
            && models.contains(&"(not routed)"),
        "{models:?}"
    );
    assert!(
        report["by_user"].to_string().contains("(unidentified)"),
        "{report}"
    );
}
