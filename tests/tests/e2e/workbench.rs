//! "I follow one person, then one transaction": the analyst's workbench in headless Chromium
//! over a real ClickHouse — the user page (apps, blocks, DLP by type, devices, timeline), the
//! event page (masked findings; the audited prompt for an investigator only, and the read in
//! the audit trail), tables sorted by any column, and the log explorer's column reference,
//! horizontal scrolling and CSV export, with analysts kept away from `audit_prompt`. Names
//! and ids with quotes, HTML and `../` are used throughout as an attacker would.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::report::{api, post_query, start, token, ReportSetup};
use crate::support::report_data::insert;
use crate::support::webdriver::Browser;
use crate::support::{curl, GatewayProcess};

/// A user name and a request id an attacker controls (a proxy user name, a forged header).
const ODD_USER: &str = "o'brien\"<img src=x>../../etc";
const ODD_ID: &str = "req-'\"<b>x</b>../1";
const PROMPT: &str = "summarise <b>Project Falcon</b> for the board";

/// Percent-encodes everything but letters, digits and `-_.~`.
fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// One blocked ChatGPT request by [`ODD_USER`] with an audited prompt and a card finding.
fn seed_odd_event(s: &ReportSetup) {
    let ts = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 60;
    let url = s.clickhouse.http_url();
    insert(
        &url,
        "http_events",
        &[json!({
            "ts": ts, "request_id": ODD_ID, "user": ODD_USER, "groups": ["legal"],
            "device_id": "dev-obrien", "device_posture": "disk_encrypted=false",
            "src_ip": "10.0.0.9", "country": "US", "city": "", "host": "chatgpt.com",
            "app_id": "chatgpt", "app_name": "ChatGPT", "category": "chat",
            "app_status": "unapproved", "discovered": 0, "method": "POST",
            "path": "/backend-api/conversation", "status": 403, "action": "dlp", "blocked": 1,
            "rule_id": "dlp-block", "policy_version": "7", "detail": "credit card found",
            "upload": 0, "file_names": [], "prompt_length": 44, "model": "gpt-4o",
            "dlp_detectors": ["credit_card"], "dlp_finding_count": 1,
            "bytes_up": 1_234_567, "bytes_down": 0, "latency_ms": 12, "audit_prompt": PROMPT,
        })],
    );
    insert(
        &url,
        "dlp_findings",
        &[json!({
            "ts": ts, "request_id": ODD_ID, "user": ODD_USER, "app_id": "chatgpt",
            "detector": "credit_card", "finding_count": 1, "confidence": "high",
            "action": "block", "snippet": "4111 **** **** 1111",
        })],
    );
}

