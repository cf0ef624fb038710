//! "Perplexity was down for an hour and the dashboard said we blocked it" (bug 4): requests
//! to an AI app whose upstream refuses the connection are errors, not blocks. The analyst sees
//! them on the overview's own Errors card and in the apps list's Errors column, both linking
//! to the failing transactions, while Blocked counts only the request a rule refused — for a
//! short range (raw events) and a day (the hourly rollups) alike.

use crate::report::api;
use crate::support::curl;
use crate::support::webdriver::Browser;

use super::{start, wait_query};

const POLICY: &str = r#"
version = "errors-test-1"

[[rule]]
id = "block-claude"
when = { app = "claude" }
action = "block"
"#;

#[test]
fn upstream_failures_are_errors_apart_from_blocks_and_link_to_the_failing_events() {
    // Perplexity's address: a port where nothing listens (bound, then closed).
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let s = start(
        POLICY,
        vec![
            ("www.perplexity.ai:80".into(), closed.to_string()),
            ("www.perplexity.ai:443".into(), closed.to_string()),
        ],
    );
    let proxy = s.gw.proxy_url();
    let root = s.gw.root_pem.display().to_string();
    for path in ["search?q=1", "search?q=2", "search?q=3"] {
        let failed = curl(&[
            "-x",
            &proxy,
            "--cacert",
            &root,
            &format!("https://www.perplexity.ai/{path}"),
        ]);
        assert!(
            failed.status == 502 || failed.status == 504,
            "{} {}",
            failed.status,
            failed.body_text()
        );
        assert_eq!(failed.header("x-warden-action"), Some("error"));
    }
    let blocked = curl(&["-x", &proxy, "--cacert", &root, "https://claude.ai/new"]);
    assert_eq!(blocked.status, 403, "{}", blocked.body_text());
    let served = curl(&["-x", &proxy, "--cacert", &root, "https://chatgpt.com/"]);
    assert_eq!(served.status, 200, "{}", served.body_text());
    wait_query(
        &s.clickhouse,
        "SELECT count() FROM warden.http_events WHERE app_id IN ('perplexity', 'claude', 'chatgpt')",
        |n| n == "5",
    );
    assert_eq!(
        wait_query(
            &s.clickhouse,
            "SELECT action, blocked, count() FROM warden.http_events WHERE app_id = 'perplexity' \
             GROUP BY action, blocked",
            |t| !t.is_empty(),
        ),
        "error\t0\t3",
        "a failure is recorded as an error, never as blocked"
    );

    // The API: errors apart from blocked, for the raw events (1h) and the rollups (24h).
    for since in ["1h", "24h"] {
        let (status, overview) = api(
            &s.gw,
            &s.analyst,
            &format!("/api/v1/report/overview?since={since}"),
        );
        assert_eq!(status, 200, "{overview}");
        assert_eq!(overview["totals"]["errors"], 3, "{since}: {overview}");
        assert_eq!(overview["totals"]["blocked"], 1, "{since}: {overview}");
        let (_, apps) = api(
            &s.gw,
            &s.analyst,
            &format!("/api/v1/report/apps?since={since}&sort=errors"),
        );
        let first = &apps["apps"][0];
        assert_eq!(first["app_id"], "perplexity", "{since}: {apps}");
        assert_eq!(
            (&first["errors"], &first["blocked"]),
            (&3.into(), &0.into())
        );
    }
    let (status, listed) = api(
        &s.gw,
        &s.analyst,
        "/api/v1/report/errors/perplexity?since=1h",
    );
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["total"], 3, "{listed}");
    let events = listed["events"].as_array().unwrap();
    assert_eq!(events.len(), 3);
    assert!(events.iter().all(|e| e["host"] == "www.perplexity.ai"));
    let (_, none) = api(&s.gw, &s.analyst, "/api/v1/report/errors/claude?since=1h");
    assert_eq!(none["total"], 0, "a block is not an error: {none}");

    // The dashboard: the overview's Errors card, next to Blocked, links to the failures.
    let base = format!("http://{}", s.gw.admin);
    let browser = Browser::start(None);
    browser.login(&s.gw.admin.to_string(), &s.analyst);
    browser.goto(&format!("{base}/?since=1h"));
    // (Card labels are upper-cased by the stylesheet.)
    let card = browser.text("#errors-card").to_lowercase();
    assert!(card.contains("errors\n3"), "{card}");
    assert!(card.contains("not blocks"), "{card}");
    let cards = browser.text(".cards").to_lowercase();
    assert!(cards.contains("blocked\n1"), "{cards}");
    browser.screenshot("analyst-01-overview-errors");
    browser.click("#errors-card a");
    assert!(browser.url().contains("/errors"), "{}", browser.url());
    let list = browser.text("#errors");
    assert_eq!(list.matches("GET /search 502").count(), 3, "{list}");
    assert!(!list.contains("claude"), "{list}");
    assert!(browser
        .text("#errors-summary")
        .contains("Nothing was blocked"));
    browser.screenshot("analyst-02-errors");
    browser.click("#errors a[href^=\"/events/\"]");
    assert!(browser.url().contains("/events/"), "{}", browser.url());
    assert!(browser.text("#event-action").contains("error"));

    // The apps list: an Errors column, linked; Blocked stays 0 for the failing app.
    browser.goto(&format!("{base}/apps?since=24h"));
    let headings = browser.text("#apps thead");
    assert!(headings.to_lowercase().contains("errors"), "{headings}");
    let row = |app: &str, column: usize| {
        let value = browser.execute(&format!(
            "return document.querySelector('#apps tr[data-app=\"{app}\"]')\
             .children[{column}].innerText"
        ));
        value.as_str().unwrap_or_default().trim().to_string()
    };
    // App, Category, Status, Risk, Requests, Users, Devices, Sent, Received, Uploads,
    // Blocked (10), Errors (11).
    assert_eq!(row("perplexity", 10), "0");
    assert_eq!(row("perplexity", 11), "3");
    assert_eq!(row("claude", 10), "1");
    assert_eq!(row("claude", 11), "0");
    browser.click("#apps tr[data-app=\"perplexity\"] a.errors");
    assert!(
        browser.url().contains("/errors/perplexity"),
        "{}",
        browser.url()
    );
    assert_eq!(
        browser.text("#errors").matches("GET /search 502").count(),
        3
    );
    browser.screenshot("analyst-03-app-errors");
}
