//! "Customer-facing apps get the premium model with a fallback, and nobody hammers a dead
//! provider" (issue 20, routes): a model name served by several deployments
//! (`[[aigw.routes]]`), reached by the official `openai` and `anthropic` Python SDKs through
//! Warden, against mock providers that fail on demand (tests/fixtures/mock_openai.py's
//! /fail-STATUS paths; mock_anthropic.py's 529 and mid-stream error). A deployment that
//! answers 500 or 429 or 529 is passed over and the SDK gets the next one's answer; with every
//! deployment down the caller gets a clear error in its API's format, in bounded time; after
//! N failures the breaker opens and the dead deployment gets no more connections (the mock
//! counts them); a stream that fails after its first byte is not retried. Every attempt is in
//! `ai_requests` and `/metrics`. A route loop or an unknown provider never loads.

use std::process::Command;
use std::time::{Duration, Instant};

use schema::testkit::ClickHouseServer;
use serde_json::{json, Value};

use crate::aigw::{field, plan, with, AiGateway, Extra};
use crate::support::clickhouse_sql;
use crate::support::tools::gatewayd_binary;

/// Providers on the openai mock's failing paths, the routes over them, and a breaker that
/// opens after 3 failures and stays open for the rest of the test.
fn routes_config(port: u16) -> String {
    let provider = |name: &str, path: &str| {
        format!(
            "[[aigw.providers]]\nname = \"{name}\"\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:{port}{path}/v1\"\nkey = \"openai-prod\"\n"
        )
    };
    let mut c = String::new();
    for (name, path) in [
        ("flaky500", "/fail-500"),
        ("flaky429", "/fail-429"),
        ("down502", "/fail-502"),
        ("breaky", "/fail-503"),
        ("again429", "/fail-429/again"),
    ] {
        c.push_str(&provider(name, path));
    }
    c.push_str(
        r#"[[aigw.providers]]
name = "dead"
kind = "openai"
base_url = "http://127.0.0.1:1/v1"
[[aigw.routes]]
name = "r500"
targets = [{ model = "flaky500/gpt-4o-mini" }, { model = "fast" }]
[[aigw.routes]]
name = "r429"
targets = [{ model = "flaky429/gpt-4o-mini" }, { model = "claude" }]
[[aigw.routes]]
name = "r529"
targets = [{ model = "claude" }, { model = "fast" }]
[[aigw.routes]]
name = "down"
targets = [{ model = "down502/gpt-4o-mini" }, { model = "dead/gpt-4o-mini" }]
retries = 1
backoff = "100ms"
deadline = "5s"
[[aigw.routes]]
name = "r429wait"
targets = [{ model = "again429/gpt-4o-mini" }, { model = "fast" }]
retries = 1
backoff = "5s"
deadline = "10s"
[[aigw.routes]]
name = "brk"
targets = [{ model = "breaky/gpt-4o-mini" }, { model = "openai/gpt-4o-mini" }]
"#,
    );
    c
}

fn count(gw: &AiGateway, prefix: &str) -> usize {
    gw.openai
        .requests()
        .iter()
        .filter(|r| r["path"].as_str().unwrap_or("").starts_with(prefix))
        .count()
}