/// A new token of `role` that the daemon already accepts (it re-reads the file each second).
fn live_token(gw: &GatewayProcess, role: &str, name: &str) -> String {
    let token = token(gw, role, name);
    let deadline = Instant::now() + Duration::from_secs(10);
    while api(gw, &token, "/api/v1/apps").0 != 200 {
        assert!(
            Instant::now() < deadline,
            "the daemon did not load the token"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    token
}

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

fn audit_entries(s: &ReportSetup) -> Vec<Value> {
    let (status, audit) = api(&s.gw, &s.admin, "/api/v1/audit?limit=1000");
    assert_eq!(status, 200, "{audit}");
    audit["entries"].as_array().cloned().unwrap_or_default()
}

#[test]
fn an_analyst_follows_a_user_to_an_event_and_only_an_investigator_reads_the_prompt() {
    let s = start();
    seed_odd_event(&s);
    let gw = &s.gw;
    let base = format!("http://{}", gw.admin);
    let investigator = live_token(gw, "investigator", "ivy");
    let browser = Browser::start(None);
    login(&browser, gw, &s.analyst);

    // From the users table to alice's page: her apps, blocks, DLP by type, device, timeline.
    browser.goto(&format!("{base}/users?since=30d"));
    browser.click("a[href^=\"/users/alice?\"]");
    assert!(browser.url().contains("/users/alice"), "{}", browser.url());
    assert!(browser.text("#apps").contains("chatgpt"));
    let blocks = browser.text("#blocks");
    assert!(
        blocks.contains("chatgpt") && blocks.contains("block"),
        "{blocks}"
    );
    let dlp = browser.text("#dlp");
    assert!(dlp.contains("credit_card") && dlp.contains('6'), "{dlp}");
    assert!(browser.text("#devices").contains("dev-alice"));
    assert!(browser.text("#timeline").contains("req-"));
    browser.screenshot("workbench-01-user");

    // A blocked request's own page: the masked finding, and no prompt was kept.
    browser.click("#blocks a[href^=\"/events/\"]");
    assert!(browser.url().contains("/events/req-"), "{}", browser.url());
    assert!(browser.text("#findings").contains("4111 **** **** 1111"));
    assert!(browser.text("#event-action").contains("block"));
    browser.find("#no-prompt");

    // The attacker's name: linked from the users list, shown as text, never as markup.
    browser.goto(&format!("{base}/users?since=1h"));
    let users = browser.source();
    assert!(
        users.contains(&format!("href=\"/users/{}?", enc(ODD_USER))),
        "{users}"
    );
    assert!(!users.contains("<img src=x>"), "the name is escaped");
    browser.goto(&format!("{base}/users/{}?since=1h", enc(ODD_USER)));
    assert!(browser.text("#user-name").contains(ODD_USER));
    assert!(browser.text("#devices").contains("dev-obrien"));
    assert!(!browser.source().contains("<img src=x>"));
    browser.click("#blocks a[href^=\"/events/\"]");
    assert!(browser.text("#findings").contains("4111 **** **** 1111"));
    browser.find("#prompt-withheld");
    assert!(
        !browser.source().contains("Project Falcon"),
        "an analyst never receives the prompt"
    );
    browser.screenshot("workbench-02-event-analyst");
    let event_url = browser.url();

    // The investigator reads it, escaped, and the read is audited.
    browser.click(".logout button");
    login(&browser, gw, &investigator);
    browser.goto(&event_url);
    assert_eq!(browser.text("#prompt"), PROMPT);
    assert!(browser
        .source()
        .contains("summarise &lt;b&gt;Project Falcon&lt;/b&gt;"));
    browser.screenshot("workbench-03-event-investigator");

    // The same over the API, for each role.
    let path = format!("/api/v1/events/{}", enc(ODD_ID));
    let (status, seen) = api(gw, &s.analyst, &path);
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["event"]["user"], ODD_USER);
    assert_eq!(seen["audit_prompt"]["present"], true);
    assert!(seen["audit_prompt"]["text"].is_null(), "{seen}");
    assert_eq!(seen["findings"][0]["snippet"], "4111 **** **** 1111");
    let (_, seen) = api(gw, &s.admin, &path);
    assert!(
        seen["audit_prompt"]["text"].is_null(),
        "admins do not read prompts"
    );
    let (_, seen) = api(gw, &investigator, &path);
    assert_eq!(seen["audit_prompt"]["text"], PROMPT);
    let (status, report) = api(
        gw,
        &s.analyst,
        &format!("/api/v1/report/user/{}?since=1h", enc(ODD_USER)),
    );
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["user"], ODD_USER);
    assert_eq!(report["apps"][0]["app_id"], "chatgpt");
    assert_eq!(report["blocked"][0]["request_id"], ODD_ID);

    // Names and ids that are not there, or try to climb out, are simply not found.
    for path in [
        "/api/v1/report/user/x'%20OR%20'1'='1?since=30d".to_string(),
        "/api/v1/report/user/..%2F..%2Fetc%2Fpasswd".to_string(),
        "/api/v1/events/..%2F..%2Fetc%2Fpasswd".to_string(),
        format!("/api/v1/events/{}", enc("x' OR '1'='1")),
        format!("/api/v1/events/{}", "x".repeat(300)),
    ] {
        let (status, body) = api(gw, &s.analyst, &path);
        assert_eq!(status, 404, "{path}: {body}");
    }
    browser.goto(&format!("{base}/users/..%2F..%2Fetc%2Fpasswd"));
    assert!(browser.text("#page-error").contains("no activity"));

    let entries = audit_entries(&s);
    let reads: Vec<&Value> = entries
        .iter()
        .filter(|e| e["action"] == "read_audit_prompt")
        .collect();
    assert!(
        reads.iter().any(|e| e["actor"] == "dashboard:ivy"),
        "{entries:?}"
    );
    assert!(reads.iter().any(|e| e["actor"] == "token:ivy"));
    assert!(reads
        .iter()
        .all(|e| e["actor"].as_str().unwrap().ends_with(":ivy")));
    assert!(reads[0]["detail"].as_str().unwrap().contains(ODD_ID));
}

