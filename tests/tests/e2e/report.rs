//! "Which AI apps are in use, by whom, and how much data goes to them": the report API and
//! `gatewayd report` over a real ClickHouse holding a known set of events
//! ([`crate::support::report_data`]); numbers must match what was inserted, filters and
//! paging must narrow them, analysts may read but not change, and the log explorer only reads.

use std::time::{Duration, Instant};

use schema::testkit::ClickHouseServer;
use serde_json::Value;

use crate::support::gateway::gatewayd;
use crate::support::report_data::{seed, TOTAL_REQUESTS};
use crate::support::{curl, GatewayOptions, GatewayProcess, Origin};

pub struct ReportSetup {
    pub _dir: tempfile::TempDir,
    pub _origin: Origin,
    pub clickhouse: ClickHouseServer,
    pub gw: GatewayProcess,
    pub admin: String,
    pub analyst: String,
}

/// A new admin token of `role` named `name`, from `gatewayd admin token create`.
pub fn token(gw: &GatewayProcess, role: &str, name: &str) -> String {
    let (code, out, err) = gatewayd(
        gw,
        &["admin", "token", "create", "--role", role, "--name", name],
    );
    assert_eq!(code, 0, "{err}");
    out.lines().last().unwrap().trim().to_string()
}

/// ClickHouse, a gatewayd writing to it, the data set, and an admin and an analyst token the
/// daemon already accepts. Reports and the explorer run as the test server's read-only user.
pub fn start() -> ReportSetup {
    start_with("query_timeout = \"1s\"\nquery_max_rows = 100\n")
}

/// [`start`] with other `[admin]` lines.
pub fn start_with(admin: &str) -> ReportSetup {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let clickhouse = ClickHouseServer::start().expect("clickhouse-server starts");
    let sections = format!(
        "[clickhouse]\nurl = \"{}\"\ndatabase = \"warden\"\n\
         reader_user = \"{}\"\nreader_password = \"{}\"\n\n\
         [events]\nflush_interval = \"200ms\"\n",
        clickhouse.http_url(),
        schema::testkit::READER_USER,
        schema::testkit::READER_PASSWORD,
    );
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections,
            admin: admin.into(),
            ..Default::default()
        },
    );
    seed(&clickhouse.http_url());
    let admin = token(&gw, "admin", "sec-team");
    let analyst = token(&gw, "analyst", "alice-analyst");
    // The daemon re-reads the tokens file once a second. Every poll before that is a failed
    // token, which the admin port throttles per address and per token prefix: so wait out
    // the first reload, and poll from an address of its own (127.0.0.9), or the tests' own
    // wrong-token steps from 127.0.0.1 would find that address already waiting.
    std::thread::sleep(Duration::from_millis(1200));
    let deadline = Instant::now() + Duration::from_secs(10);
    let loaded = || {
        curl(&[
            "--interface",
            "127.0.0.9",
            "-H",
            &format!("Authorization: Bearer {analyst}"),
            &format!("http://{}/api/v1/apps", gw.admin),
        ])
        .status
            == 200
    };
    while !loaded() {
        assert!(
            Instant::now() < deadline,
            "the daemon did not load the new tokens"
        );
        std::thread::sleep(Duration::from_millis(400));
    }
    ReportSetup {
        _dir: dir,
        _origin: origin,
        clickhouse,
        gw,
        admin,
        analyst,
    }
}

/// GET on the admin API with a token: status and JSON body (Null when not JSON).
pub fn api(gw: &GatewayProcess, token: &str, path: &str) -> (u16, Value) {
    let result = curl(&[
        "-H",
        &format!("Authorization: Bearer {token}"),
        &format!("http://{}{path}", gw.admin),
    ]);
    (
        result.status,
        serde_json::from_slice(&result.body).unwrap_or(Value::Null),
    )
}

fn ok(gw: &GatewayProcess, token: &str, path: &str) -> Value {
    let (status, value) = api(gw, token, path);
    assert_eq!(status, 200, "{path}: {value}");
    value
}

