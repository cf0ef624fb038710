//! "Give every shadow call a way onto the sanctioned path" (issue 21, the `route` action): the
//! official `openai` and `anthropic` SDKs, configured with personal keys and pointed at the
//! providers' own APIs through the proxy, are served by the AI gateway in-process when a
//! `route` rule matches — the mock provider sees the organisation's key, never the personal
//! one; `ai_requests` has the proxy user; the answer carries `X-Warden-Action: route`, streams
//! included. A call the AI gateway cannot serve (Gemini) is refused with the guidance, never
//! sent to the origin. With `dry_run = true` the call reaches the origin unchanged and the
//! event records that it would have been routed. The personal key is nowhere in ClickHouse,
//! the log or the metrics.

use std::time::{Duration, Instant};

use schema::testkit::ClickHouseServer;
use serde_json::{json, Value};

use crate::ai_keys::{assert_nowhere_in_clickhouse, two_users};
use crate::aigw::{AiGateway, Extra, ANTHROPIC_KEY, OPENAI_KEY};
use crate::aigw_access::{ai_row, listen_addr, sdk};
use crate::support::gateway::http_get;
use crate::support::{clickhouse_sql, curl, Origin};

const PERSONAL_KEY: &str = "sk-proj-E2eRoutePersonalQ7xW9zLm2Kp4R8tY6uI0oPaSdFgHjKl";
const PERSONAL_ANTHROPIC: &str = "sk-ant-api03-E2eRoutePersonal5Tg7Yh9Uj1Ik3Ol5Pz7Xc9";
const GUIDANCE: &str = "Use https://ai.example.internal/v1 with your proxy sign-in";

const POLICY: &str = r#"version = "route-1"
[[rule]]
id = "route-openai"
when = { app = "openai-api", user = "alice" }
action = "route"
[[rule]]
id = "route-anthropic"
when = { app = "anthropic-api", user = "alice" }
action = "route"
[[rule]]
id = "route-gemini"
when = { app = "google-ai-studio", user = "alice" }
action = "route"
[[rule]]
id = "try-route-openai"
when = { app = "openai-api", user = "bob" }
action = "route"
dry_run = true
"#;

