//! "The marketing team may spend $X, and nobody hammers a provider" (issue 20, budgets and
//! rate limits): budgets and limits hold against the official `openai` and `anthropic` Python
//! SDKs calling through the AI gateway to the mock providers. A burst of concurrent streamed
//! calls stops exactly at a team budget (the admitted ones complete, the rest are refused
//! with 429 `budget_exceeded` naming the budget, its scope and when it resets); a
//! requests-per-minute limit answers 429 `rate_limit_exceeded` with `retry-after` and
//! `x-ratelimit-*`; a concurrency cap holds while calls are in flight and frees when they end;
//! an Anthropic-dialect caller gets Anthropic's error shape; a token budget settles to the
//! tokens the provider reported. `gatewayd aigw budgets` shows what was spent, and a
//! restarted gatewayd rebuilds its budgets from ClickHouse's `ai_requests` (a restart does not
//! hand the month's budget out again).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use schema::testkit::ClickHouseServer;

use crate::aigw::{plan, with, AiGateway};
use crate::support::clickhouse_sql;

/// Output at $100 per million tokens, input free: a call with `max_tokens = 9` can cost at
/// most 900 µ$, and the mock's 9 completion tokens cost exactly that.
const PRICE: &str = r#"
[[aigw.prices]]
provider = "openai"
model = "gpt-4o-mini"
input = 0.0
cached_input = 0.0
cache_write = 0.0
output = 100.0
checked = "2026-12-07"
"#;
const CALL_MICRO_USD: u64 = 900;

fn gateway(rules: &str) -> AiGateway {
    AiGateway::start_with(&format!(
        "[clickhouse]\nurl = \"http://127.0.0.1:1\"\n[events]\nenabled = false\n{PRICE}{rules}"
    ))
}

fn burst(gw: &AiGateway, plans: Vec<Value>) -> Vec<Value> {
    gw.clients_with("aigw_burst.py", plans)
}

