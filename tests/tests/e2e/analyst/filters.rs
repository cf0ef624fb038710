//! "Filter the apps list by country and Uploads, DLP and Devices go blank" (bug 6): over a
//! week (the per-country and per-group rollups' range) the apps list under a country or a
//! group filter shows uploads, DLP findings and devices, and they are the numbers the app's
//! own page shows under the same filter.

use crate::report::{api, start};
use crate::support::webdriver::Browser;

#[test]
fn the_apps_list_under_a_country_or_group_filter_agrees_with_the_app_page() {
    let s = start();
    let base = format!("http://{}", s.gw.admin);
    let browser = Browser::start(None);
    browser.login(&s.gw.admin.to_string(), &s.analyst);
    // The data set: ChatGPT in the US over the last 7 days (the raw events' exact range;
    // the oldest day of the data set falls outside it) has 230 requests, 2 uploads, 6 DLP
    // findings and one device (alice's); the eng group (alice, carol) has 215 of them.
    for (filter, requests) in [("country=US", "230"), ("group=eng", "215")] {
        let query = format!("since=7d&{filter}");
        let (status, report) = api(&s.gw, &s.analyst, &format!("/api/v1/report/apps?{query}"));
        assert_eq!(status, 200, "{report}");
        let chatgpt = report["apps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["app_id"] == "chatgpt")
            .unwrap()
            .clone();
        let (_, page) = api(
            &s.gw,
            &s.analyst,
            &format!("/api/v1/report/app/chatgpt?{query}"),
        );
        for metric in ["requests", "uploads", "dlp_findings", "devices", "blocked"] {
            assert_eq!(
                chatgpt[metric], page["totals"][metric],
                "{filter} {metric}: list {chatgpt} vs app page {}",
                page["totals"]
            );
        }
        assert_eq!(chatgpt["requests"].to_string(), requests, "{filter}");
        assert_eq!(
            (
                &chatgpt["uploads"],
                &chatgpt["dlp_findings"],
                &chatgpt["devices"]
            ),
            (&2.into(), &6.into(), &1.into()),
            "{filter}: {chatgpt}"
        );

        // What the analyst sees: the list's cells, then the app page's cards.
        browser.goto(&format!("{base}/apps?{query}"));
        let cell = |column: usize| {
            browser
                .execute(&format!(
                    "return document.querySelector('#apps tr[data-app=\"chatgpt\"]')\
                     .children[{column}].innerText"
                ))
                .as_str()
                .unwrap_or_default()
                .trim()
                .to_string()
        };
        // Requests (4), Devices (6), Uploads (9), DLP (12).
        let seen = [cell(4), cell(6), cell(9), cell(12)];
        assert_eq!(seen, [requests, "1", "2", "6"], "{filter}");
        browser.screenshot(&format!("analyst-2-apps-{}", filter.replace('=', "-")));
        browser.click("#apps tr[data-app=\"chatgpt\"] a[href^=\"/apps/chatgpt\"]");
        // (Card labels are upper-cased by the stylesheet.)
        let cards = browser.text(".cards").to_lowercase();
        for expected in [
            format!("requests\n{requests}"),
            "dlp findings\n6".to_string(),
            "uploads\n2".to_string(),
            "devices\n1".to_string(),
        ] {
            assert!(
                cards.contains(&expected),
                "{filter}: {expected:?} in {cards}"
            );
        }
    }
}
