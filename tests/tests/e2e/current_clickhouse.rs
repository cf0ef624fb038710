//! "Production runs a current ClickHouse": the migrations and the report queries on the
//! engine of a current release (chdb from PyPI embeds it; `tests/fixtures/chdb_http.py`
//! serves it over the HTTP interface), not only on Debian's 18.16 that the other tests use.
//! The same data set must give the same report figures.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::curl;
use crate::support::report_data::{insert_dataset, TOTAL_REQUESTS};
use crate::support::tools::{gatewayd_binary, require};

struct CurrentClickHouse {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for CurrentClickHouse {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> CurrentClickHouse {
    let python = require("python3", "apt-get install -y python3");
    let probe = Command::new(&python)
        .args(["-c", "import chdb"])
        .output()
        .expect("python3 runs");
    assert!(
        probe.status.success(),
        "the Python package chdb (a current ClickHouse engine) is required by this test; \
         install it with: pip install chdb"
    );
    let dir = tempfile::tempdir().unwrap();
    let port_file = dir.path().join("port");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/chdb_http.py");
    let child = Command::new(python)
        .arg(script)
        .arg(dir.path().join("data"))
        .arg(&port_file)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the chdb server starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    let port = loop {
        if let Ok(port) = std::fs::read_to_string(&port_file) {
            if !port.trim().is_empty() {
                break port.trim().to_string();
            }
        }
        assert!(Instant::now() < deadline, "the chdb server did not start");
        std::thread::sleep(Duration::from_millis(200));
    };
    CurrentClickHouse {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    }
}

fn post(url: &str, sql: &str) -> String {
    let result = curl(&["--data-binary", sql, url]);
    assert_eq!(result.status, 200, "{sql}\n→ {}", result.body_text());
    result.body_text()
}

fn report(config: &std::path::Path, args: &[&str]) -> Value {
    let output = Command::new(gatewayd_binary())
        .arg("report")
        .args(args)
        .args(["--json", "--config"])
        .arg(config)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "gatewayd report {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn migrations_and_reports_work_on_a_current_clickhouse_release() {
    let ch = start();
    let version = post(&ch.url, "SELECT version()");
    let major: u32 = version.split('.').next().unwrap().trim().parse().unwrap();
    assert!(major >= 24, "not a current release: {version}");

    post(&ch.url, "CREATE DATABASE IF NOT EXISTS warden");
    let in_warden = format!("{}/?database=warden", ch.url);
    // Applied and recorded as `gatewayd migrate` does (the errors report reads when 0015 was).
    post(
        &in_warden,
        "CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, \
         checksum String, applied_at DateTime('UTC')) ENGINE = MergeTree() ORDER BY version",
    );
    for migration in schema::MIGRATIONS {
        for statement in migration.statements() {
            post(&in_warden, &statement);
        }
        post(
            &in_warden,
            &format!(
                "INSERT INTO schema_migrations VALUES ({}, '{}', '{}', now())",
                migration.version,
                migration.name,
                migration.checksum()
            ),
        );
    }
    insert_dataset(&ch.url);
    let rollup = post(
        &in_warden,
        "SELECT countMerge(requests) FROM app_usage_hourly",
    );
    assert_eq!(
        rollup.trim(),
        TOTAL_REQUESTS.to_string(),
        "the views fill the rollups"
    );

    // The reader user the migration step creates where the server has SQL users: its
    // statements are what a current release parses (chdb itself keeps no users to grant to),
    // and the password never appears in them, only its hash.
    for statement in schema::reader::statements("warden", "warden_reader", "s3cret-pw") {
        assert!(!statement.contains("s3cret-pw"), "{statement}");
        let ast = post(&ch.url, &format!("EXPLAIN AST {statement}"));
        assert!(
            ast.contains("CreateUserQuery") || ast.contains("GrantQuery"),
            "{ast}"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gatewayd.toml");
    std::fs::write(
        &config,
        format!(
            "[clickhouse]\nurl = \"{}\"\n[state]\ndir = \"{}\"\n",
            ch.url,
            dir.path().join("state").display()
        ),
    )
    .unwrap();

    let overview = report(&config, &["overview", "--since", "30d"]);
    assert_eq!(overview["totals"]["requests"], TOTAL_REQUESTS, "{overview}");
    assert_eq!(overview["totals"]["users"], 5);
    assert_eq!(overview["totals"]["dlp_findings"], 8);
    let apps = report(&config, &["apps", "--since", "30d", "--group", "sales"]);
    assert_eq!(apps["total"], 2);
    let app = report(&config, &["app", "chatgpt", "--since", "30d"]);
    assert_eq!(app["totals"]["requests"], 240);
    assert_eq!(app["users"][0]["groups"], serde_json::json!(["eng"]));
    assert_eq!(app["devices"][0]["device_id"], "dev-alice");
    let raw = report(
        &config,
        &["apps", "--since", "30d", "--user", "bob", "--country", "DE"],
    );
    assert_eq!(raw["apps"][0]["requests"], 35);
    let users = report(&config, &["users", "--since", "30d", "--group", "finance"]);
    assert_eq!(users["users"][0]["user"], "carol");
    let shadow = report(
        &config,
        &["unapproved", "--since", "30d", "--status", "unreviewed"],
    );
    assert_eq!(shadow["total"], 3);
    assert_eq!(shadow["users"][0]["user"], "alice");
    assert_eq!(shadow["users"][0]["groups"], serde_json::json!(["eng"]));
    let dlp = report(&config, &["dlp", "--since", "30d"]);
    assert_eq!(dlp["total"], 5);
    let anomalies = report(&config, &["anomalies"]);
    let kinds: Vec<&str> = anomalies["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["kind"].as_str())
        .collect();
    for kind in ["usage_spike", "new_country", "heavy_user", "heavy_source"] {
        assert!(kinds.contains(&kind), "{kind} missing: {anomalies}");
    }

    // The AI gateway's spend from its hourly and daily rollups (migration 0018), as from
    // the calls: the same figures on a current release.
    post(
        &in_warden,
        "INSERT INTO ai_requests (ts, request_id, user, team, provider, model_asked, \
         model_served, input_tokens, output_tokens, cost_micro_usd, latency_ms, ttft_ms) \
         SELECT now() - 7200 + number, concat('ai-', toString(number)), \
         if(number % 2 = 0, 'alice', 'bob'), 'data', 'openai', 'fast', 'gpt-4o-mini', \
         10, 5, if(number = 3, NULL, 7), 100 + number, NULL FROM numbers(4)",
    );
    for since in ["24h", "30d"] {
        let ai = report(&config, &["ai", "--since", since]);
        let table = if since == "24h" {
            "ai_requests_hourly"
        } else {
            "ai_requests_daily"
        };
        assert_eq!(ai["source"], table, "{ai}");
        assert_eq!(ai["totals"]["calls"], 4, "{ai}");
        assert_eq!(ai["totals"]["spend_micro_usd"], 21, "{ai}");
        assert_eq!(ai["totals"]["unpriced_calls"], 1, "{ai}");
        assert!(
            ai["totals"]["ttft_p50_ms"].is_null(),
            "no stream, no first token: {ai}"
        );
        assert!(ai["totals"]["latency_p50_ms"].as_u64().is_some(), "{ai}");
        assert_eq!(ai["by_team"][0]["name"], "data", "{ai}");
    }
}
