//! "Something AI-like I never listed is being used: who uses it, how much, and what do I do
//! with it?" A chat app outside the catalog found by the model name in its request body,
//! triaged over the API and the CLI against a real ClickHouse: listed with its users and
//! bytes, blocked without a restart, marked not AI so it stops showing — and the attacks: an
//! analyst deciding, malformed and huge input, and a "not AI" mark aimed at a blocked app.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::report::{api, start, ReportSetup};
use crate::support::curl::CurlResult;
use crate::support::gateway::gatewayd;
use crate::support::{curl, GatewayOptions, GatewayProcess, Origin};

/// A chat web app's prompt: no API path, no key — only the model it names in the body.
pub const CHAT_BODY: &str =
    r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"draft the Q3 memo"}]}"#;

/// POSTs `body` to `url` through the proxy.
pub fn post_through(gw: &GatewayProcess, url: &str, body: &str) -> CurlResult {
    curl(&[
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &gw.root_pem.display().to_string(),
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        body,
        url,
    ])
}

/// POST on the admin API with a token and a raw body: status and JSON (Null when not JSON).
pub fn post_api(gw: &GatewayProcess, token: &str, path: &str, body: &str) -> (u16, Value) {
    let result = curl(&[
        "-H",
        &format!("Authorization: Bearer {token}"),
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        body,
        &format!("http://{}{path}", gw.admin),
    ]);
    (
        result.status,
        serde_json::from_slice(&result.body).unwrap_or(Value::Null),
    )
}

/// The discovered row for `host`, once `ready` says it has what the test waits for.
fn wait_row(s: &ReportSetup, host: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, list) = api(&s.gw, &s.analyst, "/api/v1/discovered");
        assert_eq!(status, 200, "{list}");
        let row = list["discovered"]
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["host"] == host).cloned());
        if let Some(row) = row.filter(|r| ready(r)) {
            return row;
        }
        assert!(
            Instant::now() < deadline,
            "{host} not listed as wanted: {list}\n{}",
            s.gw.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn listed(s: &ReportSetup, host: &str) -> bool {
    let (_, list) = api(&s.gw, &s.analyst, "/api/v1/discovered");
    list["discovered"]
        .as_array()
        .is_some_and(|rows| rows.iter().any(|r| r["host"] == host))
}

#[test]
fn a_chat_app_outside_the_catalog_is_found_by_its_body_then_blocked_without_a_restart() {
    let s = start();
    let gw = &s.gw;
    let first = post_through(gw, "https://chat.test/api/send", CHAT_BODY);
    assert_eq!(first.status, 200, "{}", first.body_text());
    // The body's model name is the only evidence; it counts for the request's own record.
    assert!(
        gw.wait_for_log("discovered=discovered:chat.test", Duration::from_secs(5)),
        "{}",
        gw.log()
    );
    let row = wait_row(&s, "chat.test", |r| r["users"] == 1);
    assert!(
        row["evidence"].to_string().contains("model_name:openai"),
        "{row}"
    );
    assert!(row["bytes_up"].as_u64().unwrap() > 0, "{row}");
    assert!(row["first_seen_unix_ms"].as_u64().unwrap() > 0, "{row}");

    // Attack: an analyst may read the list but not decide.
    let decision = json!({"host": "chat.test", "action": "block"}).to_string();
    let (status, refused) = post_api(gw, &s.analyst, "/api/v1/discovered/decisions", &decision);
    assert_eq!(status, 403, "{refused}");
    assert!(refused["error"]["message"]
        .as_str()
        .unwrap()
        .contains("admin"));
    assert!(
        listed(&s, "chat.test"),
        "the refused decision changed nothing"
    );

    // Discovery never enforced anything: a card number still reaches the host.
    let card = r#"{"model":"gpt-4o","messages":[{"content":"4556 7375 8689 9855"}]}"#;
    assert_eq!(
        post_through(gw, "https://chat.test/api/send", card).status,
        200
    );

    // The admin blocks it: applied at once, no restart, in the audit trail.
    let (status, done) = post_api(gw, &s.admin, "/api/v1/discovered/decisions", &decision);
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["decision"]["app_id"], "chat-test");
    assert_eq!(done["status_change"]["new"], "unapproved");
    let blocked = post_through(gw, "https://chat.test/api/send", CHAT_BODY);
    assert_eq!(blocked.status, 403, "{}", blocked.body_text());
    assert!(
        !listed(&s, "chat.test"),
        "a decided host is no longer awaiting triage"
    );
    let (_, decisions) = api(gw, &s.analyst, "/api/v1/discovered/decisions");
    assert_eq!(
        decisions["decisions"][0]["host"], "chat.test",
        "{decisions}"
    );
    let (_, app) = api(gw, &s.analyst, "/api/v1/apps/chat-test");
    assert_eq!(app["status"], "unapproved", "{app}");
    let (_, audit) = api(gw, &s.admin, "/api/v1/audit?limit=1000");
    assert!(
        audit["entries"].as_array().unwrap().iter().any(|e| {
            e["action"] == "decide_discovered"
                && e["actor"] == "token:sec-team"
                && e["detail"].as_str().unwrap().contains("chat.test")
        }),
        "{audit}"
    );
    // Unreviewed apps are on the unapproved report now (the seed's apps were never reviewed).
    let (_, unapproved) = api(gw, &s.analyst, "/api/v1/report/unapproved?since=30d");
    let statuses = unapproved["statuses"].to_string();
    assert!(statuses.contains("unreviewed"), "{unapproved}");
    assert!(
        unapproved["apps"].to_string().contains("\"claude\""),
        "{unapproved}"
    );
}

