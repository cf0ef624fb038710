//! "Employees on enrolled devices use AI with no key" (issue 19, where the AI gateway lives and
//! who is calling): the official `openai` SDK, configured only with `HTTPS_PROXY` pointing at
//! Warden (or at the device's agent), Warden's root trusted, and
//! `base_url=https://ai.warden.internal/v1`, is served by the AI gateway in-process under the
//! proxy user's (or the enrolled device's user's) name — no virtual key — and the row and the
//! log line say so; a client the proxy refuses is refused here too; a virtual key on that path
//! still wins. The AI gateway's own port speaks TLS with a Warden-minted certificate, and
//! plain HTTP to it is told to use https://. With the AI gateway off the name gets a clear
//! answer and nothing is dialled.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use schema::testkit::ClickHouseServer;
use serde_json::{json, Value};

use crate::aigw::{field, fixtures, python_with_sdks, AiGateway};
use crate::proxy_access::users_file;
use crate::support::agent::{agent_enroll, AgentProcess};
use crate::support::{clickhouse_sql, curl, GatewayOptions, GatewayProcess, Origin};

const AI_HOST: &str = "ai.warden.internal";

/// `[aigw]` lines: the name on the proxy path, identity callers allowed for one model.
const ACCESS: &str = "host = \"ai.warden.internal\"\n\
                      [aigw.identity]\nallow = true\nmodels = [\"gpt-4o-mini\"]\n\
                      tags = [\"proxied\"]\n";

pub(crate) fn listen_addr(dir: &Path, name: &str) -> SocketAddr {
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

/// The official SDK (tests/fixtures/aigw_clients.py) against `base`, through `proxy` when
/// given, trusting Warden's root: one result per plan.
pub(crate) fn sdk(gw: &AiGateway, base: &str, proxy: Option<&str>, plans: &[Value]) -> Vec<Value> {
    let plans: Vec<Value> = plans
        .iter()
        .map(|p| {
            let mut p = p.clone();
            p["base"] = json!(base);
            p
        })
        .collect();
    let mut command = Command::new(python_with_sdks());
    command
        .arg(fixtures().join("aigw_clients.py"))
        .env("SSL_CERT_FILE", root_pem(gw))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for name in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        command.env_remove(name);
    }
    if let Some(proxy) = proxy {
        command.env("HTTPS_PROXY", proxy);
    }
    let mut child = command.spawn().unwrap();
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        Value::Array(plans.clone()).to_string().as_bytes(),
    )
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

fn chat(key: &str, model: &str) -> Value {
    json!({"sdk": "openai", "key": key, "model": model, "prompt": "Say hello"})
}