/// The http_events row (action, detail, rule_id, user, ai_key_last4, status) `filter` picks.
fn event(clickhouse: &ClickHouseServer, filter: &str) -> Value {
    let sql = format!(
        "SELECT action, detail, rule_id, user, ai_key_last4, status FROM warden.http_events \
         WHERE {filter} ORDER BY ts DESC LIMIT 1 FORMAT JSONEachRow"
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
            "no http_events row where {filter}: {}",
            got.body_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn route_serves_a_personal_key_call_through_the_ai_gateway_with_the_org_key() {
    let clickhouse = ClickHouseServer::start().expect("clickhouse-server starts");
    let side = tempfile::tempdir().unwrap();
    let origin = Origin::start(side.path());
    let users = two_users(side.path());
    let policy = side.path().join("policy.toml");
    std::fs::write(&policy, POLICY).unwrap();
    // Listening on all addresses: the loopback client must sign in to the proxy.
    let proxy = format!(
        "listen = \"0.0.0.0:0\"\nallow_sources = [\"192.0.2.0/24\"]\nusers_file = \"{users}\"\n"
    );
    let sections = format!(
        "[clickhouse]\nurl = \"{ch}\"\ndatabase = \"warden\"\n\
         [events]\nflush_interval = \"200ms\"\n\
         [policies]\nfiles = [\"{policy}\"]\n\
         [ai_keys]\nguidance = \"{GUIDANCE}\"\n\
         [upstream]\nextra_roots = [\"{ca}\"]\n\
         [upstream.connect_to]\n\"api.openai.com:443\" = \"{o}\"\n\
         \"api.anthropic.com:443\" = \"{o}\"\n\"generativelanguage.googleapis.com:443\" = \"{o}\"\n",
        ch = clickhouse.http_url(),
        policy = policy.display(),
        ca = origin.ca_pem.display(),
        o = origin.tls_addr,
    );
    let gw = AiGateway::start_extended(&sections, move |_, _| {
        Extra {
        proxy: Some(proxy),
        aigw: "host = \"ai.warden.internal\"\n[aigw.identity]\nallow = true\nmodels = [\"gpt-4o-mini\", \"claude\"]\n".into(),
        ..Extra::default()
    }
    });
    let port = listen_addr(gw.dir.path(), "proxy").port();
    let alice = format!("http://alice:correct%20horse@127.0.0.1:{port}");
    let bob = format!("http://bob:correct%20horse@127.0.0.1:{port}");
    let openai = json!({"sdk": "openai", "key": PERSONAL_KEY, "model": "gpt-4o-mini",
                        "prompt": "Say hello"});
    let mut streamed = openai.clone();
    streamed["stream"] = json!(true);
    let anthropic = json!({"sdk": "anthropic", "key": PERSONAL_ANTHROPIC, "model": "claude",
                           "prompt": "Say hello"});

    // Alice's calls with her personal keys go to the AI gateway, which calls the mock
    // providers with the organisation's keys (they answer 401 to any other key).
    let results = sdk(
        &gw,
        "https://api.openai.com",
        Some(&alice),
        &[openai.clone(), streamed],
    );
    for result in &results {
        assert_eq!(result["ok"], true, "{result}");
        let text = result["text"].as_str().unwrap_or_default();
        assert!(
            !text.is_empty() && text != "hello from the origin",
            "{result}"
        );
    }
    let results_anthropic = sdk(&gw, "https://api.anthropic.com", Some(&alice), &[anthropic]);
    let text = results_anthropic[0]["text"].as_str().unwrap_or_default();
    assert!(
        !text.is_empty() && text != "hello from the origin",
        "{results_anthropic:?}"
    );
    let seen = gw.openai.requests();
    assert_eq!(seen.len(), 2, "{seen:?}");
    for request in &seen {
        assert_eq!(
            request["headers"]["authorization"],
            format!("Bearer {OPENAI_KEY}"),
            "{request}"
        );
    }
    let seen_anthropic = gw.anthropic.requests();
    assert_eq!(seen_anthropic.len(), 1, "{seen_anthropic:?}");
    assert_eq!(seen_anthropic[0]["headers"]["x-api-key"], ANTHROPIC_KEY);
    let mock_log = format!("{seen:?}{seen_anthropic:?}");
    assert!(!mock_log.contains(PERSONAL_KEY) && !mock_log.contains(PERSONAL_ANTHROPIC));

    // ai_requests has the proxy user; the stream's row too.
    for result in &results {
        let row = ai_row(&clickhouse, result["request_id"].as_str().unwrap());
        assert_eq!(row["user"], "alice", "{row}");
        assert_eq!(row["identity_source"], "proxy_user", "{row}");
        assert_eq!(row["ingress_path"], "proxy", "{row}");
        assert_eq!(row["status"], 200, "{row}");
    }

    // The answer says what happened; a stream arrives as a stream.
    let root = gw
        .dir
        .path()
        .join("state/ca/root.crt.pem")
        .display()
        .to_string();
    let raw = curl(&[
        "-x",
        &alice,
        "--cacert",
        &root,
        "-H",
        &format!("Authorization: Bearer {PERSONAL_KEY}"),
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
        "https://api.openai.com/v1/chat/completions?key=also-not-forwarded",
    ]);
    assert_eq!(raw.status, 200, "{} {}", raw.body_text(), raw.stderr);
    assert_eq!(raw.header("x-warden-action"), Some("route"));
    assert_eq!(raw.header("x-warden-rule"), Some("route-openai"));
    assert!(
        raw.header("content-type")
            .is_some_and(|t| t.starts_with("text/event-stream")),
        "{:?}",
        raw.header("content-type")
    );
    assert!(
        raw.body_text().contains("data: [DONE]"),
        "{}",
        raw.body_text()
    );
    assert!(!format!("{:?}", gw.openai.requests()).contains("also-not-forwarded"));
    let proxy_id = raw.header("x-warden-request-id").unwrap().to_string();
    let routed = event(&clickhouse, &format!("request_id = '{proxy_id}'"));
    assert_eq!(routed["action"], "route", "{routed}");
    assert_eq!(routed["rule_id"], "route-openai", "{routed}");
    assert_eq!(
        routed["ai_key_last4"],
        &PERSONAL_KEY[PERSONAL_KEY.len() - 4..]
    );
    // The event names the AI gateway's call, whose row has the proxy user.
    let call_id = raw.header("x-request-id").unwrap().to_string();
    assert_ne!(call_id, proxy_id);
    assert_eq!(
        routed["detail"],
        format!("routed through the AI gateway as {call_id}"),
        "{routed}"
    );
    assert_eq!(ai_row(&clickhouse, &call_id)["user"], "alice");

    // Gemini: the AI gateway has no Gemini ingress, so the call is refused with the guidance
    // in Google's error shape — never sent to the origin.
    let gemini = curl(&[
        "-x",
        &alice,
        "--cacert",
        &root,
        "--http1.1",
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"contents":[{"parts":[{"text":"hi"}]}]}"#,
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent?key=AIzaSyE2eRouteGeminiKey0123456789abcdefgh",
    ]);
    assert_eq!(
        gemini.status,
        403,
        "{} {}",
        gemini.body_text(),
        gemini.stderr
    );
    let body: Value = serde_json::from_str(&gemini.body_text()).unwrap();
    assert_eq!(body["error"]["message"], GUIDANCE, "{body}");
    assert_eq!(gemini.header("x-warden-rule"), Some("route-gemini"));

    // Bob's rule is a dry run: his call reaches the origin unchanged, and the event says it
    // would have been routed.
    let dry = sdk(&gw, "https://api.openai.com", Some(&bob), &[openai]);
    assert_eq!(dry[0]["text"], "hello from the origin", "{dry:?}");
    assert_eq!(
        gw.openai.requests().len(),
        3,
        "the dry run reached the AI gateway"
    );
    let would = event(&clickhouse, "user = 'bob' AND host = 'api.openai.com'");
    assert_eq!(would["action"], "would_route", "{would}");
    assert_eq!(
        would["detail"], "would route through the AI gateway",
        "{would}"
    );
    assert_eq!(would["rule_id"], "try-route-openai", "{would}");
    assert_eq!(would["status"], 200, "{would}");

    // The personal keys: nowhere.
    let admin = listen_addr(gw.dir.path(), "admin");
    let (_, metrics) = http_get(admin, "/metrics").unwrap();
    let log = gw.log();
    for needle in [PERSONAL_KEY, PERSONAL_ANTHROPIC, OPENAI_KEY, ANTHROPIC_KEY] {
        assert_nowhere_in_clickhouse(&clickhouse, needle);
        assert!(!log.contains(needle), "a key is in the gateway's log");
        assert!(!metrics.contains(needle), "a key is in /metrics");
    }
}
