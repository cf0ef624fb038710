//! A known set of AI traffic for the report tests, written straight into ClickHouse's raw
//! tables (the materialized views fill the rollups as in production), with the figures a
//! correct report must show.
//!
//! - Each of the 7 days before the last one: alice uses ChatGPT 10 times (US), bob Claude 5
//!   times (DE), carol Gemini 3 times (US).
//! - The last hour: alice 150 ChatGPT requests (a spike and a heavy user; 3 carry two card
//!   numbers and are blocked, 2 are uploads), bob, carol, dave and erin 5 each; bob 5 Claude
//!   requests from Brazil (a new country for Claude; 2 carry an AWS key), carol 3 Gemini.
//!
//! Totals: 304 requests (ChatGPT 240, Claude 40, Gemini 24), 5 users, 1 device,
//! 1,000 bytes up and 5,000 down per request, 3 blocked, 2 uploads, 8 DLP findings.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::support::{clickhouse_sql, curl};

pub const TOTAL_REQUESTS: u64 = 304;

struct Event {
    ts: i64,
    user: &'static str,
    app: &'static str,
    country: &'static str,
    dlp: Option<(&'static str, u32, &'static str)>,
    upload: bool,
}

fn groups(user: &str) -> Vec<&'static str> {
    match user {
        "alice" => vec!["eng"],
        "bob" | "dave" => vec!["sales"],
        "carol" => vec!["eng", "finance"],
        _ => vec![],
    }
}

fn src_ip(user: &str) -> &'static str {
    match user {
        "alice" => "10.0.0.1",
        "bob" => "10.0.0.2",
        "carol" => "10.0.0.3",
        "dave" => "10.0.0.4",
        _ => "10.0.0.5",
    }
}

fn events(now: i64) -> Vec<Event> {
    let mut out = Vec::new();
    let plain = |ts, user, app, country| Event {
        ts,
        user,
        app,
        country,
        dlp: None,
        upload: false,
    };
    for day in 1..=7 {
        let base = now - day * 86_400 - 7_200;
        for i in 0..10 {
            out.push(plain(base - i, "alice", "chatgpt", "US"));
        }
        for i in 0..5 {
            out.push(plain(base - i, "bob", "claude", "DE"));
        }
        for i in 0..3 {
            out.push(plain(base - i, "carol", "gemini", "US"));
        }
    }
    let recent = now - 1_800;
    for i in 0..150 {
        let mut event = plain(recent - i, "alice", "chatgpt", "US");
        if i < 3 {
            event.dlp = Some(("credit_card", 2, "4111 **** **** 1111"));
        } else if i < 5 {
            event.upload = true;
        }
        out.push(event);
    }
    for user in ["bob", "carol", "dave", "erin"] {
        for i in 0..5 {
            out.push(plain(recent - 200 - i, user, "chatgpt", "US"));
        }
    }
    for i in 0..5 {
        let mut event = plain(recent - 300 - i, "bob", "claude", "BR");
        if i < 2 {
            event.dlp = Some(("aws_access_key_id", 1, "AKIA************MPLE"));
        }
        out.push(event);
    }
    for i in 0..3 {
        out.push(plain(recent - 400 - i, "carol", "gemini", "US"));
    }
    out
}

/// Inserts `rows` (JSON objects) into `warden.TABLE`.
pub fn insert(clickhouse_url: &str, table: &str, rows: &[Value]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rows.json");
    let text: Vec<String> = rows.iter().map(Value::to_string).collect();
    std::fs::write(&path, text.join("\n")).unwrap();
    let result = curl(&[
        "--data-binary",
        &format!("@{}", path.display()),
        &format!("{clickhouse_url}/?query=INSERT%20INTO%20warden.{table}%20FORMAT%20JSONEachRow"),
    ]);
    assert_eq!(
        result.status,
        200,
        "insert into {table}: {}",
        result.body_text()
    );
}

/// Waits until gatewayd has applied every migration, then writes the data set; returns the
/// `now` it is relative to.
pub fn seed(clickhouse_url: &str) -> i64 {
    wait_for_migrations(clickhouse_url);
    insert_dataset(clickhouse_url)
}

fn wait_for_migrations(clickhouse_url: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let done = clickhouse_sql(
            clickhouse_url,
            "SELECT count() FROM warden.schema_migrations",
        );
        if done.status == 200 && done.body_text().trim() == schema::MIGRATIONS.len().to_string() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "gatewayd did not apply the migrations: {}",
            done.body_text()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Writes the data set into `warden`'s raw tables; returns the `now` it is relative to.
pub fn insert_dataset(clickhouse_url: &str) -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut http = Vec::new();
    let mut findings = Vec::new();
    for (n, event) in events(now).into_iter().enumerate() {
        let request_id = format!("req-{n}");
        let (detectors, count) = match event.dlp {
            Some((detector, count, snippet)) => {
                let action = if detector == "credit_card" {
                    "block"
                } else {
                    "redact"
                };
                findings.push(json!({
                    "ts": event.ts, "request_id": request_id, "user": event.user,
                    "app_id": event.app, "detector": detector, "finding_count": count,
                    "confidence": "high", "action": action, "snippet": snippet,
                }));
                (vec![detector], count)
            }
            None => (vec![], 0),
        };
        let blocked = matches!(event.dlp, Some(("credit_card", _, _)));
        http.push(json!({
            "ts": event.ts, "request_id": request_id, "user": event.user,
            "groups": groups(event.user),
            "device_id": if event.user == "alice" { "dev-alice" } else { "" },
            "device_posture": if event.user == "alice" { "os=linux disk_encrypted=true" } else { "" },
            "src_ip": src_ip(event.user), "country": event.country, "city": "",
            "host": format!("{}.example", event.app), "app_id": event.app, "app_name": "",
            "category": "chat", "app_status": "unreviewed", "discovered": 0, "method": "POST",
            "path": "/api/chat", "status": if blocked { 403 } else { 200 },
            "action": if blocked { "block" } else { "allow" }, "blocked": u8::from(blocked),
            "rule_id": "", "policy_version": "1", "detail": "", "upload": u8::from(event.upload),
            "file_names": if event.upload { vec!["plan.docx"] } else { vec![] },
            "prompt_length": 100, "model": "", "dlp_detectors": detectors,
            "dlp_finding_count": count, "bytes_up": 1000, "bytes_down": 5000,
            "latency_ms": 20, "audit_prompt": "",
        }));
    }
    insert(clickhouse_url, "http_events", &http);
    insert(clickhouse_url, "dlp_findings", &findings);
    now
}