#[test]
fn tables_sort_by_any_column_statuses_keep_their_colour_and_risk_says_why() {
    let s = start();
    let gw = &s.gw;
    let base = format!("http://{}", gw.admin);
    let browser = Browser::start(None);
    login(&browser, gw, &s.admin);

    let first_user = || browser.text("main table tbody tr:first-child td:first-child");
    browser.goto(&format!("{base}/users?since=30d"));
    assert_eq!(first_user(), "alice", "most requests first");
    browser.click("th a.sort[href*=\"sort=user&dir=desc\"]");
    assert_eq!(first_user(), "erin");
    browser.click("th a.sort[href*=\"sort=user&dir=asc\"]");
    assert_eq!(first_user(), "alice");
    assert!(browser.url().contains("since=30d"), "the filter is kept");
    browser.screenshot("workbench-04-sorted");

    // One of a page's other tables sorts on its own.
    let first_detector = |dir: &str| {
        browser.goto(&format!(
            "{base}/dlp?since=30d&sort=detectors.detector&dir={dir}"
        ));
        browser.text("main table tbody tr:first-child td:first-child")
    };
    assert_eq!(first_detector("asc"), "aws_access_key_id");
    assert_eq!(first_detector("desc"), "credit_card");

    // Apps by name either way; an admin's status select carries its colour; risk has reasons.
    browser.goto(&format!("{base}/apps?since=30d&sort=name&dir=desc"));
    let apps = browser.source();
    let order: Vec<usize> = [
        "data-app=\"gemini\"",
        "data-app=\"claude\"",
        "data-app=\"chatgpt\"",
    ]
    .iter()
    .map(|needle| apps.find(needle).unwrap_or(usize::MAX))
    .collect();
    assert!(order[0] < order[1] && order[1] < order[2], "{order:?}");
    assert!(
        apps.contains("<select name=\"status\" class=\"status-"),
        "{apps}"
    );
    assert!(apps.contains("<details class=\"risk\">"));
    browser.click("tr[data-app=\"chatgpt\"] details.risk summary");
    assert!(!browser
        .text("tr[data-app=\"chatgpt\"] details.risk li")
        .is_empty());
    let nowrap = browser
        .execute("return getComputedStyle(document.querySelector('#apps td.num')).whiteSpace");
    assert_eq!(nowrap, "nowrap", "byte and count columns do not wrap");

    // A sort that is not a column is refused, and the refusal is plain text.
    for query in [
        "sort=nope",
        "sort=requests%3B%20DROP%20TABLE%20http_events",
        "sort=user&dir=sideways",
    ] {
        let (status, body) = api(gw, &s.analyst, &format!("/api/v1/report/users?{query}"));
        assert_eq!(status, 400, "{query}: {body}");
    }
    let (_, body) = api(gw, &s.analyst, "/api/v1/report/users?sort=nope");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("sort by one of user, groups, requests"));
    browser.goto(&format!("{base}/users?sort=%3Cscript%3Ex%3C%2Fscript%3E"));
    assert!(browser.text("#page-error").contains("cannot sort by"));
    assert!(!browser.source().contains("<script>"));
    browser.goto(&format!("{base}/dlp?since=30d&sort=detectors.%3Cb%3E"));
    assert!(browser.text("#page-error").contains("cannot sort by"));
}

