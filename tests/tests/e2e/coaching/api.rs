//! Coaching without a page to click: an API client (no fetch metadata) gets a JSON warning
//! with a one-time token and continues by sending the request again with it in
//! `X-Warden-Continue` (its justification in `X-Warden-Justification`); a browser's script
//! cannot; the continued request is its own outcome, never a block; `/metrics` counts
//! warnings, continues and access requests; and the security team decides access requests
//! from the shell with `gatewayd access-requests list|approve|deny`.

use serde_json::Value;

use super::*;
use crate::report::api;
use crate::support::gateway::gatewayd;

const PROMPT_URL: &str = "https://chatgpt.com/backend-api/conversation";

/// A JSON request from an API client as `user`, with extra headers.
fn api_call(gw: &GatewayProcess, user: &str, headers: &[&str]) -> CurlResult {
    let mut args = vec![
        "-H",
        "Accept: application/json",
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"prompt":"draft the Q3 memo"}"#,
    ];
    for header in headers {
        args.extend(["-H", header]);
    }
    args.push(PROMPT_URL);
    as_user(gw, Some(user), &args)
}

fn json(result: &CurlResult) -> Value {
    serde_json::from_slice(&result.body).unwrap_or(Value::Null)
}

#[test]
fn an_api_client_continues_past_a_warning_with_its_token_and_a_script_cannot() {
    let s = start(Some(POLICY), true, "", true);
    set_status(&s, "chatgpt", "in_review");
    let gw = &s.gw;

    // The warning, as JSON, with how to continue.
    let warned = api_call(gw, "alice", &[]);
    assert_eq!(warned.status, 403, "{}", warned.body_text());
    let error = json(&warned)["error"].clone();
    assert_eq!(error["type"], "warn", "{error}");
    assert_eq!(error["continue"]["header"], "x-warden-continue");
    assert_eq!(
        error["continue"]["justification_header"],
        "x-warden-justification"
    );
    let token = error["continue"]["token"].as_str().unwrap().to_string();

    // A page's fetch() gets the JSON warning but no token, and cannot use one.
    let fetched = api_call(
        gw,
        "alice",
        &["Sec-Fetch-Mode: cors", "Sec-Fetch-Dest: empty"],
    );
    assert_eq!(fetched.status, 403);
    assert!(
        json(&fetched)["error"]["continue"].is_null(),
        "{}",
        fetched.body_text()
    );
    let scripted = api_call(
        gw,
        "alice",
        &[
            &format!("X-Warden-Continue: {token}"),
            "Sec-Fetch-Mode: cors",
        ],
    );
    assert_eq!(
        scripted.header("x-warden-rule"),
        Some("coaching.header_from_browser")
    );
    // Someone else's token is not theirs (and is not used up by trying).
    let bobs = api_call(gw, "bob", &[&format!("X-Warden-Continue: {token}")]);
    assert_eq!(
        bobs.header("x-warden-rule"),
        Some("coaching.ticket_other_user")
    );

    // Alice continues, with a justification: the request goes through to the app, which
    // never sees the token.
    let headers_url = "https://chatgpt.com/headers";
    let continued = as_user(
        gw,
        Some("alice"),
        &[
            "-H",
            "Accept: application/json",
            "-H",
            &format!("X-Warden-Continue: {token}"),
            "-H",
            "X-Warden-Justification: batch job for the Q3 memo",
            headers_url,
        ],
    );
    assert_eq!(continued.status, 200, "{}", continued.body_text());
    let seen = continued.body_text().to_ascii_lowercase();
    assert!(!seen.contains("x-warden-continue"), "{seen}");
    assert!(!seen.contains("x-warden-justification"), "{seen}");
    // The pass holds for her next calls; the token is spent.
    assert_eq!(api_call(gw, "alice", &[]).status, 200);
    let replay = api_call(gw, "alice", &[&format!("X-Warden-Continue: {token}")]);
    assert_eq!(
        replay.header("x-warden-rule"),
        Some("coaching.ticket_unknown")
    );
    assert_eq!(
        api_call(gw, "bob", &[]).header("x-warden-action"),
        Some("warn")
    );

    // The event: its own outcome, not blocked, with the justification.
    let ch = s.clickhouse.as_ref().unwrap();
    let row = wait_query(
        ch,
        "SELECT user, action, blocked, rule_id, detail FROM warden.http_events \
         WHERE path = '/headers'",
        |t| !t.is_empty(),
    );
    assert!(row.starts_with("alice\tcontinue\t0\t"), "{row}");
    assert!(row.contains("batch job for the Q3 memo"), "{row}");
    // /metrics: warnings shown, continues.
    assert!(gw.metric("warden_coaching_total{step=\"warning_shown\"}") >= 3.0);
    assert_eq!(gw.metric("warden_coaching_total{step=\"continued\"}"), 1.0);
    assert_eq!(
        gw.metric("warden_coaching_total{step=\"access_requested\"}"),
        0.0
    );
}

