//! "I triage shadow AI and change approvals in the dashboard" in headless Chromium over a real
//! ClickHouse: the Discovered page with users, requests and bytes per host; blocking a host
//! asks first and then applies without a restart; a status change that starts blocking asks
//! first and every change is confirmed; the Anomalies page says when its baselines are too
//! young and links users and apps. Attacks: a host name carrying HTML and script, an analyst
//! posting a decision with a valid session, and a forged "already confirmed" post.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::discovered::{post_through, CHAT_BODY};
use crate::report::{api, start};
use crate::support::webdriver::Browser;
use crate::support::{curl, GatewayProcess};

/// A host name as an attacker would send it, were anything to let it through.
const ODD_HOST: &str = "evil\"><script>alert(1)</script><img src=x onerror=alert(2)>.test";

fn login(browser: &Browser, gw: &GatewayProcess, token: &str) {
    browser.goto(&format!("http://{}/login", gw.admin));
    browser.fill("#token", token);
    browser.click("#login");
    let deadline = Instant::now() + Duration::from_secs(10);
    while browser.url().ends_with("/login") {
        assert!(Instant::now() < deadline, "login did not finish");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits for the page a click led to: its source shows `needle`.
fn arrive(browser: &Browser, needle: &str) {
    let source = browser.wait_for_source(needle, Duration::from_secs(10));
    assert!(
        source.contains(needle),
        "{needle:?} not on {}:\n{source}",
        browser.url()
    );
}

/// Waits until the browser is at a URL that `ok` accepts.
fn at(browser: &Browser, ok: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ok(&browser.url()) {
        assert!(Instant::now() < deadline, "still at {}", browser.url());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A dashboard session driven by curl (for the posts a browser would not make): the cookie
/// jar and the session's CSRF token.
fn form_session(gw: &GatewayProcess, token: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let jar = dir.path().join("jar").display().to_string();
    let login = curl(&[
        "-c",
        &jar,
        "--data-urlencode",
        &format!("token={token}"),
        &format!("http://{}/login", gw.admin),
    ]);
    assert_eq!(login.status, 303, "{}", login.body_text());
    let page = curl(&["-b", &jar, &format!("http://{}/", gw.admin)]).body_text();
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF token on the page")
        .to_string();
    (dir, csrf)
}

fn form_post(
    gw: &GatewayProcess,
    jar: &tempfile::TempDir,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let jar = jar.path().join("jar").display().to_string();
    let mut args = vec!["-b".to_string(), jar];
    for (name, value) in fields {
        args.push("--data-urlencode".into());
        args.push(format!("{name}={value}"));
    }
    args.push(format!("http://{}{path}", gw.admin));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = curl(&refs);
    (result.status, result.body_text())
}

#[test]
fn discovered_hosts_are_triaged_and_approval_changes_ask_before_they_block() {
    let mut s = start();
    assert_eq!(
        post_through(&s.gw, "https://chat.test/api/send", CHAT_BODY).status,
        200
    );
    // The record of the odd host is put where the daemon keeps discovered hosts, as if its
    // traffic had been seen: the page must show it as text whatever it holds.
    let file = s.gw.dir.path().join("state/discovered-apps.json");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&file)
        .unwrap_or_default()
        .contains("chat.test")
    {
        assert!(Instant::now() < deadline, "discovered apps never saved");
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut apps: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    apps.push(json!({
        "host": ODD_HOST, "first_seen_unix_ms": 1, "last_seen_unix_ms": 4_102_444_800_000u64,
        "requests": 3, "evidence": ["api_path:<b>openai</b>"], "confidence": "medium",
        "status": "unreviewed",
    }));
    std::fs::write(&file, serde_json::to_string(&apps).unwrap()).unwrap();
    s.gw.crash_and_restart();
    let gw = &s.gw;
    // Users and bytes come from the events: wait until ClickHouse has the request.
    let deadline = Instant::now() + Duration::from_secs(15);
    while api(gw, &s.analyst, "/api/v1/discovered").1["discovered"]
        .to_string()
        .find("\"users\":1")
        .is_none()
    {
        assert!(Instant::now() < deadline, "usage never arrived");
        std::thread::sleep(Duration::from_millis(250));
    }
    let base = format!("http://{}", gw.admin);

    // The analyst reads: the host with its users, requests and bytes, the odd name as text,
    // and no decision forms.
    let analyst = Browser::start(None);
    login(&analyst, gw, &s.analyst);
    analyst.goto(&format!("{base}/discovered"));
    let row = analyst.text("tr[data-host=\"chat.test\"]");
    assert!(
        row.contains("chat.test") && row.contains("model_name:openai"),
        "{row}"
    );
    assert!(analyst.text("#discovered").contains(ODD_HOST));
    let source = analyst.source();
    assert!(!source.contains("<script>alert(1)"), "{source}");
    assert!(!source.contains("<b>openai"), "{source}");
    assert_eq!(analyst.execute("return document.scripts.length"), json!(0));
    assert_eq!(analyst.execute("return document.images.length"), json!(0));
    assert!(
        !source.contains("class=\"block danger\""),
        "analysts get no actions"
    );
    analyst.screenshot("discovered-01-analyst");
    // Attack: the analyst posts a decision anyway, with a valid session and CSRF token.
    let (jar, csrf) = form_session(gw, &s.analyst);
    let (status, page) = form_post(
        gw,
        &jar,
        "/discovered/decide",
        &[
            ("csrf", &csrf),
            ("host", "chat.test"),
            ("action", "block"),
            ("confirm", "yes"),
        ],
    );
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("needs the admin role"), "{page}");

    // The admin blocks chat.test: asked first, Cancel changes nothing, Confirm applies it.
    let admin = Browser::start(None);
    login(&admin, gw, &s.admin);
    admin.goto(&format!("{base}/discovered"));
    admin.click("tr[data-host=\"chat.test\"] button.block");
    arrive(&admin, "id=\"confirm\"");
    assert!(admin
        .text("#confirm")
        .contains("blocks every request to chat.test"));
    admin.screenshot("discovered-02-confirm-block");
    admin.click("#confirm-no");
    at(&admin, |url| url.ends_with("/discovered"));
    assert_eq!(
        post_through(gw, "https://chat.test/api/send", CHAT_BODY).status,
        200
    );
    admin.click("tr[data-host=\"chat.test\"] button.block");
    arrive(&admin, "id=\"confirm\"");
    admin.click("#confirm-yes");
    arrive(&admin, "id=\"notice\"");
    assert!(admin.url().contains("decided=chat.test"), "{}", admin.url());
    assert!(admin.text("#notice").contains("catalog app chat-test"));
    assert!(admin.text("#decisions").contains("chat.test"));
    assert!(!admin.source().contains("data-host=\"chat.test\""));
    admin.screenshot("discovered-03-decided");
    let blocked = post_through(gw, "https://chat.test/api/send", CHAT_BODY);
    assert_eq!(
        blocked.status,
        403,
        "applied without a restart: {}",
        blocked.body_text()
    );

    // "Not AI" on the odd host: refused as a host name, and the refusal is text too.
    admin.goto(&format!("{base}/discovered"));
    admin.click("#discovered button.not-ai");
    arrive(&admin, "id=\"page-error\"");
    let error = admin.text("#page-error");
    assert!(error.contains("invalid host"), "{error}");
    assert_eq!(admin.execute("return document.scripts.length"), json!(0));

    // A status change that starts blocking asks first; every change is confirmed after.
    admin.goto(&format!("{base}/apps?since=30d"));
    admin.click("tr[data-app=\"claude\"] option[value=\"unapproved\"]");
    admin.click("tr[data-app=\"claude\"] button");
    arrive(&admin, "id=\"confirm\"");
    let question = admin.text("#confirm");
    assert!(
        question.contains("Claude") && question.contains("blocks every request"),
        "{question}"
    );
    admin.screenshot("discovered-04-confirm-status");
    admin.click("#confirm-yes");
    arrive(&admin, "id=\"notice\"");
    let notice = admin.text("#notice");
    assert!(
        notice.contains("Claude") && notice.contains("unreviewed") && notice.contains("unapproved"),
        "{notice}"
    );
    assert!(admin.url().contains("since=30d"), "{}", admin.url());
    admin.click("tr[data-app=\"claude\"] option[value=\"approved\"]");
    admin.click("tr[data-app=\"claude\"] button");
    arrive(&admin, "to <span class=\"status-approved\">approved</span>");
    let notice = admin.text("#notice");
    assert!(
        notice.contains("unapproved") && notice.contains("approved"),
        "no question for approving: {notice}"
    );

    // Attack: a post that claims to be confirmed for another starting status is asked again,
    // and changes nothing.
    let (jar, csrf) = form_session(gw, &s.admin);
    let (status, page) = form_post(
        gw,
        &jar,
        "/apps/gemini/status",
        &[
            ("csrf", &csrf),
            ("status", "unapproved"),
            ("confirm", "yes"),
            ("from", "approved"),
            ("return", "/apps"),
        ],
    );
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"confirm\""), "{page}");
    let (_, gemini) = api(gw, &s.analyst, "/api/v1/apps/gemini");
    assert_eq!(gemini["status"], "unreviewed", "{gemini}");

    // Anomalies: the seed holds a week of history, less than the 30 days new countries need.
    admin.goto(&format!("{base}/anomalies"));
    let note = admin.text("#baseline-note");
    assert!(note.contains("Baselines are still young"), "{note}");
    admin.screenshot("discovered-05-anomalies");
    admin.click("#anomaly-list a[href^=\"/apps/chatgpt\"]");
    at(&admin, |url| url.contains("/apps/chatgpt"));
    admin.goto(&format!("{base}/anomalies"));
    admin.click("#anomaly-list a[href=\"/users/alice\"]");
    at(&admin, |url| url.ends_with("/users/alice"));
}
