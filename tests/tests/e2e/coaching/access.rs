//! Request access: from block and warning pages (in curl and in Chromium, where a script
//! cannot continue for the user), bounded and deduplicated, decided by admins on the
//! dashboard and over the API.

use std::time::Duration;

use serde_json::Value;

use super::*;
use std::time::Instant;

use crate::browser::warden_spki;
use crate::report::api;
use crate::support::gateway::gatewayd;
use crate::support::webdriver::Browser;

#[test]
fn access_requests_are_deduplicated_rate_limited_bounded_and_decided_by_admins() {
    let s = start(
        Some(POLICY),
        true,
        "requests_per_user_per_hour = 3\nmax_open_requests = 1\n",
        false,
    );
    set_status(&s, "claude", "unapproved");
    let gw = &s.gw;

    // The block page offers Request access (no Continue).
    let blocked = page(gw, Some("alice"), "https://claude.ai/new");
    assert_eq!(blocked.header("x-warden-action"), Some("block"));
    assert!(blocked.body_text().contains("warden-request-access"));
    assert!(!blocked.body_text().contains("warden-continue"));
    let continue_on_block = post_form(
        gw,
        Some("alice"),
        "https://claude.ai/.warden/continue",
        &[("ticket", &ticket_of(&blocked))],
        &[],
    );
    assert_eq!(
        continue_on_block.header("x-warden-rule"),
        Some("coaching.not_continuable")
    );

    // A flood: three filings an hour, repeats kept as one request.
    let reason = "<img src=x onerror=alert(1)> for the legal team";
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let ticket = ticket_of(&page(gw, Some("alice"), "https://claude.ai/new"));
        let filed = post_form(
            gw,
            Some("alice"),
            REQUEST,
            &[("ticket", &ticket), ("reason", reason)],
            &[],
        );
        statuses.push(filed.status);
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429, 429, 429, 429]);
    // The queue is full (one open request): bob is told to come back later.
    let bobs = ticket_of(&page(gw, Some("bob"), "https://claude.ai/new"));
    let full = post_form(gw, Some("bob"), REQUEST, &[("ticket", &bobs)], &[]);
    assert_eq!(full.status, 503, "{}", full.body_text());

    let (status, list) = api(gw, &s.admin, "/api/v1/access-requests");
    assert_eq!(status, 200);
    let requests = list["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 1, "{list}");
    let r = &requests[0];
    assert_eq!(
        (r["user"].as_str(), r["app_id"].as_str()),
        (Some("alice"), Some("claude"))
    );
    assert_eq!(r["repeats"], 2);
    assert_eq!(r["reason"], reason, "kept as text, escaped where shown");
    let id = r["id"].as_str().unwrap().to_string();

    // Analysts read but cannot decide; an admin denies once.
    let analyst = live_token(gw, "analyst", "ana");
    assert_eq!(
        api(gw, &analyst, "/api/v1/access-requests?state=open").0,
        200
    );
    let path = format!("/api/v1/access-requests/{id}/deny");
    assert_eq!(api_post(&s, &analyst, &path).0, 403);
    let (status, denied) = api_post(&s, &s.admin, &path);
    assert_eq!(status, 200, "{denied}");
    assert_eq!(denied["request"]["state"], "denied");
    assert_eq!(api_post(&s, &s.admin, &path).0, 409);
    assert_eq!(
        api_post(&s, &s.admin, "/api/v1/access-requests/nope/approve").0,
        404
    );
    let (_, apps) = api(gw, &s.admin, "/api/v1/apps/claude");
    assert_eq!(apps["status"], "unapproved", "denying changes nothing");
    let (_, audit) = api(gw, &s.admin, "/api/v1/audit?limit=100");
    assert!(audit.to_string().contains("deny_access_request"), "{audit}");

    // The command line lists them (read-only).
    let (code, out, err) = gatewayd(gw, &["apps", "requests", "--json"]);
    assert_eq!(code, 0, "{err}");
    let listed: Value = serde_json::from_str(out.lines().next().unwrap_or("null")).unwrap();
    assert_eq!(
        (listed["id"].as_str(), listed["state"].as_str()),
        (Some(id.as_str()), Some("denied"))
    );

    // Persisted in the state dir, private.
    let file = gw.dir.path().join("state/access-requests.json");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    assert_eq!(mode & 0o077, 0);
    let (code, _, _) = gatewayd(gw, &["check"]);
    assert_eq!(code, 0);
}

