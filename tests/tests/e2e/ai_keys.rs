//! "How many AI API keys exist here?" (issue 21): the official `openai` SDK, configured with a
//! personal key and pointed at OpenAI's API through the proxy (`HTTPS_PROXY`, Warden's root
//! trusted), puts that key in the inventory as a fingerprint and its last four characters —
//! the key itself is nowhere in ClickHouse, the gateway's log or its metrics; the same key
//! used by two proxy users shows as shared on the report, the API and the dashboard page. A
//! refused AI API call is answered in the provider's own error format with the security
//! team's guidance, so the SDK raises its usual error with that text. An attacker's key
//! headers (huge, not UTF-8, repeated) are bounded and the request still goes through.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use schema::testkit::ClickHouseServer;
use serde_json::{json, Value};

use crate::aigw::{fixtures, python_with_sdks};
use crate::report::token;
use crate::support::gateway::{gatewayd, http_get};
use crate::support::{clickhouse_sql, curl, GatewayOptions, GatewayProcess, Origin};

/// A personal OpenAI project key (fake, the shape of a real one).
const PERSONAL_KEY: &str = "sk-proj-E2eInventoryQ7xW9zLm2Kp4R8tY6uI0oPaSdFgHjKl3Zc5V";
/// An Anthropic key only one user has.
const LONE_KEY: &str = "sk-ant-api03-E2eLoneKey5Tg7Yh9Uj1Ik3Ol5Pz7Xc9Vb1Nm3Qw5Er7";
/// The organisation's own OpenAI key, in the AI gateway's key store, leaked to a laptop.
const ORG_KEY: &str = "sk-svcacct-E2eOrgOwned8Hj2Kl4Mn6Bv8Cx0Za2Sd4Fg6Hj8Kl0Qw2Er4";
const GUIDANCE: &str = "Personal AI keys are not allowed. Use https://ai.example.internal/v1 \
                        with a virtual key from https://portal.example.internal/ai-keys";

/// A users file with alice and bob, both with the password `correct horse`.
pub(crate) fn two_users(dir: &std::path::Path) -> String {
    let path = crate::proxy_access::users_file(dir);
    let text = std::fs::read_to_string(&path).unwrap();
    let hash = text
        .lines()
        .find_map(|l| l.strip_prefix("password_hash = "))
        .unwrap()
        .to_string();
    std::fs::write(
        &path,
        format!("{text}\n[[user]]\nname = \"bob\"\npassword_hash = {hash}\ngroups = []\n"),
    )
    .unwrap();
    path
}

