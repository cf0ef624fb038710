//! "I open the dashboard, see who uses which AI app, and block one": headless Chromium driven
//! through WebDriver logs in with a token, reads the overview, drills into an app, runs a
//! log-explorer query and marks an app unapproved; then curl through gatewayd gets the block
//! page for it. Screenshots of each step are kept as test artifacts.

use crate::report::start;
use crate::support::curl;
use crate::support::webdriver::Browser;

#[test]
fn an_admin_logs_in_explores_and_blocks_an_app_from_the_dashboard() {
    let s = start();
    let gw = &s.gw;
    let base = format!("http://{}", gw.admin);
    let browser = Browser::start(None);

    browser.goto(&format!("{base}/apps"));
    assert!(
        browser.url().ends_with("/login"),
        "not logged in: {}",
        browser.url()
    );
    browser.fill("#token", "wdn_not-a-token");
    browser.click("#login");
    assert!(browser.text("#login-error").contains("not valid"));
    browser.fill("#token", &s.admin);
    browser.screenshot("dashboard-01-login");
    browser.click("#login");
    // The login's redirect must land before the next navigation, or it overrides it (a
    // loaded machine running the whole suite can take several seconds).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while browser.url().ends_with("/login") {
        assert!(std::time::Instant::now() < deadline, "login did not finish");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }

    // The overview: cards, the trend and the top apps.
    browser.goto(&format!("{base}/?since=30d"));
    let overview = browser.source();
    assert!(overview.contains("Shadow AI overview"), "{overview}");
    assert!(overview.contains("ChatGPT") && overview.contains("Claude"));
    assert!(
        overview.contains(">304<"),
        "total requests card: {overview}"
    );
    assert!(overview.contains("<svg"), "charts are drawn");
    browser.screenshot("dashboard-02-overview");

    // Drill into ChatGPT.
    browser.click("a[href^=\"/apps/chatgpt\"]");
    assert!(browser.url().contains("/apps/chatgpt"), "{}", browser.url());
    let app = browser.source();
    assert!(app.contains("App: chatgpt"));
    assert!(app.contains("dev-alice") && app.contains("alice"));
    assert!(app.contains(">240<"), "ChatGPT's requests");
    browser.screenshot("dashboard-03-app");

    // The log explorer: a query runs, a write is refused plainly.
    browser.goto(&format!("{base}/explorer"));
    browser.fill(
        "#sql",
        "SELECT app_id, count() AS requests FROM http_events GROUP BY app_id ORDER BY requests DESC",
    );
    browser.click("#run");
    let result = browser.text("#query-result");
    assert!(
        result.contains("chatgpt") && result.contains("240"),
        "{result}"
    );
    assert!(browser.text("#query-summary").starts_with("3 rows"));
    browser.screenshot("dashboard-04-explorer");
    browser.fill("#sql", "DROP TABLE http_events");
    browser.click("#run");
    assert!(browser.text("#query-error").contains("only SELECT"));

    // Mark ChatGPT unapproved inline on the apps table.
    browser.goto(&format!("{base}/apps?since=30d"));
    browser.click("tr[data-app=\"chatgpt\"] option[value=\"unapproved\"]");
    browser.click("tr[data-app=\"chatgpt\"] button");
    // A change that starts blocking asks first.
    let question = browser.wait_for_source("id=\"confirm\"", std::time::Duration::from_secs(10));
    assert!(question.contains("id=\"confirm\""), "{question}");
    browser.click("#confirm-yes");
    browser.wait_for_source("id=\"notice\"", std::time::Duration::from_secs(10));
    assert!(
        browser.url().contains("/apps?since=30d"),
        "{}",
        browser.url()
    );
    // The post redirects back to the same URL: wait for the new page, not the URL.
    let apps = browser.wait_for_source(
        "<option value=\"unapproved\" selected",
        std::time::Duration::from_secs(10),
    );
    assert!(
        apps.contains("<option value=\"unapproved\" selected"),
        "{apps}"
    );
    browser.screenshot("dashboard-05-unapproved");

    let root = gw.root_pem.display().to_string();
    let blocked = curl(&[
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &root,
        "-H",
        "Accept: text/html",
        "https://chatgpt.com/",
    ]);
    assert_eq!(blocked.status, 403, "{}", blocked.body_text());
    assert_eq!(blocked.header("x-warden-rule"), Some("block-unapproved"));
    assert!(blocked.body_text().contains("not approved"));

    let (_, audit) = crate::report::api(gw, &s.admin, "/api/v1/audit");
    let entries = audit["entries"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["action"] == "set_app_status"
        && e["actor"] == "dashboard:sec-team"
        && e["detail"].as_str().unwrap().contains("chatgpt")));
    assert!(entries.iter().any(|e| e["action"] == "login_refused"));
}

#[test]
fn dashboard_forms_need_the_session_and_its_csrf_token() {
    let s = start();
    let base = format!("http://{}", s.gw.admin);
    let jar = s.gw.dir.path().join("cookies");
    let jar = jar.display().to_string();
    let login = curl(&[
        "-c",
        &jar,
        "-d",
        &format!("token={}", s.analyst),
        &format!("{base}/login"),
    ]);
    assert_eq!(login.status, 303);
    let cookie = login.header("set-cookie").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );

    let page = curl(&["-b", &jar, &format!("{base}/apps")]);
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-security-policy")
        .unwrap()
        .contains("default-src 'none'"));
    assert!(
        !page.body_text().contains("<select name=\"status\""),
        "analysts see no status form"
    );

    let no_csrf = curl(&[
        "-b",
        &jar,
        "-d",
        "status=approved",
        &format!("{base}/apps/claude/status"),
    ]);
    assert_eq!(no_csrf.status, 403);
    let csrf = page
        .body_text()
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    let cross_site = curl(&[
        "-b",
        &jar,
        "-H",
        "Origin: http://evil.example",
        "-d",
        &format!("csrf={csrf}&status=approved"),
        &format!("{base}/apps/claude/status"),
    ]);
    assert_eq!(cross_site.status, 403);
    let analyst = curl(&[
        "-b",
        &jar,
        "-d",
        &format!("csrf={csrf}&status=approved"),
        &format!("{base}/apps/claude/status"),
    ]);
    assert_eq!(analyst.status, 403, "analysts cannot change statuses");
    assert!(analyst.body_text().contains("admin role"));

    let export = curl(&["-b", &jar, &format!("{base}/export/users?since=30d")]);
    assert_eq!(export.status, 200);
    assert!(export.body_text().starts_with("user,groups,requests"));

    let logout = curl(&[
        "-b",
        &jar,
        "-d",
        &format!("csrf={csrf}"),
        &format!("{base}/logout"),
    ]);
    assert_eq!(logout.status, 303);
    let after = curl(&["-b", &jar, &format!("{base}/apps")]);
    assert_eq!(after.status, 303, "the session ended");
    assert_eq!(after.header("location"), Some("/login"));
}
