//! "Manage the AI gateway's keys from the dashboard" (issue 19): a key admin, in headless
//! Chromium, creates a virtual key on `/ai/keys` (its secret shown once), the official
//! `openai` SDK calls the gateway with it, the spend page shows the call by key, team, user
//! and model, and after the Revoke button the SDK gets 401. On `/ai/provider-keys` the key
//! admin adds, rotates and deletes a provider key through the command line's code, and no
//! value is ever in a page, the log or the state files in clear.
//!
//! Attacks: an analyst (not key_admin) can neither see nor post the key pages (403, nothing
//! changed); a form posted from another site is refused (403) even with the victim's valid
//! session and CSRF token; a post without the CSRF token is refused.

use std::time::Duration;

use serde_json::Value;

use crate::aigw::{plan, AiGateway, ANTHROPIC_KEY, OPENAI_KEY};
use crate::aigw_spend::{num, rows, sections};
use crate::support::curl;
use crate::support::webdriver::Browser;
use schema::testkit::ClickHouseServer;

/// A provider key added from the page (never sent anywhere: no provider uses it).
const GROQ_KEY: &str = "gsk_DashboardAddedKey9xQ4mZ7wR2tY5uI8oP1aS3";
const GROQ_KEY_ROTATED: &str = "gsk_DashboardRotatedKey4hJ6kL8zX0cV2bN5mQ7w";

pub(crate) fn admin_addr(gw: &AiGateway) -> String {
    let listen = std::fs::read_to_string(gw.dir.path().join("state/listen.json")).unwrap();
    let listen: Value = serde_json::from_str(&listen).unwrap();
    listen["admin"].as_str().unwrap().to_string()
}

pub(crate) fn token(gw: &mut AiGateway, role: &str, name: &str) -> String {
    gw.cli(
        &["admin", "token", "create", "--role", role, "--name", name],
        "",
    )
    .lines()
    .last()
    .unwrap()
    .trim()
    .to_string()
}

