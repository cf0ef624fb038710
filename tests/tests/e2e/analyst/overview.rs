//! "Three tables that say the same thing" (the overview rework): the overview spans the
//! page and shows allowed vs blocked vs failed, one top-apps table, the top users, the top
//! DLP types and the riskiest unsanctioned apps with the catalog's reasons.

use crate::report::{api, start};
use crate::support::webdriver::Browser;

#[test]
fn the_overview_shows_outcomes_top_users_dlp_types_and_the_riskiest_unsanctioned_apps() {
    let s = start();
    let (status, overview) = api(&s.gw, &s.analyst, "/api/v1/report/overview?since=30d");
    assert_eq!(status, 200, "{overview}");
    // The data set: 304 requests, 3 blocked, no warnings or failures; alice leads.
    assert_eq!(
        overview["outcomes"],
        serde_json::json!({"allowed": 301, "warned": 0, "blocked": 3, "errors": 0})
    );
    assert_eq!(overview["top_users"][0]["user"], "alice", "{overview}");
    assert_eq!(
        overview["top_dlp"][0]["detector"], "credit_card",
        "{overview}"
    );
    let riskiest = overview["riskiest_unsanctioned"].as_array().unwrap();
    assert_eq!(riskiest.len(), 3, "{overview}");
    let risks: Vec<u64> = riskiest
        .iter()
        .map(|a| a["risk"].as_u64().unwrap())
        .collect();
    assert!(
        risks.windows(2).all(|w| w[0] >= w[1]),
        "riskiest first: {risks:?}"
    );

    let browser = Browser::start(None);
    browser.login(&s.gw.admin.to_string(), &s.analyst);
    browser.goto(&format!("http://{}/?since=30d", s.gw.admin));
    let outcomes = browser.text("#outcomes");
    assert!(
        outcomes.contains("Allowed\t301") || outcomes.contains("Allowed 301"),
        "{outcomes}"
    );
    assert!(
        outcomes.contains("Blocked\t3") || outcomes.contains("Blocked 3"),
        "{outcomes}"
    );
    let users = browser.text("#top-users");
    assert!(users.find("alice") < users.find("bob"), "{users}");
    browser.click("#top-users a[href^=\"/users/alice\"]");
    assert!(browser.url().contains("/users/alice"), "{}", browser.url());
    browser.goto(&format!("http://{}/?since=30d", s.gw.admin));
    let dlp = browser.text("#top-dlp");
    assert!(
        dlp.contains("credit_card") && dlp.contains("aws_access_key_id"),
        "{dlp}"
    );
    let risky = browser.text("#riskiest");
    for app in ["ChatGPT", "Claude", "Gemini"] {
        assert!(risky.contains(app), "{app} in {risky}");
    }
    browser.find("#riskiest details.risk");
    // One table of top apps, not three.
    let page = browser.source();
    assert!(!page.contains("Top apps by users") && !page.contains("Top apps by data sent"));
    // The panels use the page's width: two side by side on a wide window.
    let side_by_side = browser.execute(
        "const a = document.querySelector('#trend').getBoundingClientRect();\
         const b = document.querySelector('#outcomes').getBoundingClientRect();\
         return [a.top === b.top, a.width + b.width > 0.8 * document.querySelector('main').clientWidth];",
    );
    assert_eq!(side_by_side, serde_json::json!([true, true]), "layout");
    browser.screenshot("analyst-30-overview");
}
