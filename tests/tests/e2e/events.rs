//! "Every transaction is a row, and none is lost": gatewayd writes to a real ClickHouse
//! (Debian's clickhouse-server, started by the harness), spools while it is down, and replays
//! after ClickHouse — or gatewayd itself — comes back.

use std::time::{Duration, Instant};

use schema::testkit::ClickHouseServer;

use crate::support::{clickhouse_sql, curl, GatewayOptions, GatewayProcess, Origin};

struct Setup {
    dir: tempfile::TempDir,
    _origin: Origin,
    clickhouse: ClickHouseServer,
    gw: GatewayProcess,
}

fn start() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let clickhouse = ClickHouseServer::start().expect("clickhouse-server starts");
    let geo = dir.path().join("geo.mmdb");
    geoip::testdb::TestDbBuilder::new()
        .network("203.0.113.0/24", "DE", "Berlin")
        .network("198.51.100.0/24", "JP", "Tokyo")
        .write(&geo)
        .unwrap();
    let sections = format!(
        "[clickhouse]\nurl = \"{}\"\ndatabase = \"warden\"\n\n\
         [events]\nflush_interval = \"200ms\"\nbatch_size = 1000\ninsert_timeout = \"3s\"\n\n\
         [geoip]\ndatabase = \"{}\"\n\n\
         [identity]\nsources = [{{ cidr = \"198.51.100.0/24\", user = \"site:tokyo\", groups = [\"apac\"] }}]\n",
        clickhouse.http_url(),
        geo.display()
    );
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            proxy: "trusted_forwarders = [\"127.0.0.1/32\"]\n".into(),
            sections,
            ..Default::default()
        },
    );
    Setup {
        dir,
        _origin: origin,
        clickhouse,
        gw,
    }
}

/// Runs a query over ClickHouse's HTTP interface; returns TSV.
fn query(clickhouse: &ClickHouseServer, sql: &str) -> String {
    let result = clickhouse_sql(&clickhouse.http_url(), sql);
    assert_eq!(result.status, 200, "{sql}: {}", result.body_text());
    result.body_text().trim().to_string()
}