/// The session cookie (`name=value`) and CSRF token of a curl login with `token` (the
/// daemon reads a new token's file within a second).
fn session(admin: &str, token: &str) -> (String, String) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let login = loop {
        let login = curl(&[
            "-d",
            &format!("token={token}"),
            &format!("http://{admin}/login"),
        ]);
        if login.status == 303 || std::time::Instant::now() > deadline {
            break login;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(login.status, 303, "{}", login.body_text());
    let cookie = login
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let page = curl(&[
        "-H",
        &format!("Cookie: {cookie}"),
        &format!("http://{admin}/"),
    ]);
    let csrf = page
        .body_text()
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    (cookie, csrf)
}

/// A form post with the session, from `origin`; the HTTP status and the page.
fn post(admin: &str, cookie: &str, origin: &str, path: &str, form: &str) -> (u16, String) {
    let r = curl(&[
        "-H",
        &format!("Cookie: {cookie}"),
        "-H",
        &format!("Origin: {origin}"),
        "-d",
        form,
        &format!("http://{admin}{path}"),
    ]);
    (r.status, r.body_text())
}

#[test]
fn a_key_admin_creates_a_virtual_key_in_the_dashboard_the_sdk_uses_it_and_revoking_it_gets_401() {
    let clickhouse = ClickHouseServer::start().expect("clickhouse-server starts");
    let mut gw = AiGateway::start_with(&sections(&clickhouse));
    let admin = admin_addr(&gw);
    let keys_token = token(&mut gw, "key_admin", "keykeeper");
    let browser = Browser::start(None);
    browser.login(&admin, &keys_token);

    // Create: the secret is on the answer to the form, once.
    browser.goto(&format!("http://{admin}/ai/keys"));
    browser.fill("#key-name", "dash-laptop");
    browser.fill("#key-user", "erin");
    browser.fill("#key-team", "research");
    browser.fill("#key-expires", "30d");
    browser.click("#create");
    browser.wait_for_source("id=\"new-key\"", Duration::from_secs(10));
    let secret = browser.text("#new-key").trim().to_string();
    assert!(secret.starts_with("wvk_") && secret.len() > 30, "{secret}");
    browser.screenshot("aigw-dashboard-key-created");
    browser.goto(&format!("http://{admin}/ai/keys"));
    let listed = browser.source();
    assert!(
        listed.contains("dash-laptop") && listed.contains("research"),
        "{listed}"
    );
    assert!(
        !listed.contains(&secret[4..]),
        "the list never shows a secret"
    );

    // The SDK uses it; the spend page shows the calls by key, team, user and model.
    let results = gw.clients(vec![
        plan("openai", &secret, "gpt-4o-mini", "Say bonjour"),
        plan("openai", &secret, "fast", "Say bonjour"),
    ]);
    for r in &results {
        assert_eq!(r["ok"], true, "{r}");
    }
    let calls = rows(
        &clickhouse,
        "SELECT user, team, virtual_key_name, cost_micro_usd FROM warden.ai_requests",
        2,
        Duration::from_secs(15),
    );
    assert!(calls
        .iter()
        .all(|c| c["team"] == "research" && c["user"] == "erin"));
    let spent: u64 = calls.iter().map(|c| num(&c["cost_micro_usd"])).sum();
    let hourly = rows(
        &clickhouse,
        "SELECT n FROM (SELECT countMerge(calls) AS n FROM warden.ai_requests_hourly) WHERE n = 2",
        1,
        Duration::from_secs(15),
    );
    assert_eq!(num(&hourly[0]["n"]), 2, "the rollup holds both calls");
    browser.goto(&format!("http://{admin}/ai?since=24h"));
    let spend = browser.source();
    browser.screenshot("aigw-dashboard-spend-by-team");
    let dollars = format!("${:.6}", spent as f64 / 1e6);
    assert!(spend.contains(&dollars), "{dollars} in {spend}");
    for shown in [
        "By team",
        "research",
        "dash-laptop",
        "erin",
        "openai/gpt-4o-mini-2024-07-18",
    ] {
        assert!(spend.contains(shown), "{shown} on the spend page: {spend}");
    }
    assert!(
        spend.contains("id=\"key-links\""),
        "a key admin is shown the key pages"
    );
    let report: Value =
        serde_json::from_str(&gw.cli(&["report", "ai", "--json", "--since", "24h"], "")).unwrap();
    assert_eq!(report["source"], "ai_requests_hourly", "{report}");
    assert_eq!(num(&report["totals"]["spend_micro_usd"]), spent, "{report}");
    assert!(!report["totals"]["latency_p50_ms"].is_null(), "{report}");

    // Revoke from the page: the SDK's next call is refused.
    let id = serde_json::from_str::<Value>(
        gw.cli(&["aigw", "keys", "list", "--json"], "")
            .lines()
            .find(|l| l.contains("dash-laptop"))
            .unwrap(),
    )
    .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    browser.goto(&format!("http://{admin}/ai/keys"));
    browser.click(&format!("#revoke-{id}"));
    browser.wait_for_source("id=\"no-keys\"", Duration::from_secs(10));
    let after = gw.clients(vec![plan("openai", &secret, "gpt-4o-mini", "again")]);
    assert_eq!(
        (after[0]["error"].as_str(), after[0]["status"].as_u64()),
        (Some("AuthenticationError"), Some(401)),
        "{}",
        after[0]
    );

    // Provider keys: listed by name and fingerprint, added, rotated and deleted from the page.
    browser.goto(&format!("http://{admin}/ai/provider-keys"));
    let mut pages = browser.source();
    assert!(
        pages.contains("openai-prod") && pages.contains("sha256:"),
        "{pages}"
    );
    assert!(
        !browser
            .text("#provider-key-openai-prod")
            .contains("not since start"),
        "the key the SDK's calls used has a last use"
    );
    assert!(browser
        .text("#provider-key-anthropic-prod")
        .contains("not since start"));
    browser.fill("#pkey-name", "groq-dash");
    browser.fill("#pkey-value", GROQ_KEY);
    browser.click("#add-key");
    browser.wait_for_source("id=\"provider-key-groq-dash\"", Duration::from_secs(10));
    pages.push_str(&browser.source());
    browser.fill("#rotate-value-groq-dash", GROQ_KEY_ROTATED);
    browser.click("#rotate-groq-dash");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !gw
        .cli(&["keys", "list", "--json"], "")
        .contains("\"version\":2")
    {
        assert!(std::time::Instant::now() < deadline, "not rotated");
        std::thread::sleep(Duration::from_millis(100));
    }
    browser.goto(&format!("http://{admin}/ai/provider-keys"));
    pages.push_str(&browser.source());
    browser.click("#delete-groq-dash");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while gw.cli(&["keys", "list"], "").contains("groq-dash") {
        assert!(std::time::Instant::now() < deadline, "not deleted");
        std::thread::sleep(Duration::from_millis(100));
    }
    pages.push_str(&browser.source());
    let audit = std::fs::read_to_string(gw.dir.path().join("state/admin-audit.jsonl")).unwrap();
    for action in [
        "aigw_key.create",
        "aigw_key.revoke",
        "provider_key.add",
        "provider_key.rotate",
        "provider_key.delete",
    ] {
        assert!(
            audit
                .lines()
                .any(|l| l.contains(action) && l.contains("dashboard:keykeeper")),
            "{action} by the dashboard user in {audit}"
        );
    }
    // No provider key's value in any page, the log, the state files or the CLI's output; the
    // virtual key's secret nowhere but the one answer that created it.
    pages.push_str(&spend);
    pages.push_str(&listed);
    gw.assert_no_key_anywhere(
        &pages,
        &[OPENAI_KEY, ANTHROPIC_KEY, GROQ_KEY, GROQ_KEY_ROTATED],
    );
    assert!(
        !gw.log().contains(&secret[4..]),
        "the virtual key is not in the log"
    );
    assert!(!audit.contains(&secret[4..]));
}

#[test]
fn an_analyst_cannot_see_or_post_the_key_pages_and_cross_site_or_tokenless_posts_are_refused() {
    let mut gw = AiGateway::start_with(
        "[clickhouse]\nurl = \"http://127.0.0.1:1\"\n[events]\nenabled = false\n",
    );
    let admin = admin_addr(&gw);
    let own = format!("http://{admin}");
    let analyst = token(&mut gw, "analyst", "ana");
    let (cookie, csrf) = session(&admin, &analyst);
    for page in ["/ai/keys", "/ai/provider-keys"] {
        let r = curl(&["-H", &format!("Cookie: {cookie}"), &format!("{own}{page}")]);
        assert_eq!(r.status, 403, "{page}: {}", r.body_text());
        assert!(r.body_text().contains("key_admin"), "the page says why");
        assert!(
            !r.body_text().contains("openai-prod"),
            "{page} shows nothing"
        );
    }
    let create = format!("csrf={csrf}&name=stolen&user=mallory");
    let add = format!("csrf={csrf}&name=evil&provider=openai&value=sk-evil-value-1234567890");
    for (path, form) in [
        ("/ai/keys/create", create.as_str()),
        ("/ai/provider-keys/add", add.as_str()),
        (
            "/ai/provider-keys/openai-prod/delete",
            &format!("csrf={csrf}"),
        ),
        (
            "/ai/provider-keys/openai-prod/rotate",
            &format!("csrf={csrf}&value=sk-x"),
        ),
    ] {
        let (status, page) = post(&admin, &cookie, &own, path, form);
        assert_eq!(status, 403, "an analyst posting {path}: {page}");
    }
    // The analyst still reads the spend page, without the links to the key pages.
    let spend = curl(&["-H", &format!("Cookie: {cookie}"), &format!("{own}/ai")]);
    assert!(!spend.body_text().contains("id=\"key-links\""));

    // A key admin's valid session and CSRF token, in a form another site posts: refused.
    let keys_token = token(&mut gw, "key_admin", "kim");
    let (cookie, csrf) = session(&admin, &keys_token);
    let create = format!("csrf={csrf}&name=stolen&user=mallory");
    let (status, page) = post(
        &admin,
        &cookie,
        "https://evil.example",
        "/ai/keys/create",
        &create,
    );
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("another site"), "{page}");
    assert!(!page.contains("wvk_"), "no key was made: {page}");
    let delete = format!("csrf={csrf}");
    let (status, _) = post(
        &admin,
        &cookie,
        "https://evil.example",
        "/ai/provider-keys/openai-prod/delete",
        &delete,
    );
    assert_eq!(status, 403);
    // Without the CSRF token, from the right origin: refused too.
    let (status, page) = post(
        &admin,
        &cookie,
        &own,
        "/ai/keys/create",
        "name=stolen&user=m",
    );
    assert_eq!(status, 403, "{page}");
    // Nothing changed.
    assert!(!gw.cli(&["aigw", "keys", "list"], "").contains("stolen"));
    let keys = gw.cli(&["keys", "list"], "");
    assert!(
        keys.contains("openai-prod") && !keys.contains("evil"),
        "{keys}"
    );
    // The same session, from its own origin, with its token: the key admin may.
    let (status, page) = post(&admin, &cookie, &own, "/ai/keys/create", &create);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"new-key\">wvk_"), "{page}");
    gw.assert_no_provider_key_anywhere(&page);
}
