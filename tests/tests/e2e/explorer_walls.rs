//! "An analyst tries to read the HR database through the log explorer": every way out of
//! `warden` an attacker found — `merge()`, qualified names, `system.tables`, `remote()`,
//! `url()`, `file()`, comment and quoting forms ClickHouse versions lex differently, writes
//! smuggled after a comment — is refused by gatewayd's text check; the same queries sent
//! straight to ClickHouse as the reader user (the text check bypassed) are refused by the
//! server; a huge answer is cut off without growing gatewayd's memory; and too many queries
//! at once are turned away with 429.

use std::time::{Duration, Instant};

use schema::testkit::{ClickHouseServer, READER_PASSWORD, READER_USER};
use serde_json::Value;

use crate::report::{post_query, start, start_with};
use crate::support::curl;

/// The secret a leak would show.
const SECRET: &str = "ceo-salary-4200000";

/// An `hr.salaries` table beside `warden`, as the writer (`default`) sees it.
fn create_hr(clickhouse: &ClickHouseServer) {
    let url = clickhouse.http_url();
    for sql in [
        "CREATE DATABASE IF NOT EXISTS hr".to_string(),
        "CREATE TABLE hr.salaries (name String, amount String) ENGINE = Memory".to_string(),
        format!("INSERT INTO hr.salaries VALUES ('ceo', '{SECRET}')"),
    ] {
        let result = curl(&["--data-binary", &sql, &url]);
        assert_eq!(result.status, 200, "{sql}: {}", result.body_text());
    }
}

/// The attacks, each with a word its refusal must contain. `tcp`/`http` are the test
/// server's own ports, so `remote()`/`url()` would really reach it.
fn attacks(tcp: u16, http: u16) -> Vec<(String, &'static str)> {
    [
        ("SELECT * FROM merge('hr', '^salaries$')", "merge()"),
        ("SELECT * FROM merge('system', '.*')", "merge()"),
        ("SELECT * FROM hr.salaries", "\"hr\""),
        ("SELECT * FROM `hr`.`salaries`", "\"hr\""),
        ("SELECT name FROM system.tables", "\"system\""),
        ("SELECT * FROM system\u{0c}.tables", "\"system\""),
        ("SELECT * FROM system\u{a0}.tables", "\"system\""),
        ("SELECT * FROM http_events, hr.salaries", "\"hr\""),
        ("SELECT 1 /* /* */ UNION ALL SELECT amount FROM hr.salaries */", "nested"),
        ("SELECT $$ ' $$, amount FROM hr.salaries -- '", "'$'"),
        ("SELECT 1 # '\nUNION ALL SELECT amount FROM hr.salaries -- '", "'#'"),
        ("SELECT * FROM `\\x68r`.salaries", "backslash"),
        ("SELECT 1 /* harmless */; DROP TABLE http_events", "one statement"),
        ("SELECT 1 -- note\n; INSERT INTO http_events (user) VALUES ('mallory')", "one statement"),
        ("/* SELECT */ DROP TABLE http_events", "only SELECT"),
    ]
    .into_iter()
    .map(|(sql, why)| (sql.to_string(), why))
    .chain([
        (format!("SELECT * FROM remote('127.0.0.1:{tcp}', hr.salaries)"), "remote()"),
        (
            format!("SELECT * FROM url('http://127.0.0.1:{http}/?query=SELECT+*+FROM+hr.salaries', TSV, 'a String, b String')"),
            "url()",
        ),
        ("SELECT * FROM file('../users.xml', TSV, 'a String')".to_string(), "file()"),
    ])
    .collect()
}

#[test]
fn the_text_check_refuses_every_way_out_of_warden() {
    let s = start();
    create_hr(&s.clickhouse);
    let ports = s.clickhouse.ports();
    for (sql, why) in attacks(ports.tcp, ports.http) {
        let (status, answer) = post_query(&s.gw, &s.analyst, &sql);
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert_eq!(status, 400, "{sql:?} was not refused: {answer}");
        assert!(message.contains(why), "{sql:?}: {message:?} lacks {why:?}");
        assert!(
            !answer.to_string().contains(SECRET),
            "{sql:?} leaked: {answer}"
        );
    }
    // Nothing was written or dropped, here or in hr.
    let (_, count) = post_query(&s.gw, &s.admin, "SELECT count() FROM http_events");
    assert_eq!(
        count["rows"][0][0],
        crate::support::report_data::TOTAL_REQUESTS
    );
    let salaries = curl(&[
        "--data-binary",
        "SELECT amount FROM hr.salaries",
        &s.clickhouse.http_url(),
    ]);
    assert_eq!(salaries.body_text().trim(), SECRET);
}