pub fn post_query(gw: &GatewayProcess, token: &str, sql: &str) -> (u16, Value) {
    let body = serde_json::json!({ "sql": sql }).to_string();
    let result = curl(&[
        "-H",
        &format!("Authorization: Bearer {token}"),
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        &body,
        &format!("http://{}/api/v1/query", gw.admin),
    ]);
    (
        result.status,
        serde_json::from_slice(&result.body).unwrap_or(Value::Null),
    )
}

fn find<'a>(list: &'a Value, key: &str, value: &str) -> &'a Value {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .find(|item| item[key] == value)
        .unwrap_or_else(|| panic!("no {key} = {value} in {list}"))
}

#[test]
fn report_numbers_match_the_events_and_filters_narrow_them() {
    let s = start();
    let (gw, token) = (&s.gw, &s.analyst);

    let overview = ok(gw, token, "/api/v1/report/overview?since=30d");
    let totals = &overview["totals"];
    assert_eq!(totals["requests"], TOTAL_REQUESTS, "{overview}");
    assert_eq!(totals["users"], 5);
    assert_eq!(totals["devices"], 1);
    assert_eq!(totals["apps"], 3);
    assert_eq!(totals["bytes_up"], TOTAL_REQUESTS * 1000);
    assert_eq!(totals["bytes_down"], TOTAL_REQUESTS * 5000);
    assert_eq!(totals["blocked"], 3);
    assert_eq!(totals["uploads"], 2);
    assert_eq!(totals["dlp_findings"], 8);
    assert_eq!(overview["top_apps"]["by_requests"][0]["app_id"], "chatgpt");
    assert_eq!(overview["top_apps"]["by_requests"][0]["name"], "ChatGPT");
    let series_sum: u64 = overview["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(series_sum, TOTAL_REQUESTS, "the trend adds up");

    let apps = ok(gw, token, "/api/v1/report/apps?since=30d");
    assert_eq!(apps["total"], 3);
    let claude = find(&apps["apps"], "app_id", "claude");
    assert_eq!(claude["requests"], 40);
    assert_eq!(claude["users"], 1);
    assert_eq!(claude["category"], "chat");
    assert_eq!(claude["status"], "unreviewed");
    let page = ok(gw, token, "/api/v1/report/apps?since=30d&limit=1&offset=1");
    assert_eq!(page["apps"].as_array().unwrap().len(), 1);
    assert_eq!(page["apps"][0]["app_id"], "claude", "second by requests");
    assert_eq!(page["total"], 3);

    // Who-filters, each answered by its rollup over 30 days, or by the raw events.
    let alice = ok(gw, token, "/api/v1/report/overview?since=30d&user=alice");
    assert_eq!(alice["totals"]["requests"], 220);
    let sales = ok(gw, token, "/api/v1/report/apps?since=30d&group=sales");
    assert_eq!(find(&sales["apps"], "app_id", "claude")["requests"], 40);
    assert_eq!(find(&sales["apps"], "app_id", "chatgpt")["requests"], 10);
    let brazil = ok(gw, token, "/api/v1/report/apps?since=30d&country=br");
    assert_eq!(brazil["total"], 1);
    assert_eq!(brazil["apps"][0]["requests"], 5);
    let bob_de = ok(
        gw,
        token,
        "/api/v1/report/apps?since=30d&user=bob&country=DE",
    );
    assert_eq!(bob_de["source"], "raw events");
    assert_eq!(bob_de["apps"][0]["requests"], 35);
    let last_hours = ok(gw, token, "/api/v1/report/overview?since=3h&group=eng");
    assert_eq!(last_hours["totals"]["requests"], 158, "alice 150 + carol 8");
    // Issue 24, bug 5: an hour's overview is exact (raw events, not whole hours from the
    // rollup) and its trend is drawn by the minute, not as a two-point line.
    let hour = ok(gw, token, "/api/v1/report/overview?since=1h");
    assert_eq!(hour["source"], "raw events", "{}", hour["source"]);
    let points = hour["series"].as_array().map_or(0, Vec::len);
    assert!((60..=61).contains(&points), "{points} points");
    let code = ok(gw, token, "/api/v1/report/apps?since=30d&category=code");
    assert_eq!(code["total"], 0);

    // Status filters follow the approval the admin sets.
    let put = curl(&[
        "-X",
        "PUT",
        "-H",
        &format!("Authorization: Bearer {}", s.admin),
        "-d",
        "{\"status\":\"unapproved\"}",
        &format!("http://{}/api/v1/apps/claude/status", gw.admin),
    ]);
    assert_eq!(put.status, 200, "{}", put.body_text());
    let unapproved = ok(gw, token, "/api/v1/report/apps?since=30d&status=unapproved");
    assert_eq!(unapproved["total"], 1);
    assert_eq!(unapproved["apps"][0]["app_id"], "claude");
    let shadow = ok(
        gw,
        token,
        "/api/v1/report/unapproved?since=30d&status=unapproved",
    );
    assert_eq!(shadow["total"], 1);
    assert_eq!(shadow["users"][0]["user"], "bob");
    // By default the report also shows the apps nobody has reviewed yet (issue 24).
    let shadow = ok(gw, token, "/api/v1/report/unapproved?since=30d");
    assert_eq!(shadow["total"], 3, "{shadow}");

    let csv = curl(&[
        "-H",
        &format!("Authorization: Bearer {token}"),
        &format!(
            "http://{}/api/v1/report/apps?since=30d&format=csv",
            gw.admin
        ),
    ]);
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let lines: Vec<String> = csv.body_text().lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(lines[0].starts_with("app_id,name,category,status,risk,requests"));
    assert!(lines[1].starts_with("chatgpt,ChatGPT,chat,"));

    let app = ok(gw, token, "/api/v1/report/app/chatgpt?since=30d");
    assert_eq!(app["app"]["name"], "ChatGPT");
    assert_eq!(app["totals"]["requests"], 240);
    assert_eq!(app["users"][0]["user"], "alice");
    assert_eq!(app["users"][0]["requests"], 220);
    assert_eq!(app["users"][0]["groups"], serde_json::json!(["eng"]));
    assert_eq!(find(&app["groups"], "group_name", "eng")["requests"], 225);
    assert_eq!(find(&app["groups"], "group_name", "sales")["requests"], 10);
    assert_eq!(find(&app["countries"], "country", "US")["requests"], 240);
    assert_eq!(app["devices"][0]["device_id"], "dev-alice");
    assert_eq!(app["devices"][0]["requests"], 220);
    assert_eq!(find(&app["dlp"], "detector", "credit_card")["findings"], 6);
    assert_eq!(app["frequency"]["active_days"], 8);
    // Issue 24, bug 6: a country filter keeps the app's devices and DLP findings.
    let us = ok(gw, token, "/api/v1/report/app/chatgpt?since=30d&country=US");
    for card in ["uploads", "dlp_findings", "devices"] {
        assert!(
            us["totals"][card].is_number(),
            "{card} blank: {}",
            us["totals"]
        );
    }
    assert_eq!(us["totals"]["dlp_findings"], 6, "{}", us["totals"]);
    assert_eq!(
        api(gw, token, "/api/v1/report/app/no-such-app?since=30d").0,
        404
    );

    let users = ok(gw, token, "/api/v1/report/users?since=30d");
    assert_eq!(users["total"], 5);
    assert_eq!(users["users"][0]["user"], "alice");
    assert_eq!(users["users"][0]["requests"], 220);
    assert_eq!(find(&users["users"], "user", "bob")["requests"], 45);
    assert_eq!(find(&users["users"], "user", "carol")["apps"], 2);
    let eng = ok(gw, token, "/api/v1/report/users?since=30d&group=finance");
    assert_eq!(eng["total"], 1);
    assert_eq!(eng["users"][0]["user"], "carol");

    let dlp = ok(gw, token, "/api/v1/report/dlp?since=30d");
    assert_eq!(dlp["total"], 5, "finding rows");
    let card = find(&dlp["by_detector"], "detector", "credit_card");
    assert_eq!(card["findings"], 6);
    assert_eq!(card["blocked"], 3);
    assert_eq!(
        find(&dlp["by_detector"], "detector", "aws_access_key_id")["findings"],
        2
    );
    assert_eq!(dlp["findings"][0]["snippet"], "4111 **** **** 1111");
    // Issue 24, bug 6: the By app table counts users too.
    let by_app = find(&dlp["by_app"], "detector", "credit_card");
    assert!(by_app["users"].as_u64().is_some_and(|u| u >= 1), "{by_app}");

    let anomalies = ok(gw, token, "/api/v1/report/anomalies?since=24h");
    let found = &anomalies["anomalies"];
    let spike = find(found, "kind", "usage_spike");
    assert_eq!(spike["app_id"], "chatgpt");
    assert_eq!(spike["value"], 170);
    let country = find(found, "kind", "new_country");
    assert_eq!(country["app_id"], "claude");
    assert_eq!(country["country"], "BR");
    assert_eq!(find(found, "kind", "heavy_user")["user"], "alice");
    assert_eq!(find(found, "kind", "heavy_source")["src_ip"], "10.0.0.1");
    // ... and a heavy address says where it is (issue 24, bug 6).
    assert!(
        !find(found, "kind", "heavy_source")["country"]
            .as_str()
            .unwrap_or("")
            .is_empty(),
        "{found}"
    );
    assert_eq!(found.as_array().unwrap().len(), 4, "{found}");

    for bad in [
        "/api/v1/report/apps?since=forever",
        "/api/v1/report/apps?limit=0",
        "/api/v1/report/apps?bogus=1",
        "/api/v1/report/apps?status=maybe",
        "/api/v1/report/nothing",
    ] {
        let (status, value) = api(gw, token, bad);
        assert!(status == 400 || status == 404, "{bad}: {status} {value}");
        assert!(
            value["error"]["message"].as_str().is_some(),
            "{bad}: {value}"
        );
    }
}

#[test]
fn analysts_read_but_cannot_change_and_the_log_explorer_only_reads() {
    let s = start();
    let gw = &s.gw;
    assert_eq!(api(gw, "wdn_forged", "/api/v1/report/overview").0, 401);
    assert_eq!(api(gw, &s.analyst, "/api/v1/report/overview").0, 200);
    let put = curl(&[
        "-X",
        "PUT",
        "-H",
        &format!("Authorization: Bearer {}", s.analyst),
        "-d",
        "{\"status\":\"unapproved\"}",
        &format!("http://{}/api/v1/apps/chatgpt/status", gw.admin),
    ]);
    assert_eq!(put.status, 403, "an analyst cannot change a status");

    let (status, answer) = post_query(gw, &s.analyst, "SELECT count() AS n FROM http_events");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["rows"][0][0], TOTAL_REQUESTS);
    assert_eq!(answer["columns"][0], "n");

    let (status, answer) = post_query(gw, &s.analyst, "SELECT number FROM numbers(1000)");
    assert_eq!(
        status, 400,
        "table functions are refused by readonly: {answer}"
    );

    let (status, answer) = post_query(
        gw,
        &s.analyst,
        "SELECT user, ts FROM http_events ORDER BY ts LIMIT 1000",
    );
    assert_eq!(status, 200);
    assert_eq!(answer["row_count"], 100, "the configured row limit");
    assert_eq!(answer["truncated"], true);

    for write in [
        "INSERT INTO http_events (user) VALUES ('mallory')",
        "DROP TABLE http_events",
        "ALTER TABLE http_events DELETE WHERE 1 = 1",
        "SELECT * FROM system.users",
        "SELECT 1; DROP TABLE http_events",
        "SELECT 1 SETTINGS readonly = 0",
        "CREATE TABLE x (a UInt8) ENGINE = Memory",
    ] {
        let (status, answer) = post_query(gw, &s.admin, write);
        assert_eq!(status, 400, "{write} was not refused: {answer}");
        assert!(answer["error"]["message"].as_str().is_some(), "{answer}");
    }
    let started = Instant::now();
    // sleep() stops after 3 s in one block; the 1 s limit turns that into a refusal: the
    // server's own, or gatewayd's where the reader's profile pins the settings (18.16).
    let (status, answer) = post_query(gw, &s.analyst, "SELECT sleep(3)");
    assert_eq!(status, 400, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Timeout exceeded") || message.contains("did not answer within"),
        "{answer}"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    let (_, count) = post_query(gw, &s.admin, "SELECT count() FROM http_events");
    assert_eq!(count["rows"][0][0], TOTAL_REQUESTS, "nothing was written");

    let (status, _) = api(gw, &s.analyst, "/api/v1/audit");
    assert_eq!(status, 403, "the audit trail is for admins");
    let audit = ok(gw, &s.admin, "/api/v1/audit");
    let entries = audit["entries"].as_array().unwrap();
    assert!(entries
        .iter()
        .any(|e| e["action"] == "log_explorer_query" && e["actor"] == "token:alice-analyst"));
    assert!(entries
        .iter()
        .any(|e| e["detail"].as_str().unwrap().contains("DROP TABLE")));
}

#[test]
fn gatewayd_report_prints_the_same_figures_as_text_json_and_csv() {
    let mut s = start();
    let gw = &s.gw;
    let (code, out, err) = gatewayd(gw, &["report", "overview", "--since", "30d", "--json"]);
    assert_eq!(code, 0, "{err}");
    let overview: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(overview["totals"]["requests"], TOTAL_REQUESTS);

    let (code, out, err) = gatewayd(gw, &["report", "apps", "--since", "30d"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("rows 1–3 of 3"), "{out}");
    let chatgpt = out.lines().find(|l| l.starts_with("chatgpt")).unwrap();
    assert!(
        chatgpt.contains("ChatGPT") && chatgpt.contains("240"),
        "{out}"
    );

    let (code, out, _) = gatewayd(gw, &["report", "users", "--since", "30d", "--csv"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("user,groups,requests"), "{out}");
    assert!(out.contains("alice,eng,220,"), "{out}");

    let (code, out, _) = gatewayd(gw, &["report", "app", "claude", "--since", "30d"]);
    assert_eq!(code, 0);
    assert!(out.contains("Claude (claude, chat"), "{out}");

    let (code, out, _) = gatewayd(gw, &["report", "dlp", "--since", "30d", "--json"]);
    assert_eq!(code, 0);
    let dlp: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(dlp["total"], 5);

    let (code, out, _) = gatewayd(gw, &["report", "anomalies"]);
    assert_eq!(code, 0);
    for needle in ["usage_spike", "new_country", "heavy_user", "heavy_source"] {
        assert!(out.contains(needle), "{needle} missing:\n{out}");
    }

    let (code, _, err) = gatewayd(gw, &["report", "apps", "--since", "5y"]);
    assert_eq!(code, 2);
    assert!(err.contains("unit"), "{err}");
    let (code, _, err) = gatewayd(gw, &["report", "app"]);
    assert_eq!(code, 2, "{err}");

    // ClickHouse gone: a plain error, not a hang or an empty report.
    s.clickhouse.stop();
    let gw = &s.gw;
    let (code, _, err) = gatewayd(gw, &["report", "overview"]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot be reached"), "{err}");
    let (status, value) = api(gw, &s.analyst, "/api/v1/report/apps");
    assert_eq!(status, 502, "{value}");
    assert!(value["error"]["message"]
        .as_str()
        .unwrap()
        .contains("ClickHouse"));
}
