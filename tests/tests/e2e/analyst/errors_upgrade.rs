//! "After the upgrade the overview says 0 errors while /errors lists 19" (user review, item
//! 1): failures recorded by a build without the errors rollup (before migration 0015) are
//! counted on the overview's Errors card, the apps list's Errors column and the API for every
//! range, the same number `/errors` lists. The old build is reproduced on a real ClickHouse:
//! no rollup view while the failures are written, then the migration (and its record) after.

use crate::report::api;
use crate::support::webdriver::Browser;
use crate::support::{clickhouse_sql, curl};

use super::{start, wait_query};

#[test]
fn failures_from_before_the_errors_rollup_are_counted_on_the_overview_after_an_upgrade() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let s = start(
        "version = \"upgrade-test-1\"\n",
        vec![
            ("www.perplexity.ai:80".into(), closed.to_string()),
            ("www.perplexity.ai:443".into(), closed.to_string()),
        ],
    );
    let ch = s.clickhouse.http_url();
    // POST: ClickHouse answers GET queries read-only.
    let sql = |q: &str| {
        let url = format!("{}/?database=warden", ch.trim_end_matches('/'));
        let result = curl(&["--data-binary", q, &url]);
        assert_eq!(result.status, 200, "{q}: {}", result.body_text());
    };
    let proxy = s.gw.proxy_url();
    let root = s.gw.root_pem.display().to_string();
    let fail = |n: usize| {
        for i in 0..n {
            let failed = curl(&[
                "-x",
                &proxy,
                "--cacert",
                &root,
                &format!("https://www.perplexity.ai/search?q={i}"),
            ]);
            assert_eq!(failed.header("x-warden-action"), Some("error"));
        }
    };

    // The old build: no rollup view while three failures are written.
    wait_query(
        &s.clickhouse,
        "SELECT count() FROM warden.schema_migrations WHERE version = 15",
        |n| n == "1",
    );
    sql("DROP TABLE warden.app_errors_hourly_mv");
    fail(3);
    wait_query(
        &s.clickhouse,
        "SELECT count() FROM warden.http_events WHERE action = 'error'",
        |n| n == "3",
    );
    // The upgrade: migration 0015 runs now (its view, and its record with this time).
    let migration = include_str!("../../../../schema/migrations/0015_app_errors_hourly.sql");
    let view = &migration[migration.find("CREATE MATERIALIZED VIEW").unwrap()..];
    sql(view.trim().trim_end_matches(';'));
    sql("ALTER TABLE warden.schema_migrations DELETE WHERE version = 15");
    wait_query(
        &s.clickhouse,
        "SELECT count() FROM warden.schema_migrations WHERE version = 15",
        |n| n == "0",
    );
    std::thread::sleep(std::time::Duration::from_millis(1100));
    sql(
        "INSERT INTO warden.schema_migrations (version, name, checksum, applied_at) \
         SELECT 15, 'app_errors_hourly', 'sha256:test', now()",
    );
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(
        clickhouse_sql(&ch, "SELECT count() FROM warden.app_errors_hourly")
            .body_text()
            .trim(),
        "0",
        "the rollup holds none of the old failures, as after a real upgrade"
    );
    // One failure after the upgrade.
    fail(1);
    wait_query(
        &s.clickhouse,
        "SELECT count() FROM warden.http_events WHERE action = 'error'",
        |n| n == "4",
    );

    // Raw events (1h), the hourly rollup (24h) and the daily rollup (7d, the default):
    // the same four failures as the list.
    for since in ["1h", "24h", "7d"] {
        let (status, overview) = api(
            &s.gw,
            &s.analyst,
            &format!("/api/v1/report/overview?since={since}"),
        );
        assert_eq!(status, 200, "{overview}");
        assert_eq!(overview["totals"]["errors"], 4, "{since}: {overview}");
        let (_, apps) = api(
            &s.gw,
            &s.analyst,
            &format!("/api/v1/report/apps?since={since}&sort=errors"),
        );
        assert_eq!(apps["apps"][0]["app_id"], "perplexity", "{since}: {apps}");
        assert_eq!(apps["apps"][0]["errors"], 4, "{since}: {apps}");
        let (_, listed) = api(
            &s.gw,
            &s.analyst,
            &format!("/api/v1/report/errors?since={since}"),
        );
        assert_eq!(listed["total"], 4, "{since}: {listed}");
    }

    // What the user looked at: the overview on its default range.
    let browser = Browser::start(None);
    browser.login(&s.gw.admin.to_string(), &s.analyst);
    browser.goto(&format!("http://{}/", s.gw.admin));
    let card = browser.text("#errors-card").to_lowercase();
    assert!(card.contains("errors\n4"), "{card}");
    browser.screenshot("analyst-errors-after-upgrade");
}