#[test]
fn decisions_refuse_bad_input_and_a_not_ai_mark_never_unblocks_a_catalog_app() {
    let s = start();
    let gw = &s.gw;
    let path = "/api/v1/discovered/decisions";
    for (body, expect) in [
        (
            json!({"host": "<script>alert(1)</script>.test", "action": "not_ai"}),
            "invalid host",
        ),
        (
            json!({"host": "10.0.0.1", "action": "not_ai"}),
            "IP address",
        ),
        (
            json!({"host": "*.example.com", "action": "block"}),
            "wildcard",
        ),
        (
            json!({"host": "a.test", "action": "allow-all"}),
            "unknown action",
        ),
        (
            json!({"host": "a.test", "action": "catalog", "category": "weapons"}),
            "unknown category",
        ),
        (
            json!({"host": "a.test", "action": "catalog", "name": "n".repeat(200)}),
            "longer than 80",
        ),
        (
            json!({"host": "a.test", "action": "catalog", "app_id": "../../etc"}),
            "invalid app id",
        ),
        (
            json!({"host": "a.test", "action": "block", "admin": true}),
            "unknown field",
        ),
    ] {
        let (status, answer) = post_api(gw, &s.admin, path, &body.to_string());
        assert_eq!(status, 400, "{body}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(expect), "{body}: {message}");
    }
    // A long host is refused with a short echo, a huge body before it is parsed.
    let long = json!({"host": format!("{}.test", "a".repeat(5000)), "action": "not_ai"});
    let (status, answer) = post_api(gw, &s.admin, path, &long.to_string());
    assert_eq!(status, 413, "{answer}");
    let long = json!({"host": format!("{}.test", "a".repeat(1000)), "action": "not_ai"});
    let (status, answer) = post_api(gw, &s.admin, path, &long.to_string());
    assert_eq!(status, 400, "{answer}");
    assert!(answer.to_string().len() < 400, "{answer}");
    let huge_file = gw.dir.path().join("huge.json");
    std::fs::write(
        &huge_file,
        format!("{{\"host\":\"{}\"}}", "x".repeat(1 << 20)),
    )
    .unwrap();
    let (status, _) = post_api(gw, &s.admin, path, &format!("@{}", huge_file.display()));
    assert_eq!(status, 413);
    let (status, _) = post_api(gw, &s.admin, path, "{not json");
    assert_eq!(status, 400);

    // A blocked catalog app cannot be taken out of enforcement by calling its host "not AI":
    // the mark is refused and names the app, and the block stays.
    let put = curl(&[
        "-X",
        "PUT",
        "-H",
        &format!("Authorization: Bearer {}", s.admin),
        "--data-binary",
        r#"{"status":"unapproved"}"#,
        &format!("http://{}/api/v1/apps/chatgpt/status", gw.admin),
    ]);
    assert_eq!(put.status, 200, "{}", put.body_text());
    let not_ai = json!({"host": "chatgpt.com", "action": "not_ai"}).to_string();
    let (status, answer) = post_api(gw, &s.admin, path, &not_ai);
    assert_eq!(status, 409, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("chatgpt") && message.contains("unapproved"),
        "{message}"
    );
    let still = post_through(
        gw,
        "https://chatgpt.com/backend-api/conversation",
        CHAT_BODY,
    );
    assert_eq!(still.status, 403, "{}", still.body_text());
    let (_, decisions) = api(gw, &s.analyst, "/api/v1/discovered/decisions");
    assert_eq!(decisions["decisions"], json!([]), "nothing was recorded");
}

#[test]
fn the_cli_marks_a_host_not_ai_and_the_running_gateway_stops_flagging_it() {
    let s = start();
    let gw = &s.gw;
    assert_eq!(
        post_through(gw, "https://api.test/v1/chat/completions", CHAT_BODY).status,
        200
    );
    wait_row(&s, "api.test", |_| true);
    // The CLI reads the list the daemon saves each second.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (code, out, err) = gatewayd(gw, &["discovered", "list"]);
        assert_eq!(code, 0, "{err}");
        if out.contains("api.test") {
            break;
        }
        assert!(Instant::now() < deadline, "{out}");
        std::thread::sleep(Duration::from_millis(250));
    }
    let (code, out, err) = gatewayd(gw, &["discovered", "not-ai", "api.test"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("api.test: not_ai"), "{out}");
    assert!(!listed(&s, "api.test"));
    // The daemon picks the file up within a second or two; then the host is left alone.
    assert!(
        gw.wait_for_log("policy or users files changed", Duration::from_secs(5)),
        "{}",
        gw.log()
    );
    std::thread::sleep(Duration::from_millis(300));
    let before = gw.log().matches("discovered=discovered:api.test").count();
    let again = post_through(gw, "https://api.test/v1/chat/completions", CHAT_BODY);
    assert_eq!(again.status, 200);
    assert!(gw.wait_for_log("host=api.test", Duration::from_secs(3)));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        gw.log().matches("discovered=discovered:api.test").count(),
        before,
        "a host marked not AI is not discovered again"
    );
    let (code, _, err) = gatewayd(gw, &["discovered", "not-ai", "chatgpt.com"]);
    assert_eq!(code, 2);
    assert!(err.contains("belongs to the catalog app"), "{err}");
    let (code, _, err) = gatewayd(gw, &["discovered", "block", "bad host.test"]);
    assert_eq!(code, 2);
    assert!(err.contains("invalid host"), "{err}");
    let (code, out, _) = gatewayd(gw, &["discovered", "decisions"]);
    assert_eq!(code, 0);
    assert!(out.contains("api.test") && out.contains("not AI"), "{out}");
}

#[test]
fn with_discovery_off_nothing_is_read_or_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections: "[policies]\ndiscovery = \"off\"\n".into(),
            ..Default::default()
        },
    );
    let result = post_through(&gw, "https://chat.test/v1/chat/completions", CHAT_BODY);
    assert_eq!(result.status, 200, "{}", result.body_text());
    assert!(gw.wait_for_log("host=chat.test", Duration::from_secs(3)));
    std::thread::sleep(Duration::from_millis(1500));
    assert!(!gw.log().contains("discovered=discovered:"), "{}", gw.log());
    assert!(!gw.dir.path().join("state/discovered-apps.json").exists());
}
