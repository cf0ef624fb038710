//! "The Users list says anonymous made 27 requests, anonymous's own page says 385" (user
//! review, item 4): a browser's background calls to sites that are not AI apps were counted
//! on the person's page and not on the list. Both now count requests to AI apps, and the
//! person's page says how many requests there were in all.

use crate::report::api;
use crate::support::curl;
use crate::support::webdriver::Browser;

use super::{start, wait_query};

#[test]
fn a_users_page_and_the_users_list_count_the_same_requests_and_say_what_they_count() {
    let s = start("version = \"users-test-1\"\n", Vec::new());
    let proxy = s.gw.proxy_url();
    let root = s.gw.root_pem.display().to_string();
    let get = |url: &str| {
        let answer = curl(&["-x", &proxy, "--cacert", &root, url]);
        assert_eq!(answer.status, 200, "{url}: {}", answer.body_text());
    };
    // Two requests to an AI app, five to a site that is not one (as a browser's own calls).
    for _ in 0..2 {
        get("https://chatgpt.com/");
    }
    for _ in 0..5 {
        get("https://origin.test/hello");
    }
    wait_query(
        &s.clickhouse,
        "SELECT count() FROM warden.http_events WHERE user = 'anonymous'",
        |n| n == "7",
    );

    for since in ["1h", "7d"] {
        let (status, users) = api(
            &s.gw,
            &s.analyst,
            &format!("/api/v1/report/users?since={since}"),
        );
        assert_eq!(status, 200, "{users}");
        let listed = users["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["user"] == "anonymous")
            .unwrap_or_else(|| panic!("{since}: {users}"))
            .clone();
        let (status, page) = api(
            &s.gw,
            &s.analyst,
            &format!("/api/v1/report/user/anonymous?since={since}"),
        );
        assert_eq!(status, 200, "{page}");
        assert_eq!(listed["requests"], 2, "{since}: {listed}");
        assert_eq!(page["totals"]["requests"], 2, "{since}: {page}");
        assert_eq!(page["totals"]["all_requests"], 7, "{since}: {page}");
        let apps_sum: u64 = page["apps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["requests"].as_u64().unwrap())
            .sum();
        assert_eq!(apps_sum, 2, "the page's own apps table agrees");
    }

    // What the user sees: the card names what it counts and the rest.
    let browser = Browser::start(None);
    browser.login(&s.gw.admin.to_string(), &s.analyst);
    browser.goto(&format!("http://{}/users/anonymous", s.gw.admin));
    let cards = browser.text(".cards").to_lowercase();
    assert!(cards.contains("requests to ai apps\n2"), "{cards}");
    assert!(cards.contains("7 requests in all"), "{cards}");
    let header = browser.text("#user-name");
    assert!(
        !header.contains("groups"),
        "no dangling groups label: {header}"
    );
    browser.goto(&format!("http://{}/users", s.gw.admin));
    let list = browser.text("body");
    assert!(list.contains("anonymous"), "{list}");
    browser.screenshot("analyst-user-totals");
}