#[test]
fn fallbacks_serve_the_sdks_all_down_is_a_clear_bounded_error_the_breaker_skips_the_dead_and_streams_are_never_retried(
) {
    let clickhouse = ClickHouseServer::start().expect("clickhouse-server starts");
    let sections = format!(
        "[clickhouse]\nurl = \"{}\"\ndatabase = \"warden\"\n\
         [events]\nflush_interval = \"200ms\"\nbatch_size = 1000\ninsert_timeout = \"3s\"\n",
        clickhouse.http_url()
    );
    // The openai mock's port is known once it runs: the routes' providers are added by a
    // restart with the full config.
    let mut gw = AiGateway::start_extended(&sections, |_, _| Extra {
        aigw: "[aigw.breaker]\nfailures = 3\nwindow = \"60s\"\ncooldown = \"60s\"\n".into(),
        ..Extra::default()
    });
    let path = gw.dir.path().join("gatewayd.toml");
    let mut config = std::fs::read_to_string(&path).unwrap();
    config.push_str(&routes_config(gw.openai.port));
    std::fs::write(&path, config).unwrap();
    let token = gw.cli(
        &[
            "admin", "token", "create", "--role", "admin", "--name", "ops",
        ],
        "",
    );
    let token = token.lines().last().unwrap().trim().to_string();
    gw.restart();

    let key = gw.virtual_key(&["--name", "app", "--user", "frank", "--team", "web"]);
    let o = |model: &str, prompt: &str| plan("openai", &key, model, prompt);
    let a = |model: &str, prompt: &str| plan("anthropic", &key, model, prompt);
    let results = gw.clients(vec![
        o("r500", "hello"),
        a("r500", "hello"),
        with(o("r429", "hello"), "stream", json!(true)),
        a("r529", "overloaded"),
        o("down", "hello"),
        a("down", "hello"),
    ]);
    let all = Value::Array(results.clone()).to_string();
    let [o500, a500, o429, a529, o_down, a_down] = <[Value; 6]>::try_from(results).unwrap();

    // First deployment 500 / 429 / 529: the SDK gets the next one's answer.
    for r in [&o500, &a500] {
        assert_eq!(r["ok"], true, "{r}");
        assert_eq!(r["text"], "Bonjour, café ☕ from mock-openai", "{r}");
    }
    assert_eq!(
        o429["text"], "Bonjour, café ☕ from mock-anthropic",
        "{o429}"
    );
    assert_eq!(a529["text"], "Bonjour, café ☕ from mock-openai", "{a529}");
    assert_eq!(count(&gw, "/fail-500/"), 2);
    assert_eq!(count(&gw, "/fail-429/v1/"), 1);

    // A retry waits what the provider's retry-after says (1 s), not the 5 s backoff.
    let again = gw.clients(vec![o("r429wait", "hello")]);
    assert_eq!(
        again[0]["text"], "Bonjour, café ☕ from mock-openai",
        "{again:?}"
    );
    assert_eq!(count(&gw, "/fail-429/again/"), 2);
    let line = gw.call_line(again[0]["request_id"].as_str().unwrap());
    let waited: u64 = field(&line, "latency_ms").parse().unwrap();
    assert!((1000..4500).contains(&waited), "{line}");

    // Every deployment down: 503 in each SDK's error format, naming each attempt, quickly.
    assert_eq!(o_down["status"], 503, "{o_down}");
    // (The openai SDK's `body` is the `error` object.)
    assert_eq!(o_down["body"]["type"], "server_error", "{o_down}");
    let message = o_down["body"]["message"].as_str().unwrap();
    assert!(
        message.contains("no deployment of route \"down\" could answer")
            && message.contains("down502/gpt-4o-mini server_error")
            && message.contains("dead/gpt-4o-mini unreachable"),
        "{message}"
    );
    assert_eq!(a_down["status"], 503, "{a_down}");
    assert_eq!(a_down["body"]["type"], "error", "{a_down}");
    // The first call: one retry of each deployment (100 ms backoff), within the 5 s deadline.
    // Their third failure, in the second call, opens each breaker: its retry is skipped.
    assert_eq!(count(&gw, "/fail-502/"), 3);
    for r in [&o_down, &a_down] {
        let line = gw.call_line(r["headers"]["x-request-id"].as_str().unwrap());
        let took: u64 = field(&line, "latency_ms").parse().unwrap();
        assert!(took < 5000, "not bounded by the route's deadline: {line}");
    }

    // The breaker: 3 failures open it; the next calls skip breaky without a connection.
    let brk: Vec<Value> = (0..5).map(|_| o("brk", "hello")).collect();
    let brk = gw.clients(brk);
    for r in &brk {
        assert_eq!(r["text"], "Bonjour, café ☕ from mock-openai", "{r}");
    }
    assert_eq!(
        count(&gw, "/fail-503/"),
        3,
        "the open circuit was not skipped"
    );

    // Route explain, live: breaky's circuit is open, so openai serves; a key limited to
    // openai/* may not use breaky at all. The CLI explains from the configuration.
    gw.virtual_key(&["--name", "narrow", "--user", "gina", "--models", "openai/*"]);
    let explain = |query: &str| {
        let got = crate::support::curl(&[
            "-H",
            &format!("Authorization: Bearer {token}"),
            &format!("http://{}/api/v1/aigw/explain?{query}", admin_addr(&gw)),
        ]);
        assert_eq!(got.status, 200, "{}", got.body_text());
        serde_json::from_slice::<Value>(&got.body).unwrap()
    };
    let live = explain("model=brk");
    assert_eq!(live["serves"], "openai/gpt-4o-mini", "{live}");
    assert_eq!(live["deployments"][0]["circuit"]["state"], "open", "{live}");
    assert!(
        live["why"]
            .to_string()
            .contains("breaky/gpt-4o-mini is skipped: its circuit is open"),
        "{live}"
    );
    let narrow = explain("model=brk&key=narrow");
    assert_eq!(narrow["deployments"][0]["allowed"], false, "{narrow}");
    assert!(
        narrow["why"]
            .to_string()
            .contains("is not allowed for this key"),
        "{narrow}"
    );
    let cli: Value =
        serde_json::from_str(&gw.cli(&["aigw", "explain", "--model", "r500", "--json"], ""))
            .unwrap();
    assert_eq!(
        (&cli["route"], &cli["serves"]),
        (&json!("r500"), &json!("flaky500/gpt-4o-mini")),
        "{cli}"
    );

    // A stream that fails after its first byte is not retried: the caller sees the error.
    let before = gw.openai.requests().len();
    let cut = gw.clients(vec![
        with(a("r529", "mid-stream-error"), "stream", json!(true)),
        with(o("r529", "mid-stream-error"), "stream", json!(true)),
    ]);
    for r in &cut {
        assert_eq!(r["ok"], false, "{r}");
        assert!(r["message"].as_str().unwrap().contains("Overloaded"), "{r}");
    }
    assert_eq!(
        gw.openai.requests().len(),
        before,
        "a cut stream was retried"
    );

    // ai_requests: the route, the deployment that served, the attempts and the fallbacks.
    let rows = rows(
        &clickhouse,
        "SELECT model_asked, provider, route, deployment, attempts, fallbacks, attempt_errors, status \
         FROM warden.ai_requests WHERE route != '' ORDER BY ts, request_id",
        14,
    );
    let find = |id: &Value| {
        let id = id.as_str().unwrap();
        let sql = format!(
            "SELECT route, deployment, provider, attempts, fallbacks, attempt_errors, status FROM warden.ai_requests WHERE request_id = '{id}' FORMAT JSONEachRow"
        );
        let got = clickhouse_sql(&clickhouse.http_url(), &sql).body_text();
        serde_json::from_str::<Value>(got.lines().next().unwrap()).unwrap()
    };
    let r = find(&o500["request_id"]);
    assert_eq!(
        (
            &r["route"],
            &r["deployment"],
            &r["provider"],
            &r["attempts"],
            &r["fallbacks"]
        ),
        (
            &json!("r500"),
            &json!("openai/gpt-4o-mini"),
            &json!("openai"),
            &json!(2),
            &json!(1)
        ),
        "{r}"
    );
    assert_eq!(
        r["attempt_errors"],
        json!(["flaky500/gpt-4o-mini server_error"]),
        "{r}"
    );
    let r = find(&o429["request_id"]);
    assert_eq!(r["deployment"], "anthropic/claude-sonnet-4-5", "{r}");
    assert_eq!(
        r["attempt_errors"],
        json!(["flaky429/gpt-4o-mini rate_limited"]),
        "{r}"
    );
    let last = find(&brk[4]["request_id"]);
    assert_eq!(
        (
            &last["attempts"],
            &last["fallbacks"],
            &last["attempt_errors"]
        ),
        (
            &json!(1),
            &json!(1),
            &json!(["breaky/gpt-4o-mini circuit_open"])
        ),
        "{last}"
    );
    let down: Vec<&Value> = rows.iter().filter(|r| r["route"] == "down").collect();
    assert_eq!(down.len(), 2);
    for (r, attempts) in down.iter().zip([4, 2]) {
        assert_eq!(
            (&r["status"], &r["attempts"]),
            (&json!(503), &json!(attempts)),
            "{r}"
        );
    }
    assert_eq!(
        down[1]["attempt_errors"],
        json!([
            "down502/gpt-4o-mini server_error",
            "down502/gpt-4o-mini circuit_open",
            "dead/gpt-4o-mini unreachable",
            "dead/gpt-4o-mini circuit_open"
        ]),
        "{}",
        down[1]
    );

    // /metrics: attempts by outcome, fallbacks, the breaker's opening.
    let metrics =
        crate::support::curl(&[&format!("http://{}/metrics", admin_addr(&gw))]).body_text();
    for line in [
        "warden_aigw_route_attempts_total{route=\"brk\",deployment=\"breaky/gpt-4o-mini\",outcome=\"skipped_open\"} 2",
        "warden_aigw_route_fallbacks_total{route=\"brk\"} 5",
        "warden_aigw_breaker_opened_total{deployment=\"breaky/gpt-4o-mini\"} 1",
        "warden_aigw_route_attempts_total{route=\"down\",deployment=\"dead/gpt-4o-mini\",outcome=\"unreachable\"} 3",
    ] {
        assert!(metrics.contains(line), "{line} not in\n{metrics}");
    }
    gw.assert_no_provider_key_anywhere(&all);
}