#[test]
fn the_security_team_lists_approves_and_denies_access_requests_from_the_shell() {
    let s = start(Some(POLICY), true, "", false);
    set_status(&s, "claude", "unapproved");
    set_status(&s, "chatgpt", "unapproved");
    let gw = &s.gw;
    let mut ids = Vec::new();
    for (user, url) in [
        ("alice", "https://claude.ai/new"),
        ("bob", "https://chatgpt.com/"),
    ] {
        let blocked = page(gw, Some(user), url);
        assert_eq!(blocked.header("x-warden-action"), Some("block"));
        let origin = url.trim_end_matches('/').trim_end_matches("/new");
        let filed = post_form(
            gw,
            Some(user),
            &format!("{origin}/.warden/request-access"),
            &[
                ("ticket", &ticket_of(&blocked)),
                ("reason", "for the board pack"),
            ],
            &[],
        );
        assert_eq!(filed.status, 200, "{}", filed.body_text());
    }
    assert_eq!(
        gw.metric("warden_coaching_total{step=\"access_requested\"}"),
        2.0
    );

    let (code, listed, err) = gatewayd(gw, &["access-requests", "list", "--json"]);
    assert_eq!(code, 0, "{err}");
    for line in listed.lines() {
        let request: Value = serde_json::from_str(line).unwrap();
        ids.push((
            request["id"].as_str().unwrap().to_string(),
            request["app_id"].as_str().unwrap().to_string(),
        ));
    }
    assert_eq!(ids.len(), 2, "{listed}");
    let (code, table, _) = gatewayd(gw, &["access-requests", "list", "--state", "open"]);
    assert_eq!(code, 0);
    assert!(
        table.contains("for the board pack") && table.contains("alice"),
        "{table}"
    );
    let claude = &ids.iter().find(|(_, app)| app == "claude").unwrap().0;
    let chatgpt = &ids.iter().find(|(_, app)| app == "chatgpt").unwrap().0;

    // Approve alice's: Claude becomes approved and the running gateway lets her through.
    let (code, out, err) = gatewayd(gw, &["access-requests", "approve", claude]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("claude: unapproved -> approved"), "{out}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while page(gw, Some("alice"), "https://claude.ai/new").status != 200 {
        assert!(
            Instant::now() < deadline,
            "the approval did not reach the gateway"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Deny bob's: ChatGPT stays blocked.
    let (code, out, err) = gatewayd(gw, &["access-requests", "deny", chatgpt]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        page(gw, Some("bob"), "https://chatgpt.com/").header("x-warden-action"),
        Some("block")
    );
    // Deciding twice, or a request that does not exist, is refused.
    let (code, _, err) = gatewayd(gw, &["access-requests", "deny", claude]);
    assert_eq!(code, 2);
    assert!(err.contains("already approved"), "{err}");
    let (code, _, err) = gatewayd(gw, &["access-requests", "approve", "no-such-id"]);
    assert_eq!(code, 2);
    assert!(err.contains("no access request"), "{err}");

    // The daemon sees the shell's decisions, and keeps them when the next request is filed.
    let (_, listed) = api(gw, &s.admin, "/api/v1/access-requests");
    let states: Vec<(String, String)> = listed["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["app_id"].as_str().unwrap().into(),
                r["state"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        states.contains(&("claude".into(), "approved".into())),
        "{listed}"
    );
    assert!(
        states.contains(&("chatgpt".into(), "denied".into())),
        "{listed}"
    );
    let again = page(gw, Some("bob"), "https://chatgpt.com/");
    let filed = post_form(
        gw,
        Some("bob"),
        "https://chatgpt.com/.warden/request-access",
        &[
            ("ticket", &ticket_of(&again)),
            ("reason", "please reconsider"),
        ],
        &[],
    );
    assert_eq!(filed.status, 200, "{}", filed.body_text());
    let (code, all, _) = gatewayd(gw, &["access-requests", "list", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(all.lines().count(), 3, "{all}");
    assert!(
        all.contains("\"approved\"") && all.contains("\"denied\""),
        "{all}"
    );
    let audit = std::fs::read_to_string(gw.dir.path().join("state").join("admin-audit.jsonl"))
        .unwrap_or_default();
    assert!(audit.contains("approve_access_request"), "{audit}");
    assert!(audit.contains("deny_access_request"), "{audit}");
}