fn wait_for(clickhouse: &ClickHouseServer, sql: &str, expected: &str, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    loop {
        let got = clickhouse_sql(&clickhouse.http_url(), sql);
        let text = got.body_text().trim().to_string();
        if got.status == 200 && text == expected {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{sql}: wanted {expected:?}, last saw {text:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn browse(gw: &GatewayProcess, from: &str, url: &str) -> u16 {
    let root = gw.root_pem.display().to_string();
    let forwarded = format!("X-Forwarded-For: {from}");
    curl(&[
        "-x",
        &gw.proxy_url(),
        "--proxy-header",
        &forwarded,
        "--cacert",
        &root,
        url,
    ])
    .status
}

#[test]
fn transactions_land_in_clickhouse_with_who_where_which_app_and_bytes() {
    let s = start();
    assert_eq!(browse(&s.gw, "203.0.113.7", "https://chatgpt.com/c/1"), 200);
    assert_eq!(
        browse(&s.gw, "198.51.100.20", "https://chatgpt.com/c/2"),
        200
    );
    let root = s.gw.root_pem.display().to_string();
    let blocked = curl(&[
        "-x",
        &s.gw.proxy_url(),
        "--proxy-header",
        "X-Forwarded-For: 203.0.113.7",
        "--cacert",
        &root,
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"prompt":"card 4539 1488 0343 6467 please"}"#,
        "https://claude.ai/api/organizations/o/chat_conversations/c/completion",
    ]);
    assert_eq!(blocked.status, 403);
    let id = blocked.header("x-warden-request-id").unwrap().to_string();

    wait_for(
        &s.clickhouse,
        "SELECT count() FROM warden.http_events",
        "3",
        Duration::from_secs(20),
    );
    // Findings are a second insert of the same batch: wait for them too.
    wait_for(
        &s.clickhouse,
        "SELECT count() FROM warden.dlp_findings",
        "1",
        Duration::from_secs(20),
    );
    let berlin = query(
        &s.clickhouse,
        "SELECT user, app_id, app_status, country, city, src_ip, blocked, status, bytes_down > 0 \
         FROM warden.http_events WHERE path = '/c/1'",
    );
    assert_eq!(
        berlin,
        "anonymous\tchatgpt\tunreviewed\tDE\tBerlin\t203.0.113.7\t0\t200\t1"
    );
    let tokyo = query(
        &s.clickhouse,
        "SELECT user, groups, country FROM warden.http_events WHERE path = '/c/2'",
    );
    assert_eq!(
        tokyo, "site:tokyo\t['apac']\tJP",
        "source range names the site"
    );
    let dlp = query(
        &s.clickhouse,
        &format!("SELECT action, blocked, rule_id, dlp_detectors, bytes_up FROM warden.http_events WHERE request_id = '{id}'"),
    );
    assert_eq!(
        dlp, "block\t1\tdlp-until-approved\t['credit_card']\t0",
        "nothing went upstream"
    );
    let finding = query(
        &s.clickhouse,
        &format!("SELECT detector, finding_count, snippet FROM warden.dlp_findings WHERE request_id = '{id}'"),
    );
    assert!(finding.starts_with("credit_card\t1\t"), "{finding}");
    assert!(
        !finding.contains("4539 1488 0343 6467"),
        "only a masked snippet is stored: {finding}"
    );

    // The rollups agree with the raw rows.
    let raw = query(&s.clickhouse, "SELECT count(), sum(bytes_down), uniqExact(user) FROM warden.http_events WHERE app_id = 'chatgpt'");
    let rollup = query(
        &s.clickhouse,
        "SELECT countMerge(requests), sumMerge(bytes_down), uniqMerge(users) FROM warden.app_usage_hourly WHERE app_id = 'chatgpt'",
    );
    assert_eq!(raw, rollup);
    let countries = query(
        &s.clickhouse,
        "SELECT country, countMerge(requests) FROM warden.app_country_daily WHERE app_id = 'chatgpt' GROUP BY country ORDER BY country",
    );
    assert_eq!(countries, "DE\t1\nJP\t1");
    drop(s.dir);
}

#[test]
fn clickhouse_going_down_loses_nothing_and_duplicates_nothing() {
    let mut s = start();
    for i in 0..10 {
        assert_eq!(
            browse(
                &s.gw,
                "203.0.113.7",
                &format!("https://chatgpt.com/before/{i}")
            ),
            200
        );
    }
    wait_for(
        &s.clickhouse,
        "SELECT count() FROM warden.http_events",
        "10",
        Duration::from_secs(20),
    );
    s.clickhouse.stop();
    for i in 0..15 {
        assert_eq!(
            browse(
                &s.gw,
                "203.0.113.7",
                &format!("https://chatgpt.com/during/{i}")
            ),
            200,
            "traffic flows while ClickHouse is down"
        );
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while s.gw.metric("warden_events_spooled_total") < 15.0 {
        assert!(
            Instant::now() < deadline,
            "events were not spooled:\n{}",
            s.gw.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    s.clickhouse.restart().unwrap();
    for i in 0..5 {
        assert_eq!(
            browse(
                &s.gw,
                "203.0.113.7",
                &format!("https://chatgpt.com/after/{i}")
            ),
            200
        );
    }
    wait_for(
        &s.clickhouse,
        "SELECT count(), uniqExact(request_id) FROM warden.http_events",
        "30\t30",
        Duration::from_secs(30),
    );
    assert_eq!(s.gw.metric("warden_events_dropped_total"), 0.0);
}

#[test]
fn a_crashed_gateway_replays_its_spool_after_restart() {
    let mut s = start();
    s.clickhouse.stop();
    for i in 0..12 {
        assert_eq!(
            browse(
                &s.gw,
                "203.0.113.7",
                &format!("https://chatgpt.com/spooled/{i}")
            ),
            200
        );
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while s.gw.metric("warden_events_spooled_total") < 12.0 {
        assert!(
            Instant::now() < deadline,
            "events were not spooled:\n{}",
            s.gw.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    s.gw.crash_and_restart();
    s.clickhouse.restart().unwrap();
    wait_for(
        &s.clickhouse,
        "SELECT count(), uniqExact(request_id) FROM warden.http_events WHERE path LIKE '/spooled/%'",
        "12\t12",
        Duration::from_secs(30),
    );
}

#[test]
fn schema_migrations_are_applied_once_and_reported() {
    let s = start();
    let run = |args: &[&str]| {
        let output = std::process::Command::new(crate::support::tools::gatewayd_binary())
            .args(args)
            .arg("--config")
            .arg(&s.gw.config_path)
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let (code, status) = run(&["schema", "status"]);
    assert_eq!(code, Some(0), "{status}");
    assert!(
        status.lines().count() >= 7 && status.lines().all(|l| l.ends_with("applied")),
        "{status}"
    );
    let (code, again) = run(&["schema", "migrate"]);
    assert_eq!(code, Some(0));
    assert!(again.contains("all migrations already applied"), "{again}");
    let tables = query(&s.clickhouse, "SELECT count() FROM system.tables WHERE database = 'warden' AND name = 'schema_migrations'");
    assert_eq!(tables, "1");
}

#[test]
fn an_upstream_failure_is_recorded_as_an_error_not_a_block() {
    // Issue 24, bug 4: DNS errors and resets counted as "blocked" on every card and column.
    let s = start();
    let failed = curl(&[
        "-sS",
        "--max-time",
        "60",
        "-x",
        &s.gw.proxy_url(),
        "http://no-such-host.invalid/",
    ]);
    assert!(
        failed.status == 502 || failed.status == 504,
        "{}",
        failed.status
    );
    wait_for(
        &s.clickhouse,
        "SELECT count() FROM warden.http_events",
        "1",
        Duration::from_secs(20),
    );
    let row = query(
        &s.clickhouse,
        "SELECT action, blocked FROM warden.http_events WHERE host = 'no-such-host.invalid'",
    );
    assert_eq!(row, "error\t0", "an unreachable site was not blocked");
}

#[test]
fn a_geoip_database_named_by_a_reload_is_used() {
    // Issue 24, bug 9: a GeoIP database added or changed by SIGHUP was ignored until a
    // restart, while the log said "reloaded".
    let s = start();
    let paris = s.dir.path().join("geo-2.mmdb");
    geoip::testdb::TestDbBuilder::new()
        .network("203.0.113.0/24", "FR", "Paris")
        .write(&paris)
        .unwrap();
    let config = std::fs::read_to_string(&s.gw.config_path).unwrap();
    let old = s.dir.path().join("geo.mmdb").display().to_string();
    assert!(config.contains(&old));
    std::fs::write(
        &s.gw.config_path,
        config.replace(&old, &paris.display().to_string()),
    )
    .unwrap();
    s.gw.signal("HUP");
    assert!(
        s.gw.wait_for_log("GeoIP database loaded", Duration::from_secs(5)),
        "{}",
        s.gw.log()
    );
    assert_eq!(
        browse(&s.gw, "203.0.113.9", "https://chatgpt.com/c/geo"),
        200
    );
    wait_for(
        &s.clickhouse,
        "SELECT country, city FROM warden.http_events WHERE path = '/c/geo'",
        "FR\tParis",
        Duration::from_secs(20),
    );
}

#[test]
fn the_model_a_web_prompt_names_is_recorded() {
    // Issue 24, bug 8: the `model` column stayed empty for ChatGPT web requests naming one.
    let s = start();
    let root = s.gw.root_pem.display().to_string();
    let sent = curl(&[
        "-x",
        &s.gw.proxy_url(),
        "--cacert",
        &root,
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"action":"next","messages":[{"author":{"role":"user"},"content":{"parts":["hello"]}}],"model":"gpt-4o"}"#,
        "https://chatgpt.com/backend-api/conversation",
    ]);
    assert_eq!(sent.status, 200, "{}", sent.body_text());
    wait_for(
        &s.clickhouse,
        "SELECT model FROM warden.http_events WHERE path = '/backend-api/conversation'",
        "gpt-4o",
        Duration::from_secs(20),
    );
}