pub(crate) fn ai_row(clickhouse: &ClickHouseServer, request_id: &str) -> Value {
    let sql = format!(
        "SELECT user, team, tags, virtual_key_id, ingress_path, identity_source, device_id, \
         status FROM warden.ai_requests WHERE request_id = '{request_id}' FORMAT JSONEachRow"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = clickhouse_sql(&clickhouse.http_url(), &sql);
        if let Some(row) = got
            .body_text()
            .lines()
            .find_map(|l| serde_json::from_str::<Value>(l).ok())
        {
            return row;
        }
        assert!(
            Instant::now() < deadline,
            "no ai_requests row for {request_id}: {}",
            got.body_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_openai_sdk_through_the_proxy_calls_as_the_proxy_user_with_no_key() {
    let clickhouse = ClickHouseServer::start().expect("clickhouse-server starts");
    let dir = tempfile::tempdir().unwrap();
    let users = users_file(dir.path());
    // Listening on all addresses: the loopback client must authenticate to the proxy.
    let proxy_lines = format!(
        "listen = \"0.0.0.0:0\"\nallow_sources = [\"192.0.2.0/24\"]\nusers_file = \"{users}\"\n"
    );
    let sections = format!(
        "[clickhouse]\nurl = \"{}\"\ndatabase = \"warden\"\n\
         [events]\nflush_interval = \"200ms\"\nbatch_size = 1000\ninsert_timeout = \"3s\"\n",
        clickhouse.http_url()
    );
    let mut gw = AiGateway::start_full(&proxy_lines, &sections, ACCESS);
    let port = listen_addr(gw.dir.path(), "proxy").port();
    let signed_in = format!("http://alice:correct%20horse@127.0.0.1:{port}");
    let anonymous = format!("http://127.0.0.1:{port}");
    let base = format!("https://{AI_HOST}");
    let bob_key = gw.virtual_key(&["--name", "bob-laptop", "--user", "bob", "--team", "data"]);

    let results = sdk(
        &gw,
        &base,
        Some(&signed_in),
        &[
            // SDKs insist on some api_key: a placeholder is not a key on this path.
            chat("unused", "gpt-4o-mini"),
            // [aigw.identity] models: only gpt-4o-mini without a key.
            chat("unused", "claude"),
            // A virtual key presented on this path works and wins over the proxy identity.
            chat(&bob_key, "claude"),
            // A revoked or made-up virtual key is refused, not replaced by the identity.
            chat("wvk_not-a-real-key", "gpt-4o-mini"),
        ],
    );
    assert_eq!(results[0]["ok"], true, "{}", results[0]);
    assert!(
        results[0]["text"].as_str().is_some_and(|t| !t.is_empty()),
        "{}",
        results[0]
    );
    assert_eq!(results[1]["status"], 403, "{}", results[1]);
    assert_eq!(results[2]["ok"], true, "{}", results[2]);
    assert_eq!(results[3]["status"], 401, "{}", results[3]);

    let alice = results[0]["request_id"].as_str().unwrap();
    let line = gw.call_line(alice);
    for (name, value) in [
        ("user", "alice"),
        ("team", "engineering"),
        ("via", "proxy"),
        ("identity", "proxy_user"),
        ("status", "200"),
    ] {
        assert_eq!(field(&line, name), value, "{name} in {line}");
    }
    let row = ai_row(&clickhouse, alice);
    assert_eq!(row["user"], "alice", "{row}");
    assert_eq!(row["team"], "engineering", "{row}");
    assert_eq!(row["tags"], json!(["proxied"]), "{row}");
    assert_eq!(row["virtual_key_id"], "", "{row}");
    assert_eq!(row["ingress_path"], "proxy", "{row}");
    assert_eq!(row["identity_source"], "proxy_user", "{row}");
    let bob = ai_row(&clickhouse, results[2]["request_id"].as_str().unwrap());
    assert_eq!(bob["user"], "bob", "{bob}");
    assert_eq!(bob["identity_source"], "virtual_key", "{bob}");
    assert_eq!(bob["ingress_path"], "proxy", "{bob}");

    // Without proxy credentials on a port that needs them: the proxy refuses the CONNECT
    // (407), so the AI gateway never sees the call.
    let before = gw.log().matches("ai call").count();
    let refused = sdk(
        &gw,
        &base,
        Some(&anonymous),
        &[chat("unused", "gpt-4o-mini")],
    );
    assert_eq!(refused[0]["ok"], false, "{}", refused[0]);
    assert!(
        refused[0]["message"].as_str().unwrap().contains("407")
            || refused[0]["error"].as_str().unwrap().contains("Connection"),
        "{}",
        refused[0]
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(gw.log().matches("ai call").count(), before, "{}", gw.log());

    // The direct path still needs a key and says where it came from.
    let direct = sdk(
        &gw,
        &format!("http://{}", gw.addr),
        None,
        &[chat(&bob_key, "gpt-4o-mini")],
    );
    let direct_row = ai_row(&clickhouse, direct[0]["request_id"].as_str().unwrap());
    assert_eq!(direct_row["ingress_path"], "direct", "{direct_row}");
    assert_eq!(direct_row["identity_source"], "virtual_key", "{direct_row}");

    // Plain http:// to the name through the proxy is refused, never resolved or dialled.
    let plain = curl(&[
        "-x",
        &signed_in,
        "-H",
        "Accept: application/json",
        &format!("http://{AI_HOST}/v1/models"),
    ]);
    assert_eq!(plain.status, 400, "{}", plain.body_text());
    assert_eq!(plain.header("x-warden-rule"), Some("aigw.https_only"));
}

#[test]
fn the_ai_gateway_port_speaks_tls_with_a_warden_minted_certificate() {
    let mut gw = AiGateway::start_full(
        "listen = \"127.0.0.1:0\"\n",
        "[clickhouse]\nurl = \"http://127.0.0.1:1\"\n[events]\nenabled = false\n",
        "[aigw.tls]\nnames = [\"ai.corp.test\"]\n",
    );
    let key = gw.virtual_key(&["--name", "ci", "--user", "ci-bot"]);
    let port = gw.addr.port();
    let resolve = format!("ai.corp.test:{port}:127.0.0.1");
    let url = format!("https://ai.corp.test:{port}/v1/models");
    let auth = format!("Authorization: Bearer {key}");
    let root = root_pem(&gw);

    let ok = curl(&["--cacert", &root, "--resolve", &resolve, "-H", &auth, &url]);
    assert_eq!(ok.status, 200, "{}", ok.stderr);
    assert!(ok.body_text().contains("gpt-4o-mini"), "{}", ok.body_text());
    let h2 = curl(&[
        "--http2",
        "--cacert",
        &root,
        "--resolve",
        &resolve,
        "-H",
        &auth,
        &url,
    ]);
    assert_eq!(
        (h2.status, h2.http_version.as_str()),
        (200, "2"),
        "{}",
        h2.stderr
    );

    // Not trusted without Warden's root; TLS 1.1 is not offered.
    let untrusted = curl(&["--resolve", &resolve, "-H", &auth, &url]);
    assert_ne!(untrusted.exit, 0);
    let old = curl(&[
        "--cacert",
        &root,
        "--resolve",
        &resolve,
        "--tls-max",
        "1.1",
        "-H",
        &auth,
        &url,
    ]);
    assert_ne!(old.exit, 0, "TLS 1.1 must be refused");

    // Plain HTTP to the TLS port fails cleanly: a 400 that says what to do, then close.
    let plain = curl(&["-H", &auth, &format!("http://127.0.0.1:{port}/v1/models")]);
    assert_eq!(plain.status, 400, "{}", plain.stderr);
    assert!(
        plain.body_text().contains("TLS only: use https://"),
        "{}",
        plain.body_text()
    );

    // `gatewayd check` says how the port is served, and refuses a pair it cannot read.
    let out = gw.cli(&["check"], "");
    assert!(
        out.contains("TLS with certificates minted by Warden's CA for ai.corp.test"),
        "{out}"
    );
    let config = std::fs::read_to_string(gw.dir.path().join("gatewayd.toml")).unwrap();
    let broken = config.replace(
        "names = [\"ai.corp.test\"]",
        "cert = \"missing.pem\"\nkey = \"missing.key\"",
    );
    std::fs::write(gw.dir.path().join("broken.toml"), broken).unwrap();
    let check = Command::new(crate::support::tools::gatewayd_binary())
        .args(["check", "--config", "broken.toml"])
        .current_dir(gw.dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert_eq!(check.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("aigw.tls cert missing.pem"), "{stderr}");
}

#[test]
fn the_ai_name_with_the_ai_gateway_off_gets_a_clear_answer_and_nothing_is_dialled() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    // Were the gateway to dial the name, connect_to would send it here.
    let trap = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    trap.set_nonblocking(true).unwrap();
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections: format!("[aigw]\nhost = \"{AI_HOST}\"\n"),
            connect_to: vec![(
                format!("{AI_HOST}:443"),
                trap.local_addr().unwrap().to_string(),
            )],
            ..Default::default()
        },
    );
    let proxy = gw.proxy_url();
    let root = gw.root_pem.display().to_string();
    let url = format!("https://{AI_HOST}/v1/chat/completions");
    let answer = curl(&[
        "-x",
        &proxy,
        "--cacert",
        &root,
        "-H",
        "Accept: application/json",
        "-d",
        "{}",
        &url,
    ]);
    assert_eq!(answer.status, 503, "{}", answer.stderr);
    assert_eq!(answer.header("x-warden-rule"), Some("aigw.off"));
    let body: Value = serde_json::from_slice(&answer.body).unwrap();
    assert!(
        body.to_string().contains("AI gateway") && body.to_string().contains("not enabled"),
        "{body}"
    );
    let page = curl(&["-x", &proxy, "--cacert", &root, &url]);
    assert!(
        page.body_text().contains("not enabled"),
        "{}",
        page.body_text()
    );
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        trap.accept().is_err(),
        "the gateway dialled the AI name:\n{}",
        gw.log()
    );
}

#[test]
fn an_enrolled_device_calls_the_ai_gateway_through_its_agent_as_its_user() {
    let tunnel_port = crate::support::tools::free_port();
    let mut gw = AiGateway::start_full(
        "listen = \"127.0.0.1:0\"\n",
        &format!(
            "[clickhouse]\nurl = \"http://127.0.0.1:1\"\n[events]\nenabled = false\n\
             [tunnel]\nlisten = \"127.0.0.1:{tunnel_port}\"\n"
        ),
        ACCESS,
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
    let device = String::from_utf8_lossy(&enrolled.stdout)
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string();
    let agent = AgentProcess::start(&state, &[]);
    agent.wait_connected(Duration::from_secs(10));

    let results = sdk(
        &gw,
        &format!("https://{AI_HOST}"),
        Some(&agent.proxy_url()),
        &[chat("unused", "gpt-4o-mini")],
    );
    assert_eq!(
        results[0]["ok"],
        true,
        "{}\n{}\n{}",
        results[0],
        agent.log(),
        gw.log()
    );
    let line = gw.call_line(results[0]["request_id"].as_str().unwrap());
    for (name, value) in [
        ("user", "alice"),
        ("team", "ml"),
        ("via", "agent"),
        ("identity", "device"),
    ] {
        assert_eq!(field(&line, name), value, "{name} in {line}");
    }
    assert!(device.starts_with("dev-"), "{device}");
}
