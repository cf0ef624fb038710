//! "What did AI cost us, and who spent it?" (issues 19 and 20, prices and cost): every call
//! through the AI gateway — made here with the official `openai` and `anthropic` Python SDKs
//! against the mock providers — becomes one `ai_requests` row in a real ClickHouse with the
//! tokens the provider reported and the cost from the shipped price table, streamed or not;
//! none is lost while ClickHouse is down; `gatewayd report ai`, the dashboard's AI gateway
//! page (headless Chromium) and `/metrics` show the spend. A provider that reports absurd
//! usage gets a bounded, flagged cost, a price that is not one never loads, and no key — the
//! caller's virtual key or the organisation's provider key — is in a row, a log or a metric.

use std::time::{Duration, Instant};

use schema::testkit::ClickHouseServer;
use serde_json::{json, Value};

use crate::aigw::{plan, with, AiGateway, ANTHROPIC_KEY, OPENAI_KEY};
use crate::support::clickhouse_sql;
use crate::support::tools::gatewayd_binary;
use crate::support::webdriver::Browser;

/// gpt-4o-mini ($0.15 input, $0.075 cached, $0.60 output per million tokens) for the mock's
/// 21 prompt tokens (5 cached) and 9 completion tokens: 16 × 0.15 + 5 × 0.075 + 9 × 0.60 =
/// 8.175 µ$, rounded once.
const GPT_4O_MINI_CALL: u64 = 8;
/// claude-sonnet-4-5 ($3 input, $0.30 cache read, $3.75 cache write, $15 output) for the
/// mock's 13 input + 8 cache-read + 2 cache-write tokens and 9 output tokens:
/// 39 + 2.4 + 7.5 + 135 = 183.9 µ$.
const CLAUDE_CALL: u64 = 184;

pub(crate) fn sections(clickhouse: &ClickHouseServer) -> String {
    format!(
        "[clickhouse]\nurl = \"{}\"\ndatabase = \"warden\"\n\
         [events]\nflush_interval = \"200ms\"\nbatch_size = 1000\ninsert_timeout = \"3s\"\n",
        clickhouse.http_url()
    )
}