/// `gatewayd aigw budgets --json`'s row for `name` once the daemon has written `spent`.
fn budget_row(gw: &mut AiGateway, name: &str, spent: u64) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let out: Value = serde_json::from_str(&gw.cli(&["aigw", "budgets", "--json"], "")).unwrap();
        let row = out["budgets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .cloned();
        if let Some(row) = row.filter(|r| r["spent"] == spent && r["reserved"] == 0) {
            return row;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{name} never showed {spent} spent: {out}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn a_team_budget_stops_a_burst_of_concurrent_streamed_calls_exactly() {
    // Room for 3 calls and most of a 4th: never a 4th.
    let budget = 3 * CALL_MICRO_USD + CALL_MICRO_USD - 1;
    let mut gw = gateway(&format!(
        "[[aigw.budgets]]\nname = \"marketing\"\nscope = \"team\"\nmatch = \"marketing\"\n\
         usd = {}\nwindow = \"month\"\n",
        budget as f64 / 1e6
    ));
    let key = gw.virtual_key(&["--name", "mkt-app", "--user", "mia", "--team", "marketing"]);
    let other = gw.virtual_key(&["--name", "ops", "--user", "oli", "--team", "ops"]);
    let plans: Vec<Value> = (0..10)
        .map(|_| {
            let p = with(
                plan("openai", &key, "gpt-4o-mini", "Say bonjour"),
                "stream",
                json!(true),
            );
            with(p, "extra", json!({"max_tokens": 9}))
        })
        .collect();
    let results = burst(&gw, plans);
    let admitted: Vec<&Value> = results.iter().filter(|r| r["ok"] == true).collect();
    assert_eq!(admitted.len(), 3, "{results:#?}");
    for r in &admitted {
        assert_eq!(r["text"], "Bonjour, café ☕ from mock-openai", "{r}");
        assert_eq!(r["finish"], "stop");
    }
    for r in results.iter().filter(|r| r["ok"] != true) {
        assert_eq!(r["status"], 429, "{r}");
        assert_eq!(r["error"], "RateLimitError", "{r}");
        let error = &r["body"];
        let error = if error["error"].is_object() {
            &error["error"]
        } else {
            error
        };
        assert_eq!(error["type"], "budget_exceeded", "{r}");
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains("\"marketing\"")
                && message.contains("team:marketing")
                && message.contains("resets"),
            "the refusal names the budget, its scope and when it resets: {message}"
        );
        let retry: u64 = r["headers"]["retry-after"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry >= 1, "{r}");
    }
    // Spend is what the provider reported, within the budget; nothing stays reserved.
    let row = budget_row(&mut gw, "marketing", 3 * CALL_MICRO_USD);
    assert_eq!(row["limit"], budget);
    assert_eq!(row["remaining"], budget - 3 * CALL_MICRO_USD);
    assert_eq!(row["scope"], "team:marketing");
    // Another team is not held by marketing's budget.
    let ops = gw.clients(vec![with(
        plan("openai", &other, "gpt-4o-mini", "hi"),
        "extra",
        json!({"max_tokens": 9}),
    )]);
    assert_eq!(ops[0]["ok"], true, "{ops:?}");
    let text = gw.cli(&["aigw", "budgets"], "");
    assert!(
        text.contains("marketing") && text.contains("$0.0027"),
        "{text}"
    );
}

#[test]
fn a_requests_per_minute_limit_answers_429_with_retry_after_and_ratelimit_headers() {
    let mut gw = gateway(
        "[[aigw.limits]]\nname = \"per-key\"\nscope = \"key\"\nmatch = \"rpm-app\"\nrequests_per_minute = 2\n",
    );
    let key = gw.virtual_key(&["--name", "rpm-app", "--user", "rita"]);
    // Every call below inside one minute (the SDKs' start-up takes seconds on a busy box).
    let second = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 60;
    if second > 35 {
        std::thread::sleep(Duration::from_secs(61 - second));
    }
    // The first call by curl: an admitted call carries the limit's headers too (issue 20).
    let first = crate::support::curl(&[
        "-H",
        &format!("Authorization: Bearer {key}"),
        "-H",
        "content-type: application/json",
        "-d",
        r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#,
        &format!("http://{}/v1/chat/completions", gw.addr),
    ]);
    assert_eq!(first.status, 200, "{}", first.body_text());
    assert_eq!(
        (
            first.header("x-ratelimit-limit-requests"),
            first.header("x-ratelimit-remaining-requests")
        ),
        (Some("2"), Some("1")),
        "{:?}",
        first.headers
    );
    assert!(first
        .header("x-ratelimit-reset-requests")
        .is_some_and(|r| r.ends_with('s')));
    let p = plan("openai", &key, "gpt-4o-mini", "hi");
    let results = gw.clients(vec![p.clone(), p]);
    assert_eq!(results[0]["ok"].clone(), json!(true), "{results:#?}");
    let refused = &results[1];
    assert_eq!(refused["status"], 429, "{refused}");
    assert_eq!(refused["body"]["code"], "rate_limit_exceeded", "{refused}");
    assert_eq!(refused["body"]["type"], "rate_limit_error", "{refused}");
    let headers = &refused["headers"];
    let retry: u64 = headers["retry-after"].as_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{headers}");
    assert_eq!(headers["x-ratelimit-limit-requests"], "2", "{headers}");
    assert_eq!(headers["x-ratelimit-remaining-requests"], "0", "{headers}");
    assert_eq!(
        headers["x-ratelimit-reset-requests"],
        format!("{retry}s"),
        "{headers}"
    );
    let message = refused["body"]["message"].as_str().unwrap();
    assert!(
        message.contains("per-key") && message.contains("key:rpm-app"),
        "{message}"
    );
    // /metrics counts the refusal under the limit's name.
    let listen: Value = serde_json::from_str(
        &std::fs::read_to_string(gw.dir.path().join("state/listen.json")).unwrap(),
    )
    .unwrap();
    let admin = listen["admin"].as_str().unwrap();
    let metrics = crate::support::curl(&[&format!("http://{admin}/metrics")]).body_text();
    assert!(
        metrics.contains(r#"warden_aigw_limit_refusals_total{name="per-key",kind="limit",metric="requests_per_minute"} 1"#),
        "{metrics}"
    );
    // The Responses API and embeddings count against the same limit: no endpoint walks
    // around it.
    let others = gw.clients(vec![
        json!({"sdk": "openai", "op": "responses", "key": key, "model": "gpt-4o-mini", "prompt": "hi"}),
        json!({"sdk": "openai", "op": "embeddings", "key": key,
               "model": "openai/text-embedding-3-small", "input": "hi"}),
    ]);
    for r in &others {
        assert_eq!(r["status"], 429, "{r}");
    }
}

#[test]
fn a_concurrency_cap_holds_while_calls_are_in_flight_and_frees_when_they_end() {
    let mut gw =
        gateway("[[aigw.limits]]\nname = \"two-at-once\"\nscope = \"user\"\nconcurrent = 2\n");
    let key = gw.virtual_key(&["--name", "carol-ci", "--user", "carol"]);
    let slow = with(
        plan("openai", &key, "gpt-4o-mini", "slow please"),
        "stream",
        json!(true),
    );
    let results = burst(
        &gw,
        vec![slow.clone(), slow.clone(), slow.clone(), slow.clone()],
    );
    let ok = results.iter().filter(|r| r["ok"] == true).count();
    assert_eq!(ok, 2, "{results:#?}");
    for r in results.iter().filter(|r| r["ok"] != true) {
        assert_eq!(r["status"], 429, "{r}");
        assert_eq!(r["body"]["code"], "rate_limit_exceeded", "{r}");
        assert_eq!(r["headers"]["x-ratelimit-limit-concurrent"], "2", "{r}");
    }
    // Both slots are free again.
    let again = burst(&gw, vec![slow.clone(), slow]);
    assert!(again.iter().all(|r| r["ok"] == true), "{again:#?}");
}

#[test]
fn an_anthropic_caller_is_refused_in_anthropic_s_words_and_a_token_budget_settles_to_reported_tokens(
) {
    let mut gw = gateway(
        "[[aigw.budgets]]\nname = \"claude-cap\"\nscope = \"model\"\nmatch = \"claude\"\nusd = 0.001\nwindow = \"day\"\n\
         [[aigw.budgets]]\nname = \"dave-tokens\"\nscope = \"user\"\nmatch = \"dave\"\ntokens = 300\nwindow = \"24h\"\n",
    );
    let ann = gw.virtual_key(&["--name", "ann-app", "--user", "ann"]);
    // max_tokens = 200 at $15 per million output tokens is $0.003: more than the whole budget,
    // so waiting cannot help: a 400 the SDK does not retry (no retry-after).
    let r = &gw.clients(vec![plan("anthropic", &ann, "claude", "hello")])[0];
    assert_eq!(r["status"], 400, "{r}");
    assert_eq!(r["error"], "BadRequestError", "{r}");
    assert_eq!(r["body"]["type"], "error", "{r}");
    assert_eq!(r["body"]["error"]["type"], "budget_exceeded", "{r}");
    let message = r["body"]["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("claude-cap")
            && message.contains("model:claude")
            && message.contains("max_tokens"),
        "{message}"
    );
    assert!(r["headers"]["retry-after"].is_null(), "{r}");
    assert_eq!(r["headers"]["x-should-retry"], "false", "{r}");

    // Tokens: each call reserves its body's bytes plus max_tokens and settles to the 30
    // tokens the provider reported, until the next reservation would pass 300.
    let dave = gw.virtual_key(&["--name", "dave-app", "--user", "dave"]);
    let p = with(
        plan("openai", &dave, "gpt-4o-mini", "hi"),
        "extra",
        json!({"max_tokens": 9}),
    );
    let results = gw.clients(vec![p; 12]);
    let ok = results.iter().take_while(|r| r["ok"] == true).count();
    assert!((1..12).contains(&ok), "{results:#?}");
    for r in &results[ok..] {
        assert_eq!(r["status"], 429, "{r}");
        assert_eq!(r["body"]["type"], "budget_exceeded", "{r}");
        // The reset is a day away: the SDKs are told not to sleep until then.
        assert!(r["headers"]["retry-after"].is_string(), "{r}");
        assert_eq!(r["headers"]["x-should-retry"], "false", "{r}");
    }
    let row = budget_row(&mut gw, "dave-tokens", 30 * ok as u64);
    assert!(row["spent"].as_u64().unwrap() <= 300, "{row}");
    assert_eq!(row["unit"], "tokens");
}

#[test]
fn a_restart_rebuilds_budgets_from_ai_requests_and_does_not_hand_them_out_again() {
    let clickhouse = ClickHouseServer::start().expect("clickhouse-server starts");
    let budget = 3 * CALL_MICRO_USD + CALL_MICRO_USD - 1;
    let mut gw = AiGateway::start_with(&format!(
        "[clickhouse]\nurl = \"{}\"\ndatabase = \"warden\"\n\
         [events]\nflush_interval = \"200ms\"\nbatch_size = 1000\ninsert_timeout = \"3s\"\n{PRICE}\
         [[aigw.budgets]]\nname = \"marketing\"\nscope = \"team\"\nmatch = \"marketing\"\n\
         usd = {}\nwindow = \"month\"\n",
        clickhouse.http_url(),
        budget as f64 / 1e6
    ));
    let key = gw.virtual_key(&["--name", "mkt-app", "--user", "mia", "--team", "marketing"]);
    let p = with(
        plan("openai", &key, "gpt-4o-mini", "Say bonjour"),
        "extra",
        json!({"max_tokens": 9}),
    );
    let first = gw.clients(vec![p.clone(), p.clone()]);
    assert!(first.iter().all(|r| r["ok"] == true), "{first:#?}");
    // Both rows are in ClickHouse before the restart.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let got = clickhouse_sql(
            &clickhouse.http_url(),
            "SELECT sum(cost_micro_usd) FROM warden.ai_requests WHERE team = 'marketing'",
        );
        if got.body_text().trim() == (2 * CALL_MICRO_USD).to_string() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "rows never arrived: {}",
            got.body_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    gw.restart();
    assert!(
        gw.log().contains("budgets rebuilt from ai_requests"),
        "{}",
        gw.log()
    );
    budget_row(&mut gw, "marketing", 2 * CALL_MICRO_USD);
    // What is left is one call's worth: of a burst of three, exactly one goes through.
    let results = burst(&gw, vec![p.clone(), p.clone(), p]);
    assert_eq!(
        results.iter().filter(|r| r["ok"] == true).count(),
        1,
        "{results:#?}"
    );
    budget_row(&mut gw, "marketing", 3 * CALL_MICRO_USD);
}