#[test]
fn a_route_loop_or_an_unknown_provider_is_refused_at_load_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let base = "[aigw]\nlisten = \"127.0.0.1:0\"\n[[aigw.providers]]\nname = \"openai\"\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:1/v1\"\n";
    for (routes, reason) in [
        (
            "[[aigw.routes]]\nname = \"a\"\ntargets = [{ model = \"b\" }]\n[[aigw.routes]]\nname = \"b\"\ntargets = [{ model = \"openai/gpt-4o\" }, { model = \"a\" }]\n",
            "route loop: a → b → a",
        ),
        (
            "[[aigw.routes]]\nname = \"a\"\ntargets = [{ model = \"nobody/gpt-4o\" }]\n",
            "provider \"nobody\", which is not in aigw.providers",
        ),
    ] {
        let path = dir.path().join("gatewayd.toml");
        std::fs::write(&path, format!("{base}{routes}")).unwrap();
        for args in [&["check"][..], &["run"][..]] {
            let out = Command::new(gatewayd_binary())
                .args(args)
                .arg("--config")
                .arg(&path)
                .current_dir(dir.path())
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{args:?} accepted:\n{stderr}");
            assert!(stderr.contains(reason), "{args:?}: {stderr}");
            assert!(stderr.contains("aigw.routes \"a\""), "{args:?}: {stderr}");
        }
    }
}

/// The rows of `sql` (JSONEachRow) once there are `n` of them.
fn rows(clickhouse: &ClickHouseServer, sql: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let got = clickhouse_sql(&clickhouse.http_url(), &format!("{sql} FORMAT JSONEachRow"));
        let text = got.body_text();
        let found: Vec<Value> = text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        if got.status == 200 && found.len() == n {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{sql}: wanted {n} rows, last saw {} ({text})",
            found.len()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn admin_addr(gw: &AiGateway) -> String {
    let listen: Value = serde_json::from_str(
        &std::fs::read_to_string(gw.dir.path().join("state/listen.json")).unwrap(),
    )
    .unwrap();
    listen["admin"].as_str().unwrap().to_string()
}
