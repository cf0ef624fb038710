//! What the analyst reads about warnings and one person: a warning page shown is its own
//! outcome (`warn`, counted as warned), never a block on the cards, columns or the person's
//! Blocked list; and a person's page lists only that person's blocked requests and only that
//! person's timeline, while other people's traffic is going on beside it. A row without a
//! country (loopback, no GeoIP) is labelled `unknown`, never blank.

use serde_json::Value;

use super::*;
use crate::report::api;

fn texts(rows: &Value, key: &str) -> Vec<String> {
    rows.as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| r[key].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn a_warning_is_not_a_block_and_a_users_page_shows_only_that_users_blocks_and_timeline() {
    let s = start(Some(POLICY), true, "", true);
    set_status(&s, "chatgpt", "in_review");
    set_status(&s, "claude", "unapproved");
    let gw = &s.gw;
    // Alice: one warning, one block. Bob: two warnings, two blocks, one allowed request.
    for (user, url, action) in [
        ("alice", "https://chatgpt.com/", "warn"),
        ("alice", "https://claude.ai/new", "block"),
        ("bob", "https://chatgpt.com/", "warn"),
        ("bob", "https://chatgpt.com/c/2", "warn"),
        ("bob", "https://claude.ai/new", "block"),
        ("bob", "https://claude.ai/chat/9", "block"),
    ] {
        let answer = page(gw, Some(user), url);
        assert_eq!(answer.header("x-warden-action"), Some(action), "{url}");
    }
    let allowed = page(gw, Some("bob"), "https://origin.test/hello");
    assert_eq!(allowed.status, 200, "{}", allowed.body_text());
    let ch = s.clickhouse.as_ref().unwrap();
    wait_query(
        ch,
        "SELECT count() FROM warden.http_events WHERE user IN ('alice', 'bob')",
        |n| n == "7",
    );
    assert_eq!(
        query(
            ch,
            "SELECT countIf(blocked = 1) FROM warden.http_events WHERE action = 'warn'"
        ),
        "0",
        "a warning row is never blocked"
    );

    // Alice's page, over the API: her one block, her two rows, nobody else's.
    let (status, alice) = api(gw, &s.admin, "/api/v1/report/user/alice?since=1h");
    assert_eq!(status, 200, "{alice}");
    assert_eq!(alice["totals"]["blocked"], 1, "{alice}");
    assert_eq!(texts(&alice["blocked"], "action"), ["block"], "{alice}");
    assert_eq!(texts(&alice["blocked"], "app_id"), ["claude"]);
    let mut actions = texts(&alice["timeline"], "action");
    actions.sort();
    assert_eq!(actions, ["block", "warn"], "{alice}");
    let alices_ids = query(
        ch,
        "SELECT arrayStringConcat(arraySort(groupArray(request_id)), ',') \
         FROM warden.http_events WHERE user = 'alice'",
    );
    let mut listed = texts(&alice["timeline"], "request_id");
    listed.sort();
    assert_eq!(listed.join(","), alices_ids, "only alice's requests");
    let chatgpt = alice["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["app_id"] == "chatgpt")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(chatgpt["blocked"], 0, "a warning is not a block: {chatgpt}");

    // The overview: warnings apart from blocks, and the blocked card counts blocks only.
    let (status, overview) = api(gw, &s.admin, "/api/v1/report/overview?since=1h");
    assert_eq!(status, 200, "{overview}");
    assert_eq!(overview["outcomes"]["warned"], 3, "{overview}");
    assert_eq!(overview["outcomes"]["blocked"], 3, "{overview}");
    assert_eq!(overview["totals"]["blocked"], 3, "{overview}");

    // The dashboard, as the analyst reads it.
    let jar = s.dir.path().join("cookies").display().to_string();
    let base = format!("http://{}", gw.admin);
    let login = curl(&[
        "-c",
        &jar,
        "--data-urlencode",
        &format!("token={}", s.admin),
        &format!("{base}/login"),
    ]);
    assert_eq!(login.status, 303, "{}", login.body_text());
    let user_page = curl(&["-b", &jar, &format!("{base}/users/alice?since=1h")]);
    assert_eq!(user_page.status, 200, "{}", user_page.body_text());
    let html = user_page.body_text();
    let section = |id: &str| -> String {
        let start = html
            .find(&format!("<div id=\"{id}\">"))
            .unwrap_or_else(|| panic!("no #{id}:\n{html}"));
        let rest = &html[start..];
        rest[..rest.find("</table>").map_or(rest.len(), |end| end)].to_string()
    };
    let blocks = section("blocks");
    assert_eq!(
        blocks.matches("<tr>").count(),
        2,
        "header and one row: {blocks}"
    );
    assert!(
        blocks.contains("claude") && !blocks.contains("chatgpt"),
        "{blocks}"
    );
    assert!(html.contains("Blocked requests (all sites)"), "{html}");
    assert!(html.contains("Timeline (all sites)"), "{html}");
    let timeline = section("timeline");
    assert_eq!(
        timeline.matches("<tr>").count(),
        3,
        "header and two rows: {timeline}"
    );
    let overview_page = curl(&["-b", &jar, &format!("{base}/?since=1h")]);
    let html = overview_page.body_text();
    assert!(html.contains("Warned (may continue)"), "{html}");

    // Loopback has no country: the app's Countries table says so, over the API and on the
    // page, instead of a blank row.
    let (status, app) = api(gw, &s.admin, "/api/v1/report/app/claude?since=1h");
    assert_eq!(status, 200, "{app}");
    assert_eq!(texts(&app["countries"], "country"), ["unknown"], "{app}");
    let app_page = curl(&["-b", &jar, &format!("{base}/apps/claude?since=1h")]);
    let html = app_page.body_text();
    let start = html.find("<h2>Countries</h2>").expect("a Countries table");
    let countries = &html[start..start + html[start..].find("</table>").unwrap_or(0)];
    assert!(countries.contains("<td>unknown</td>"), "{countries}");
    assert!(!countries.contains("<td></td>"), "{countries}");
}