/// The rows of `sql` (JSONEachRow) once there are `n` of them.
pub(crate) fn rows(
    clickhouse: &ClickHouseServer,
    sql: &str,
    n: usize,
    limit: Duration,
) -> Vec<Value> {
    let deadline = Instant::now() + limit;
    loop {
        let got = clickhouse_sql(&clickhouse.http_url(), &format!("{sql} FORMAT JSONEachRow"));
        let text = got.body_text();
        let found: Vec<Value> = text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        if got.status == 200 && found.len() == n {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{sql}: wanted {n} rows, last saw {} ({text})",
            found.len()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub(crate) fn num(v: &Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

fn admin_addr(gw: &AiGateway) -> String {
    let listen = std::fs::read_to_string(gw.dir.path().join("state/listen.json")).unwrap();
    let listen: Value = serde_json::from_str(&listen).unwrap();
    listen["admin"].as_str().unwrap().to_string()
}

#[test]
fn streamed_and_whole_calls_are_priced_alike_and_the_spend_shows_in_report_dashboard_and_metrics() {
    let clickhouse = ClickHouseServer::start().expect("clickhouse-server starts");
    let mut gw = AiGateway::start_with(&sections(&clickhouse));
    let alice = gw.virtual_key(&[
        "--name",
        "alice-laptop",
        "--user",
        "alice",
        "--team",
        "data",
        "--tag",
        "pilot",
    ]);
    let bob = gw.virtual_key(&["--name", "bob-ci", "--user", "bob"]);
    let prompt = "Say bonjour";
    let results = gw.clients(vec![
        plan("openai", &alice, "gpt-4o-mini", prompt),
        with(
            plan("openai", &alice, "fast", prompt),
            "stream",
            json!(true),
        ),
        with(
            plan("anthropic", &bob, "claude", prompt),
            "stream",
            json!(true),
        ),
        plan("anthropic", &bob, "claude", prompt),
        // A model the price table does not name: served, but its cost is unknown.
        plan("openai", &bob, "openai/gpt-unlisted", prompt),
    ]);
    for r in &results {
        assert_eq!(r["ok"], true, "{r}");
    }
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["request_id"].as_str().unwrap())
        .collect();
    let calls = rows(
        &clickhouse,
        "SELECT * FROM warden.ai_requests ORDER BY ts, request_id",
        5,
        Duration::from_secs(15),
    );
    let row = |id: &str| {
        calls
            .iter()
            .find(|c| c["request_id"] == id)
            .unwrap_or_else(|| panic!("no row for {id}: {calls:?}"))
    };
    // The OpenAI SDK, whole and streamed (the caller did not ask for usage; the gateway
    // did): the same tokens, the same cost.
    for (id, stream) in [(ids[0], 0), (ids[1], 1)] {
        let r = row(id);
        assert_eq!(r["stream"], stream, "{r}");
        assert_eq!(
            (
                r["user"].as_str(),
                r["team"].as_str(),
                r["provider"].as_str()
            ),
            (Some("alice"), Some("data"), Some("openai"))
        );
        assert_eq!(r["tags"], json!(["pilot"]));
        assert_eq!(r["virtual_key_name"], "alice-laptop");
        assert_eq!(
            [&r["input_tokens"], &r["output_tokens"], &r["cached_tokens"]].map(num),
            [21, 9, 5],
            "{r}"
        );
        assert_eq!(num(&r["cost_micro_usd"]), GPT_4O_MINI_CALL, "{r}");
        assert_eq!(r["cost_status"], "priced");
        assert_eq!(r["price_checked"].as_str().unwrap().len(), 10, "a date");
        assert_eq!(r["model_served"], "gpt-4o-mini-2024-07-18");
        assert_eq!(r["status"], 200);
    }
    assert!(
        !row(ids[1])["ttft_ms"].is_null(),
        "a stream has a first token"
    );
    // The Anthropic SDK, streamed and whole: cache reads and writes at their own prices.
    for id in [ids[2], ids[3]] {
        let r = row(id);
        assert_eq!(
            [
                &r["input_tokens"],
                &r["output_tokens"],
                &r["cached_tokens"],
                &r["cache_write_tokens"]
            ]
            .map(num),
            [23, 9, 8, 2],
            "{r}"
        );
        assert_eq!(num(&r["cost_micro_usd"]), CLAUDE_CALL, "{r}");
        assert_eq!(r["ingress"], "anthropic");
    }
    let unlisted = row(ids[4]);
    assert!(unlisted["cost_micro_usd"].is_null(), "{unlisted}");
    assert_eq!(unlisted["cost_status"], "unknown_model");

    // `gatewayd report ai`: the spend by key, user, model and provider.
    let report: Value = serde_json::from_str(&gw.cli(&["report", "ai", "--json"], "")).unwrap();
    let totals = &report["totals"];
    let spent = 2 * GPT_4O_MINI_CALL + 2 * CLAUDE_CALL;
    assert_eq!(num(&totals["calls"]), 5, "{report}");
    assert_eq!(num(&totals["spend_micro_usd"]), spent, "{report}");
    assert_eq!(num(&totals["unpriced_calls"]), 1, "{report}");
    let alice_row = report["by_user"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "alice")
        .unwrap();
    assert_eq!(num(&alice_row["spend_micro_usd"]), 2 * GPT_4O_MINI_CALL);
    assert!(report["by_key"].to_string().contains("bob-ci"));
    assert!(report["by_model"]
        .to_string()
        .contains("anthropic/claude-sonnet-4-5"));
    let text = gw.cli(&["report", "ai"], "");
    assert!(
        text.contains("spend_usd") && text.contains("alice-laptop"),
        "{text}"
    );
    let csv = gw.cli(&["report", "ai", "--csv"], "");
    assert!(csv.starts_with("by,name,calls"), "{csv}");

    // /metrics: calls, tokens and cost by provider and configured model.
    let admin = admin_addr(&gw);
    let metrics = crate::support::curl(&[&format!("http://{admin}/metrics")]).body_text();
    for line in [
        "warden_aigw_requests_total{provider=\"openai\",model=\"gpt-4o-mini\",outcome=\"ok\"} 2",
        "warden_aigw_requests_total{provider=\"openai\",model=\"other\",outcome=\"ok\"} 1",
        "warden_aigw_tokens_total{provider=\"anthropic\",model=\"claude-sonnet-4-5\",kind=\"cached\"} 16",
        "warden_aigw_unpriced_requests_total{provider=\"openai\",model=\"other\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    let cost_line = format!(
        "warden_aigw_cost_micro_usd_total{{provider=\"openai\",model=\"gpt-4o-mini\"}} {}",
        2 * GPT_4O_MINI_CALL
    );
    assert!(metrics.contains(&cost_line), "{metrics}");

    // The dashboard's AI gateway page, in Chromium.
    let token = gw
        .cli(
            &[
                "admin", "token", "create", "--role", "analyst", "--name", "fin",
            ],
            "",
        )
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string();
    let browser = Browser::start(None);
    browser.login(&admin, &token);
    browser.goto(&format!("http://{admin}/ai?since=24h"));
    let page = browser.source();
    browser.screenshot("aigw-spend-dashboard");
    assert!(page.contains("AI gateway"), "{page}");
    let dollars = format!("${:.6}", spent as f64 / 1e6);
    assert!(
        page.contains(&dollars),
        "the spend card shows {dollars}: {page}"
    );
    assert!(
        page.contains("1 call without a known cost is not included"),
        "unpriced calls are said so: {page}"
    );
    assert!(page.contains("alice-laptop") && page.contains("bob-ci"));
    assert!(page.contains("anthropic/claude-sonnet-4-5"));
    assert!(page.contains(ids[2]), "the latest calls list each call");

    // No secret anywhere: not the virtual keys, not the provider keys.
    let table = clickhouse_sql(
        &clickhouse.http_url(),
        "SELECT * FROM warden.ai_requests FORMAT TSV",
    )
    .body_text();
    for (place, text) in [
        ("ai_requests", &table),
        ("metrics", &metrics),
        ("gatewayd log", &gw.log()),
        ("dashboard", &page),
    ] {
        for secret in [&alice, &bob, OPENAI_KEY, ANTHROPIC_KEY] {
            assert!(
                !text.contains(&secret[..24]),
                "a key leaked into the {place}"
            );
        }
    }
    gw.assert_no_provider_key_anywhere(&results_text(&results));
}

fn results_text(results: &[Value]) -> String {
    Value::Array(results.to_vec()).to_string()
}

#[test]
fn calls_made_while_clickhouse_is_down_are_answered_and_their_rows_arrive_after_it_returns() {
    let mut clickhouse = ClickHouseServer::start().expect("clickhouse-server starts");
    let mut gw = AiGateway::start_with(&sections(&clickhouse));
    let key = gw.virtual_key(&["--name", "k", "--user", "carol"]);
    // The schema is in place (migrated at start) before the outage.
    rows(
        &clickhouse,
        "SELECT name FROM system.tables WHERE database = 'warden' AND name = 'ai_requests'",
        1,
        Duration::from_secs(10),
    );
    clickhouse.stop();
    let results = gw.clients(vec![
        plan("openai", &key, "gpt-4o-mini", "one"),
        with(
            plan("openai", &key, "gpt-4o-mini", "two"),
            "stream",
            json!(true),
        ),
        with(
            plan("anthropic", &key, "claude", "three"),
            "stream",
            json!(true),
        ),
    ]);
    for r in &results {
        assert_eq!(r["ok"], true, "analytics never stops a call: {r}");
    }
    // Inserts fail and the rows wait in the spool.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !gw.log().contains("spooling events to disk") {
        assert!(Instant::now() < deadline, "not spooled:\n{}", gw.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    clickhouse.restart().unwrap();
    let back = rows(
        &clickhouse,
        "SELECT request_id, cost_micro_usd FROM warden.ai_requests ORDER BY request_id",
        3,
        Duration::from_secs(30),
    );
    let mut want: Vec<&str> = results
        .iter()
        .map(|r| r["request_id"].as_str().unwrap())
        .collect();
    want.sort();
    let got: Vec<&str> = back
        .iter()
        .map(|r| r["request_id"].as_str().unwrap())
        .collect();
    assert_eq!(got, want, "every call once, none twice");
    let cost: u64 = back.iter().map(|r| num(&r["cost_micro_usd"])).sum();
    assert_eq!(cost, 2 * GPT_4O_MINI_CALL + CLAUDE_CALL);
}

#[test]
fn a_provider_that_reports_absurd_usage_gets_a_bounded_flagged_cost_never_a_negative_one() {
    let clickhouse = ClickHouseServer::start().expect("clickhouse-server starts");
    let mut gw = AiGateway::start_with(&sections(&clickhouse));
    let key = gw.virtual_key(&["--name", "k", "--user", "dave"]);
    let results = gw.clients(vec![
        plan("openai", &key, "gpt-4o-mini", "absurd-usage please"),
        with(
            with(
                plan("openai", &key, "gpt-4o-mini", "absurd-usage please"),
                "stream",
                json!(true),
            ),
            "include_usage",
            json!(true),
        ),
    ]);
    let calls = rows(
        &clickhouse,
        "SELECT * FROM warden.ai_requests",
        2,
        Duration::from_secs(15),
    );
    for (r, result) in calls.iter().zip(&results) {
        // What the caller saw is the provider's business; the gateway's books stay sane.
        assert_eq!(r["status"], 200, "{r} / {result}");
        assert_eq!(num(&r["input_tokens"]), 0, "negative became 0: {r}");
        assert_eq!(
            num(&r["output_tokens"]),
            100_000_000,
            "cut to the bound: {r}"
        );
        assert_eq!(
            num(&r["cached_tokens"]),
            0,
            "never more than the input: {r}"
        );
        let flags: Vec<&str> = r["usage_flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        assert_eq!(
            flags,
            ["negative", "not_an_integer", "over_limit", "inconsistent"],
            "{r}"
        );
        assert_eq!(r["cost_status"], "usage_suspect");
        // 10^8 output tokens at $0.60 per million: $60, not 10^30 tokens' worth, not < 0.
        assert_eq!(num(&r["cost_micro_usd"]), 60_000_000, "{r}");
    }
    assert!(
        gw.log()
            .contains("a provider reported impossible token usage"),
        "the operator is told"
    );
    let admin = admin_addr(&gw);
    let metrics = crate::support::curl(&[&format!("http://{admin}/metrics")]).body_text();
    assert!(
        metrics.contains(
            "warden_aigw_usage_suspect_total{provider=\"openai\",model=\"gpt-4o-mini\"} 2"
        ),
        "{metrics}"
    );
}

#[test]
fn a_price_that_is_not_one_is_refused_by_check_and_prices_lists_the_table() {
    let mut gw = AiGateway::start_with(
        "[clickhouse]\nurl = \"http://127.0.0.1:1\"\n[events]\nenabled = false\n\
         [[aigw.prices]]\nprovider = \"openai\"\nmodel = \"gpt-unlisted\"\ninput = 1.5\n\
         output = 2.0\nchecked = \"2026-12-01\"\n",
    );
    let listed = gw.cli(&["aigw", "prices"], "");
    assert!(
        listed.contains("gpt-unlisted") && listed.contains("config"),
        "{listed}"
    );
    assert!(
        listed.contains("claude-sonnet-4-5") && listed.contains("shipped"),
        "{listed}"
    );
    let json = gw.cli(&["aigw", "prices", "--json"], "");
    let mini: Value = json
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|p| p["model"] == "gpt-4o-mini")
        .unwrap();
    assert_eq!(
        (mini["input"].as_f64(), mini["output"].as_f64()),
        (Some(0.15), Some(0.6))
    );
    assert!(mini["checked"].as_str().unwrap().starts_with("20"));

    let config = std::fs::read_to_string(gw.dir.path().join("gatewayd.toml")).unwrap();
    for (bad, why) in [
        ("input = -1.5", "a negative price"),
        ("input = nan", "NaN"),
        ("input = inf", "an infinite price"),
    ] {
        let name = "bad-price.toml";
        std::fs::write(gw.dir.path().join(name), config.replace("input = 1.5", bad)).unwrap();
        let out = std::process::Command::new(gatewayd_binary())
            .args(["check", "--config", name])
            .current_dir(gw.dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{why} is refused: {stderr}");
        assert!(
            stderr.contains("is not a price") && stderr.contains(&format!("{name}:")),
            "{why}: the error names the file and line: {stderr}"
        );
    }
}