#[test]
fn the_explorer_scrolls_lists_columns_exports_csv_and_keeps_prompts_from_analysts() {
    let s = start();
    seed_odd_event(&s);
    let gw = &s.gw;
    let base = format!("http://{}", gw.admin);
    let downloads = tempfile::tempdir().unwrap();
    let browser = Browser::start_with(None, Some(downloads.path()));
    login(&browser, gw, &s.analyst);

    browser.goto(&format!("{base}/explorer"));
    browser.click("#columns details[data-table=\"dlp_findings\"] summary");
    assert!(browser.text("#columns").contains("snippet"));
    assert!(browser
        .source()
        .contains("<code>audit_prompt</code> (investigator role only)"));

    // A wide answer scrolls sideways instead of being cut off.
    browser.fill(
        "#sql",
        "SELECT ts, request_id, user, groups, device_id, device_posture, src_ip, country, host, \
         app_id, app_name, category, app_status, method, path, status, action, rule_id, \
         policy_version, detail, file_names, model, dlp_detectors, bytes_up, bytes_down, \
         latency_ms FROM http_events ORDER BY ts DESC LIMIT 5",
    );
    browser.click("#run");
    browser.find("#query-result");
    let wide = browser.execute(
        "const s = document.querySelector('#query-result .scroll'); \
         return [s.scrollWidth, s.clientWidth, getComputedStyle(s).overflowX];",
    );
    assert!(
        wide[0].as_f64().unwrap() > wide[1].as_f64().unwrap() && wide[2] == "auto",
        "{wide}"
    );
    assert!(
        browser.source().contains("latency ms"),
        "the last column is there"
    );
    browser.screenshot("workbench-05-explorer-wide");

    // The same query as a CSV download.
    browser.click("#csv");
    let file = downloads.path().join("warden-query.csv");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !file.exists() {
        assert!(Instant::now() < deadline, "no CSV was downloaded");
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(300));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("ts,request_id,user,groups"), "{text}");
    assert_eq!(text.lines().count(), 6, "{text}");

    // An analyst cannot reach audited prompts, however the query is written.
    for sql in [
        "SELECT audit_prompt FROM http_events",
        "SELECT * FROM http_events LIMIT 1",
        "SELECT formatRow('CSV', *) FROM http_events LIMIT 1",
    ] {
        browser.fill("#sql", sql);
        browser.click("#run");
        // The answer page comes back to the same URL: wait for it to hold this query.
        browser.wait_for_source(&format!("{sql}</textarea>"), Duration::from_secs(10));
        let error = browser.text("#query-error");
        assert!(error.contains("investigator role"), "{sql}: {error}");
    }
    let (status, body) = post_query(gw, &s.analyst, "SELECT `audit_prompt` FROM http_events");
    assert_eq!(status, 400, "{body}");
    let investigator = live_token(gw, "investigator", "ivy");
    let (status, body) = post_query(
        gw,
        &investigator,
        "SELECT audit_prompt FROM http_events WHERE audit_prompt != ''",
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["rows"][0][0], PROMPT);

    // A huge answer (every pair of events: ~93,000 rows) as CSV stops at the same limits as
    // on screen (query_max_rows = 100).
    let huge = curl(&[
        "-H",
        &format!("Authorization: Bearer {}", s.analyst),
        "--data-binary",
        &json!({
            "sql": "SELECT a.request_id, b.request_id, b.path \
                    FROM http_events AS a CROSS JOIN http_events AS b"
        })
        .to_string(),
        &format!("{base}/api/v1/query?format=csv"),
    ]);
    assert_eq!(huge.status, 200, "{}", huge.body_text());
    assert_eq!(huge.header("x-warden-truncated"), Some("true"));
    assert_eq!(huge.body_text().lines().count(), 101);
    assert!(huge
        .header("content-disposition")
        .unwrap()
        .contains("warden-query.csv"));
}