/// A master key file (0600) for `[keys] master_key = "file:..."`.
fn master_key_file(dir: &std::path::Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let out = Command::new(crate::support::tools::gatewayd_binary())
        .args(["keys", "master-key"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let path = dir.join("master.key");
    std::fs::write(&path, String::from_utf8(out.stdout).unwrap().trim()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// `gatewayd keys add NAME --provider P` with `value` on stdin, on `gw`'s state.
fn add_provider_key(gw: &GatewayProcess, name: &str, provider: &str, value: &str) {
    let mut child = Command::new(crate::support::tools::gatewayd_binary())
        .args(["keys", "add", name, "--provider", provider, "--config"])
        .arg(&gw.config_path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(value.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The official SDKs (tests/fixtures/aigw_clients.py) through `proxy`, trusting `gw`'s root.
fn sdk(gw: &GatewayProcess, proxy: &str, plans: &[Value]) -> Vec<Value> {
    let mut command = Command::new(python_with_sdks());
    command
        .arg(fixtures().join("aigw_clients.py"))
        .env("SSL_CERT_FILE", &gw.root_pem)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for name in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] {
        command.env_remove(name);
    }
    for name in ["ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"] {
        command.env_remove(name);
    }
    command.env("HTTPS_PROXY", proxy);
    let mut child = command.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(Value::Array(plans.to_vec()).to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "clients failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap()
}

fn openai_plan(key: &str) -> Value {
    json!({"sdk": "openai", "base": "https://api.openai.com", "key": key,
           "model": "gpt-4o-mini", "prompt": "Say hello"})
}

fn anthropic_plan(key: &str) -> Value {
    json!({"sdk": "anthropic", "base": "https://api.anthropic.com", "key": key,
           "model": "claude-3-5-haiku-latest", "prompt": "Say hello"})
}

/// `gatewayd report ai-keys --json` once it lists `keys` keys.
fn inventory(gw: &GatewayProcess, keys: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (code, out, err) = gatewayd(gw, &["report", "ai-keys", "--since", "1d", "--json"]);
        assert_eq!(code, 0, "{err}");
        let json: Value = serde_json::from_str(&out).unwrap();
        if json["keys"].as_array().is_some_and(|k| k.len() >= keys) {
            return json;
        }
        assert!(
            Instant::now() < deadline,
            "inventory never had {keys} keys: {out}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn key_row<'a>(report: &'a Value, last4: &str) -> &'a Value {
    report["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["last4"] == last4)
        .unwrap_or_else(|| panic!("no key ending {last4}: {report}"))
}

/// Every table of the `warden` database, dumped, must not hold `needle`.
pub(crate) fn assert_nowhere_in_clickhouse(clickhouse: &ClickHouseServer, needle: &str) {
    let url = clickhouse.http_url();
    let tables = clickhouse_sql(
        &url,
        "SELECT name FROM system.tables WHERE database = 'warden' AND engine != 'MaterializedView'",
    );
    let names: Vec<String> = tables.body_text().lines().map(str::to_owned).collect();
    assert!(names.iter().any(|n| n == "http_events"), "{names:?}");
    for name in names {
        let dump = clickhouse_sql(&url, &format!("SELECT * FROM warden.{name} FORMAT TSV"));
        assert!(
            !dump.body_text().contains(needle),
            "the key is in warden.{name}"
        );
    }
}

#[test]
fn personal_keys_through_the_proxy_are_inventoried_by_fingerprint_and_shared_ones_show() {
    let clickhouse = ClickHouseServer::start().expect("clickhouse-server starts");
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let users = two_users(dir.path());
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            listen: Some("0.0.0.0:0".into()),
            proxy: format!("allow_sources = [\"192.0.2.0/24\"]\nusers_file = \"{users}\"\n"),
            sections: format!(
                "[clickhouse]\nurl = \"{}\"\ndatabase = \"warden\"\n\
                 [events]\nflush_interval = \"200ms\"\n\
                 [keys]\nmaster_key = \"file:{}\"\n",
                clickhouse.http_url(),
                master_key_file(dir.path()).display()
            ),
            ..Default::default()
        },
    );
    let port = gw.proxy.port();
    let alice = format!("http://alice:correct%20horse@127.0.0.1:{port}");
    let bob = format!("http://bob:correct%20horse@127.0.0.1:{port}");

    let results = sdk(
        &gw,
        &alice,
        &[openai_plan(PERSONAL_KEY), anthropic_plan(LONE_KEY)],
    );
    assert_eq!(results[0]["text"], "hello from the origin", "{results:?}");
    let results = sdk(&gw, &bob, &[openai_plan(PERSONAL_KEY)]);
    assert_eq!(results[0]["text"], "hello from the origin", "{results:?}");

    // The organisation's key goes into the key store; a reload fingerprints it as ours, and
    // then it turns up on a laptop, sent to OpenAI directly.
    add_provider_key(&gw, "openai-prod", "openai", ORG_KEY);
    gw.signal("HUP");
    assert!(
        gw.wait_for_log("org_keys=1", Duration::from_secs(10)),
        "the reload did not fingerprint the key store: {}",
        gw.log()
    );
    let results = sdk(&gw, &alice, &[openai_plan(ORG_KEY)]);
    assert_eq!(results[0]["text"], "hello from the origin", "{results:?}");
    // Bob pastes alice's Anthropic key into a prompt: DLP finds it (and the default policy
    // stops it), and the finding carries the key's fingerprint.
    let mut pasted = openai_plan(PERSONAL_KEY);
    pasted["prompt"] = json!(format!("why does this key fail? {LONE_KEY}"));
    sdk(&gw, &bob, &[pasted]);

    let report = inventory(&gw, 3);
    let totals = &report["totals"];
    assert_eq!(totals["active_keys"], 3, "{report}");
    assert_eq!(totals["personal_keys"], 2, "{report}");
    assert_eq!(totals["org_managed_keys"], 1, "{report}");
    assert_eq!(totals["shared_keys"], 1, "{report}");
    assert_eq!(totals["new_this_week"], 3, "{report}");
    let lone_fingerprint = key_row(&report, &LONE_KEY[LONE_KEY.len() - 4..])["fingerprint"].clone();
    let deadline = Instant::now() + Duration::from_secs(20);
    let in_prompts = loop {
        let report = inventory(&gw, 3);
        let found = report["found_in_prompts"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if let Some(row) = found
            .into_iter()
            .find(|r| r["fingerprint"] == lone_fingerprint)
        {
            break row;
        }
        assert!(
            Instant::now() < deadline,
            "the pasted key is not linked: {report}"
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(in_prompts["in_inventory"], 1, "{in_prompts}");
    assert_eq!(in_prompts["users"], 1, "{in_prompts}");
    let org = key_row(&report, &ORG_KEY[ORG_KEY.len() - 4..]);
    assert_eq!(org["org_managed"], 1, "{org}");
    assert_eq!(org["kind"], "service_account", "{org}");
    let shared = key_row(&report, &PERSONAL_KEY[PERSONAL_KEY.len() - 4..]);
    assert_eq!(shared["provider"], "openai");
    assert_eq!(shared["kind"], "project");
    assert_eq!(shared["users"], 2, "{shared}");
    assert_eq!(shared["shared"], 1, "{shared}");
    // Whose: the people's names, so the security team knows whom to talk to.
    assert_eq!(shared["user_names"], json!(["alice", "bob"]), "{shared}");
    assert!(shared["requests"].as_u64().unwrap() >= 2, "{shared}");
    let fingerprint = shared["fingerprint"].as_str().unwrap().to_string();
    assert_eq!(fingerprint.len(), 32);
    assert!(fingerprint.bytes().all(|b| b.is_ascii_hexdigit()));
    let lone = key_row(&report, &LONE_KEY[LONE_KEY.len() - 4..]);
    assert_eq!(
        (&lone["provider"], &lone["kind"]),
        (&json!("anthropic"), &json!("api_key"))
    );
    assert_eq!(lone["shared"], 0, "{lone}");

    // The event of each call carries the same fingerprint, and who made it.
    let rows = clickhouse_sql(
        &clickhouse.http_url(),
        &format!(
            "SELECT user, ai_key_last4 FROM warden.http_events WHERE ai_key_fingerprint = \
             '{fingerprint}' ORDER BY user FORMAT TSV"
        ),
    );
    let rows = rows.body_text();
    let users: Vec<&str> = rows.lines().collect();
    assert!(users.iter().any(|l| l.starts_with("alice\t")), "{users:?}");
    assert!(users.iter().any(|l| l.starts_with("bob\t")), "{users:?}");

    // The API and the dashboard page answer the same.
    let analyst = token(&gw, "analyst", "keys-analyst");
    let base = format!("http://{}", gw.admin);
    let deadline = Instant::now() + Duration::from_secs(10);
    let api = loop {
        let (status, value) = crate::report::api(&gw, &analyst, "/api/v1/report/ai-keys?since=1d");
        if status == 200 {
            break value;
        }
        assert!(
            Instant::now() < deadline,
            "the daemon did not load the token: {value}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(api["totals"]["shared_keys"], 1, "{api}");
    assert!(
        api["keys"]
            .to_string()
            .contains("\"user_names\":[\"alice\",\"bob\"]"),
        "{api}"
    );
    let (code, text, err) = gatewayd(&gw, &["report", "ai-keys", "--since", "1d"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        text.contains("user_names") && text.contains("alice bob"),
        "{text}"
    );
    let jar = dir.path().join("cookies").display().to_string();
    let login = curl(&[
        "-c",
        &jar,
        "-d",
        &format!("token={analyst}"),
        &format!("{base}/login"),
    ]);
    assert_eq!(login.status, 303);
    let page = curl(&["-b", &jar, &format!("{base}/ai-keys?since=1d")]);
    assert_eq!(page.status, 200);
    let html = page.body_text();
    assert!(
        html.contains("Active AI keys") && html.contains("Shared keys"),
        "{html}"
    );
    assert!(
        html.contains(&fingerprint),
        "the page lists the key by fingerprint"
    );
    assert!(
        html.contains("user names") && html.contains("alice bob"),
        "the page says whose: {html}"
    );

    // The key itself: nowhere.
    assert!(html.contains("Org-managed keys used outside the AI gateway"));
    for needle in [
        PERSONAL_KEY,
        &PERSONAL_KEY[..PERSONAL_KEY.len() - 4],
        LONE_KEY,
        ORG_KEY,
    ] {
        assert_nowhere_in_clickhouse(&clickhouse, needle);
        assert!(
            !gw.log().contains(needle),
            "the key is in the gateway's log"
        );
        let (_, metrics) = http_get(gw.admin, "/metrics").unwrap();
        assert!(!metrics.contains(needle), "the key is in /metrics");
        assert!(!html.contains(needle), "the key is on the dashboard");
    }
}

#[test]
fn a_refused_ai_api_call_gets_the_guidance_in_the_sdks_own_error_format() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "version = \"keys-1\"\n\
         [[rule]]\nid = \"no-direct-openai\"\nwhen = { app = \"openai-api\" }\naction = \"block\"\n\
         [[rule]]\nid = \"no-direct-anthropic\"\nwhen = { app = \"anthropic-api\" }\naction = \"block\"\n\
         [[rule]]\nid = \"no-direct-gemini\"\nwhen = { app = \"google-ai-studio\" }\naction = \"block\"\n",
    )
    .unwrap();
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections: format!(
                "[policies]\nfiles = [\"{}\"]\n[ai_keys]\nguidance = \"{GUIDANCE}\"\n",
                policy.display()
            ),
            ..Default::default()
        },
    );
    let results = sdk(
        &gw,
        &gw.proxy_url(),
        &[openai_plan(PERSONAL_KEY), anthropic_plan(LONE_KEY)],
    );
    let openai = &results[0];
    assert_eq!(openai["ok"], false, "{openai}");
    assert_eq!(openai["error"], "PermissionDeniedError", "{openai}");
    assert_eq!(openai["status"], 403);
    // openai-python keeps the `error` object as the body; its message is the guidance.
    assert_eq!(openai["body"]["message"], GUIDANCE, "{openai}");
    assert_eq!(openai["body"]["code"], "blocked_by_policy");
    assert!(openai["message"].as_str().unwrap().contains(GUIDANCE));
    assert_eq!(openai["headers"]["x-warden-rule"], "no-direct-openai");
    let anthropic = &results[1];
    assert_eq!(anthropic["error"], "PermissionDeniedError", "{anthropic}");
    assert_eq!(
        anthropic["body"]["error"]["message"], GUIDANCE,
        "{anthropic}"
    );
    assert!(anthropic["message"].as_str().unwrap().contains(GUIDANCE));
    // Gemini's REST API (key in the query), with curl: Google's error shape. HTTP/1.1: over h2
    // a refusal that leaves the request body unread can end in a stream reset curl reports
    // (error 92) before it reads the answer, whatever the answer's shape.
    let root = gw.root_pem.display().to_string();
    let proxy = gw.proxy_url();
    let gemini = curl(&[
        "-x",
        &proxy,
        "--cacert",
        &root,
        "--http1.1",
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"contents":[{"parts":[{"text":"hi"}]}]}"#,
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent?key=AIzaSyE2eGeminiKey0123456789abcdefghij",
    ]);
    assert_eq!(
        gemini.status,
        403,
        "{} {}",
        gemini.body_text(),
        gemini.stderr
    );
    let body: Value = serde_json::from_str(&gemini.body_text()).unwrap();
    assert_eq!(body["error"]["code"], 403, "{body}");
    assert_eq!(body["error"]["status"], "PERMISSION_DENIED", "{body}");
    assert_eq!(body["error"]["message"], GUIDANCE, "{body}");
    assert_eq!(gemini.header("x-warden-rule"), Some("no-direct-gemini"));
    assert!(!gw.log().contains(PERSONAL_KEY));
}

/// One plain-HTTP request through the proxy, written byte for byte: (status, response).
fn raw_request(gw: &GatewayProcess, head_lines: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(gw.proxy).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let body = br#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
    let mut request = Vec::new();
    request.extend_from_slice(
        b"POST http://api.openai.com/v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n\
          Content-Type: application/json\r\nConnection: close\r\n",
    );
    request.extend_from_slice(head_lines);
    request.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    request.extend_from_slice(body);
    stream.write_all(&request).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

#[test]
fn an_attackers_key_headers_are_bounded_and_the_request_still_goes_through() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(&origin, GatewayOptions::default());
    let huge = format!("x-api-key: sk-ant-api03-{}\r\n", "A".repeat(8 * 1024));
    let mut not_utf8 = b"x-api-key: sk-ant-api03-\xff\xfe\xfd-not-text-at-all\r\n".to_vec();
    let mut many = Vec::new();
    for _ in 0..60 {
        many.extend_from_slice(b"Authorization: Bearer short\r\n");
    }
    // Past the headers read, a real key is never looked at.
    many.extend_from_slice(format!("Authorization: Bearer {PERSONAL_KEY}\r\n").as_bytes());
    let basic = base64::engine::general_purpose::STANDARD.encode("x:y");
    not_utf8.extend_from_slice(format!("X-Other: Basic {basic}\r\n").as_bytes());
    for head in [huge.as_bytes(), &not_utf8, &many] {
        let (status, text) = raw_request(&gw, head);
        assert_eq!(status, 200, "{}", &text[..text.len().min(400)]);
        assert!(text.contains("hello from the origin"), "{text}");
    }
    // A well-formed key afterwards is read as usual: the gateway is unharmed.
    let good = format!("Authorization: Bearer {PERSONAL_KEY}\r\n");
    let (status, _) = raw_request(&gw, good.as_bytes());
    assert_eq!(status, 200);
    let log = gw.log();
    let transactions: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("transaction") && l.contains("/v1/chat/completions"))
        .collect();
    assert_eq!(transactions.len(), 4, "{log}");
    let with_key = |line: &str| {
        line.split_whitespace()
            .find_map(|f| f.strip_prefix("ai_key="))
            .is_some_and(|v| v.trim_matches('"').len() == 32)
    };
    assert_eq!(
        transactions.iter().filter(|l| with_key(l)).count(),
        1,
        "only the well-formed key is fingerprinted: {transactions:?}"
    );
    assert!(!log.contains(PERSONAL_KEY));
}

#[test]
fn a_corrupt_fingerprint_secret_stops_the_start_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    let secret = state.join("ai-key-fingerprint.secret");
    std::fs::write(&secret, "not a secret\n").unwrap();
    let config = dir.path().join("gatewayd.toml");
    std::fs::write(
        &config,
        format!(
            "[proxy]\nlisten = \"127.0.0.1:0\"\n[admin]\nlisten = \"127.0.0.1:0\"\n\
             [state]\ndir = \"{}\"\n[clickhouse]\nurl = \"{}\"\n[events]\nenabled = false\n",
            state.display(),
            crate::support::gateway::NO_CLICKHOUSE
        ),
    )
    .unwrap();
    let mut child = Command::new(crate::support::tools::gatewayd_binary())
        .args(["run", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("gatewayd kept running on a corrupt fingerprint secret");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(!status.success());
    assert!(
        stderr.contains("ai-key-fingerprint.secret") && stderr.contains("not a fingerprint secret"),
        "{stderr}"
    );
    // Replacing it would change every fingerprint in the inventory: it is left as it was.
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "not a secret\n");
}