#[test]
fn in_chromium_a_click_continues_a_script_cannot_and_a_request_reaches_the_dashboard() {
    let s = start(Some(POLICY), false, "", false);
    set_status(&s, "chatgpt", "in_review");
    set_status(&s, "claude", "unapproved");
    let gw = &s.gw;
    let spki = format!(
        "--ignore-certificate-errors-spki-list={}",
        warden_spki(gw).join(",")
    );
    let proxy = gw.proxy_url();
    let user = Browser::start_args(Some(&proxy), None, &[spki, "--disable-quic".into()]);

    // A script on the page (as an injected or origin script would) submits the form: no click,
    // no pass.
    user.goto("https://chatgpt.com/c/2");
    assert!(
        user.text("h1").contains("Think before you continue"),
        "{}",
        user.source()
    );
    user.execute("document.getElementById('warden-continue-form').submit(); return 1;");
    let refused = user.wait_for_source("was not accepted", Duration::from_secs(10));
    assert!(refused.contains("clicking its button"), "{refused}");

    // The person clicks: back on the page they wanted.
    user.goto("https://chatgpt.com/c/2");
    user.fill("#warden-justification", "reviewing a vendor contract");
    user.click("#warden-continue");
    let landed = user.wait_for_source("origin page /c/2", Duration::from_secs(10));
    assert!(landed.contains("origin page /c/2"), "{landed}");
    assert!(user.url().ends_with("/c/2"), "{}", user.url());

    // A blocked app: Request access, with HTML in the reason.
    user.goto("https://claude.ai/new");
    user.fill("#warden-reason", "<b>bold</b> need it for research");
    user.click("#warden-request-access");
    let sent = user.wait_for_source("warden-request-sent", Duration::from_secs(10));
    assert!(
        sent.contains("has been sent to the security team"),
        "{sent}"
    );

    // The security team sees it (escaped) and approves: Claude is approved for everyone.
    let team = Browser::start(None);
    team.goto(&format!("http://{}/login", gw.admin));
    team.fill("#token", &s.admin);
    team.click("#login");
    let deadline = Instant::now() + Duration::from_secs(10);
    while team.url().ends_with("/login") {
        assert!(Instant::now() < deadline, "login did not finish");
        std::thread::sleep(Duration::from_millis(100));
    }
    team.goto(&format!("http://{}/access-requests", gw.admin));
    let row = team.text("#access-requests tbody tr");
    assert!(
        row.contains("<b>bold</b> need it for research"),
        "shown as text: {row}"
    );
    assert!(row.contains("Claude"), "{row}");
    let bolds = team.execute("return document.querySelectorAll('#access-requests b').length;");
    assert_eq!(bolds, 0, "the reason is not markup");
    let (_, list) = api(gw, &s.admin, "/api/v1/access-requests");
    let id = list["requests"][0]["id"].as_str().unwrap().to_string();
    team.click(&format!("#approve-{id}"));
    // The page's own text says "approved" before the decision lands: wait for the decided
    // page, whose row has no buttons left.
    let button = format!("id=\"approve-{id}\"");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut after = team.source();
    while after.contains(&button) {
        assert!(Instant::now() < deadline, "decided: no buttons\n{after}");
        std::thread::sleep(Duration::from_millis(100));
        after = team.source();
    }
    let (_, app) = api(gw, &s.admin, "/api/v1/apps/claude");
    assert_eq!(app["status"], "approved");
    user.goto("https://claude.ai/new");
    let open = user.wait_for_source("origin page /new", Duration::from_secs(10));
    assert!(open.contains("origin page /new"), "{open}");
}