#[test]
fn the_reader_user_itself_cannot_leave_warden_when_the_text_check_is_bypassed() {
    let clickhouse = ClickHouseServer::start().expect("clickhouse-server starts");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(clickhouse.migrated_client("warden")).unwrap();
    create_hr(&clickhouse);
    let ports = clickhouse.ports();
    // Exactly what gatewayd sends as the reader, minus the text check: the query, as the
    // reader, in the warden database.
    let as_reader = |sql: &str| {
        curl(&[
            "-u",
            &format!("{READER_USER}:{READER_PASSWORD}"),
            "--data-binary",
            sql,
            &format!("{}/?database=warden", clickhouse.http_url()),
        ])
    };
    let allowed = as_reader("SELECT count() FROM http_events");
    assert_eq!(
        allowed.status,
        200,
        "the reader reads warden: {}",
        allowed.body_text()
    );
    for sql in [
        "SELECT * FROM hr.salaries".to_string(),
        "SELECT * FROM merge('hr', '^salaries$')".to_string(),
        "SELECT * FROM merge('system', '.*')".to_string(),
        format!(
            "SELECT * FROM remote('127.0.0.1:{}', hr.salaries)",
            ports.tcp
        ),
        format!(
            "SELECT * FROM url('http://127.0.0.1:{}/?query=SELECT+1', TSV, 'a String')",
            ports.http
        ),
        "SELECT * FROM file('../users.xml', TSV, 'a String')".to_string(),
        "INSERT INTO http_events (user) VALUES ('mallory')".to_string(),
        "DROP TABLE http_events".to_string(),
        "DROP TABLE hr.salaries".to_string(),
        "CREATE TABLE warden.x (a UInt8) ENGINE = Memory".to_string(),
        "SELECT 1 SETTINGS readonly = 0".to_string(),
    ] {
        let result = as_reader(&sql);
        assert_ne!(
            result.status,
            200,
            "the reader ran {sql:?}: {}",
            result.body_text()
        );
        let text = result.body_text();
        assert!(
            text.contains("Access denied") || text.contains("readonly mode"),
            "{sql:?}: {text}"
        );
        assert!(!text.contains(SECRET), "{sql:?} leaked: {text}");
    }
    let salaries = curl(&[
        "--data-binary",
        "SELECT amount FROM hr.salaries",
        &clickhouse.http_url(),
    ]);
    assert_eq!(salaries.body_text().trim(), SECRET, "hr is intact");
}

#[test]
fn a_huge_answer_is_cut_off_without_growing_the_gateway() {
    let s =
        start_with("query_timeout = \"20s\"\nquery_max_rows = 100000\nquery_max_bytes = 1048576\n");
    let (status, _) = post_query(&s.gw, &s.analyst, "SELECT 1");
    assert_eq!(status, 200);
    let before = s.gw.memory_kib("VmHWM");
    // About 120 MB of answer: 400 rows of 1 KB for each of the ~300 events (the reader may
    // not use table functions such as numbers()).
    let huge = format!(
        "SELECT arrayJoin(range(400)) AS n, '{}' AS pad FROM http_events",
        "x".repeat(1000)
    );
    let (status, answer) = post_query(&s.gw, &s.analyst, &huge);
    assert_eq!(
        status,
        200,
        "{}",
        answer.to_string().chars().take(300).collect::<String>()
    );
    assert_eq!(answer["truncated"], true);
    assert!(
        answer["note"].as_str().unwrap().contains("cut off"),
        "{}",
        answer["note"]
    );
    let rows = answer["row_count"].as_u64().unwrap();
    assert!(
        (500..1100).contains(&rows),
        "about 1 MiB of rows, got {rows}"
    );
    // One 5 MB row, larger than the whole byte limit: nothing fits, and the answer says so.
    let big = format!(
        "SELECT arrayStringConcat(arrayMap(x -> '{}', range(5000))) AS big",
        "y".repeat(1000)
    );
    let (status, answer) = post_query(&s.gw, &s.analyst, &big);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["truncated"], true);
    assert_eq!(answer["row_count"], 0);
    let grown_mib = (s.gw.memory_kib("VmHWM") - before) / 1024;
    eprintln!("gatewayd VmHWM grew by {grown_mib} MiB over ~125 MB of answers");
    assert!(grown_mib < 48, "gatewayd grew by {grown_mib} MiB");
}

#[test]
fn too_many_explorer_queries_at_once_are_turned_away() {
    let s = start_with("query_timeout = \"10s\"\nquery_concurrency = 1\n");
    let slow = std::thread::scope(|scope| {
        let running = scope.spawn(|| post_query(&s.gw, &s.analyst, "SELECT sleep(2) AS slept"));
        std::thread::sleep(Duration::from_millis(600));
        let busy = curl(&[
            "-H",
            &format!("Authorization: Bearer {}", s.analyst),
            "--data-binary",
            "{\"sql\": \"SELECT 1\"}",
            &format!("http://{}/api/v1/query", s.gw.admin),
        ]);
        assert_eq!(busy.status, 429, "{}", busy.body_text());
        assert_eq!(busy.header("retry-after"), Some("1"));
        let body: Value = serde_json::from_slice(&busy.body).unwrap();
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("already running"),
            "{body}"
        );
        running.join().unwrap()
    });
    assert_eq!(slow.0, 200, "the running query finished: {}", slow.1);
    let started = Instant::now();
    let (status, _) = post_query(&s.gw, &s.analyst, "SELECT 1");
    assert_eq!(status, 200, "a slot is free again");
    assert!(started.elapsed() < Duration::from_secs(5));
}
