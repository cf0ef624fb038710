//! Devices under a user filter (issue 24): with the filter bar's user set, the overview's
//! device count and the apps list's Devices column showed "—" for ranges the per-user daily
//! rollup serves (it keeps no devices). They count that user's devices now, over the API and
//! on the dashboard, and the user's own page lists them.

use crate::report::{api, start};
use crate::support::curl;

#[test]
fn a_user_filter_counts_and_lists_that_users_devices() {
    let s = start();
    let gw = &s.gw;
    // 7 days: longer than the raw events serve a user filter from, so the daily rollup.
    for since in ["1h", "7d"] {
        let (status, apps) = api(
            gw,
            &s.analyst,
            &format!("/api/v1/report/apps?since={since}&user=alice"),
        );
        assert_eq!(status, 200, "{apps}");
        let rows = apps["apps"].as_array().cloned().unwrap_or_default();
        assert!(!rows.is_empty(), "{since}: {apps}");
        let devices: u64 = rows
            .iter()
            .map(|a| a["devices"].as_u64().unwrap_or(0))
            .sum();
        assert!(
            rows.iter().all(|a| a["devices"].is_u64()),
            "{since}: every app counts devices: {apps}"
        );
        assert!(devices >= 1, "{since}: alice's device: {apps}");
        let (status, overview) = api(
            gw,
            &s.analyst,
            &format!("/api/v1/report/overview?since={since}&user=alice"),
        );
        assert_eq!(status, 200, "{overview}");
        assert_eq!(overview["totals"]["devices"], 1, "{since}: {overview}");
        // Bob has no enrolled device: zero, not unknown.
        let (_, bob) = api(
            gw,
            &s.analyst,
            &format!("/api/v1/report/overview?since={since}&user=bob"),
        );
        assert_eq!(bob["totals"]["devices"], 0, "{since}: {bob}");
    }

    let jar = tempfile::NamedTempFile::new().unwrap();
    let jar = jar.path().display().to_string();
    let base = format!("http://{}", gw.admin);
    let login = curl(&[
        "-c",
        &jar,
        "--data-urlencode",
        &format!("token={}", s.analyst),
        &format!("{base}/login"),
    ]);
    assert_eq!(login.status, 303, "{}", login.body_text());
    // The apps list under the user filter: the Devices column (the 7th) counts hers.
    let apps = curl(&["-b", &jar, &format!("{base}/apps?since=7d&user=alice")]).body_text();
    let body = apps
        .split("<table id=\"apps\">")
        .nth(1)
        .and_then(|t| t.split("<tbody>").nth(1))
        .unwrap_or_else(|| panic!("no apps table:\n{apps}"));
    let row = &body[..body.find("</tr>").unwrap_or(body.len())];
    let cells: Vec<String> = row
        .split("</td>")
        .map(|cell| {
            let mut text = String::new();
            let mut in_tag = false;
            for c in cell.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => text.push(c),
                    _ => {}
                }
            }
            text.trim().to_string()
        })
        .collect();
    assert!(apps.contains(">Devices<"), "{apps}");
    assert_eq!(cells.get(6).map(String::as_str), Some("1"), "{cells:?}");
    let user_page = curl(&["-b", &jar, &format!("{base}/users/alice?since=7d")]).body_text();
    assert!(user_page.contains("dev-alice"), "{user_page}");
}
