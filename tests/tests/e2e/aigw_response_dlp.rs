//! "DLP both ways" and "a disconnect still costs" (issue 19): a provider's answer that holds a
//! card number or an AWS key — streamed by the mock providers (tests/fixtures/mock_*.py) split
//! across deltas (the card across two) and across SSE chunks at odd byte boundaries — is
//! scanned on its way back with the prompt's engine. `block` refuses a whole answer and ends a
//! stream with an error event in the caller's dialect, and the secret never reaches the
//! caller: asserted on what the official `openai` and `anthropic` SDKs raised and on the raw
//! bytes curl received. `redact` masks it and the rest arrives; `monitor` passes it and
//! records it. Findings land in ClickHouse's `dlp_findings` and counts in the call's
//! `ai_requests` row, never the data. A caller that hangs up mid-stream leaves exactly one row,
//! status 499, with the tokens the provider had reported or the output counted from the deltas.

use std::process::Command;
use std::time::{Duration, Instant};

use schema::testkit::ClickHouseServer;
use serde_json::{json, Value};

use crate::aigw::{plan, with, AiGateway};
use crate::support::clickhouse_sql;
use crate::support::tools::require;

/// Pieces of the leaked card and key (the mock splits them across deltas): none may reach a
/// caller that blocks or redacts.
pub(crate) const CARD_PARTS: &[&str] = &["4539", "1488", "0343", "6467", "488 0"];
pub(crate) const KEY_PARTS: &[&str] = &["AKIAQ7RZ", "Q7RZ4XH2", "4XH2LMNB5TWE", "LMNB5TWE"];
/// The card's pieces as a log could hold them: two groups together, spaced or not. A lone
/// four-digit group is no evidence in a log, whose timestamps, ports and ids hold every
/// four-digit string sooner or later.
const CARD_PAIRS: &[&str] = &[
    "4539 1488",
    "1488 0343",
    "0343 6467",
    "45391488",
    "14880343",
    "03436467",
];

fn sections(clickhouse: &ClickHouseServer) -> String {
    format!(
        "[clickhouse]\nurl = \"{}\"\ndatabase = \"warden\"\n\
         [events]\nflush_interval = \"200ms\"\nbatch_size = 1000\ninsert_timeout = \"3s\"\n",
        clickhouse.http_url()
    )
}

const NO_EVENTS: &str = "[clickhouse]\nurl = \"http://127.0.0.1:1\"\n[events]\nenabled = false\n";

pub(crate) fn response_dlp(mode: &str) -> String {
    format!("response_dlp = \"{mode}\"\nresponse_dlp_profile = \"default\"\n")
}

/// The rows of `sql` (JSONEachRow) once there are `n` of them.
fn rows(clickhouse: &ClickHouseServer, sql: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
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

fn num(v: &Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

/// What curl received, headers and body, for one call (streamed with `-N`: as it came).
pub(crate) fn curl(gw: &AiGateway, path: &str, key: &str, body: &Value) -> String {
    let curl = require("curl", "apt-get install -y curl");
    let out = Command::new(curl)
        .args(["-sS", "-N", "-i", "--max-time", "20", "-X", "POST"])
        .arg(format!("http://{}{path}", gw.addr))
        .args(["-H", "content-type: application/json"])
        .args(["-H", &format!("authorization: Bearer {key}")])
        .args(["-H", "anthropic-version: 2023-06-01"])
        .arg("--data-binary")
        .arg(body.to_string())
        .output()
        .expect("curl runs");
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn openai_body(prompt: &str, stream: bool) -> Value {
    json!({"model": "gpt-4o-mini", "stream": stream, "messages": [{"role": "user", "content": prompt}]})
}

fn anthropic_body(prompt: &str, stream: bool) -> Value {
    json!({"model": "claude", "max_tokens": 100, "stream": stream, "messages": [{"role": "user", "content": prompt}]})
}

pub(crate) fn assert_none_of(parts: &[&str], text: &str, what: &str) {
    for part in parts {
        assert!(!text.contains(part), "{part:?} reached {what}:\n{text}");
    }
}

/// Every SDK × model × leak × stream-or-not: sixteen calls.
fn leak_plans(key: &str) -> Vec<(Value, &'static str, &'static [&'static str])> {
    let mut plans = Vec::new();
    for sdk in ["openai", "anthropic"] {
        for model in ["gpt-4o-mini", "claude"] {
            for (prompt, detector, parts) in [
                ("please leak-card", "credit_card", CARD_PARTS),
                ("please leak-aws", "aws_access_key_id", KEY_PARTS),
            ] {
                for stream in [false, true] {
                    let p = with(plan(sdk, key, model, prompt), "stream", json!(stream));
                    plans.push((p, detector, parts));
                }
            }
        }
    }
    plans
}

#[test]
fn answers_holding_a_card_or_a_key_are_blocked_whole_and_streamed_in_both_dialects() {
    let clickhouse = ClickHouseServer::start().expect("clickhouse-server starts");
    let mut gw = AiGateway::start_with_aigw(&sections(&clickhouse), &response_dlp("block"));
    let key = gw.virtual_key(&["--name", "alice-laptop", "--user", "alice"]);
    let plans = leak_plans(&key);
    let results = gw.clients(plans.iter().map(|(p, _, _)| p.clone()).collect());
    for ((p, detector, parts), r) in plans.iter().zip(&results) {
        let seen = r.to_string();
        assert_eq!(r["ok"], false, "{p} was not refused: {r}");
        assert!(
            r["message"].as_str().unwrap_or("").contains(detector)
                && seen.contains("Warden blocked this answer"),
            "{p}: the error names the detector: {r}"
        );
        if p["stream"] == false {
            assert_eq!(r["status"], 403, "{p}: {r}");
        }
        assert_none_of(parts, &seen, &format!("the SDK ({p})"));
    }
    // What the SDKs saw of the streams: the text before the secret, then the error.
    let streamed_card = &results[1];
    assert_eq!(
        streamed_card["partial_text"], "Sure. Your card is ",
        "{streamed_card}"
    );

    // The bytes on the wire: the text up to the secret, the error event in the caller's
    // dialect, nothing of the secret.
    let openai_stream = curl(
        &gw,
        "/v1/chat/completions",
        &key,
        &openai_body("leak-card", true),
    );
    assert!(
        openai_stream.contains("Sure. Your card is ")
            && openai_stream.contains("data: {\"error\":")
            && openai_stream.contains("response_dlp_blocked")
            && openai_stream.contains("credit_card")
            && !openai_stream.contains("[DONE]"),
        "{openai_stream}"
    );
    assert_none_of(CARD_PARTS, &openai_stream, "the OpenAI stream's bytes");
    let anthropic_stream = curl(&gw, "/v1/messages", &key, &anthropic_body("leak-aws", true));
    assert!(
        anthropic_stream.contains("event: error")
            && anthropic_stream.contains("aws_access_key_id")
            && !anthropic_stream.contains("message_stop"),
        "{anthropic_stream}"
    );
    assert_none_of(KEY_PARTS, &anthropic_stream, "the Anthropic stream's bytes");
    let cross = curl(
        &gw,
        "/v1/messages",
        &key,
        &json!({"model": "gpt-4o-mini", "max_tokens": 100, "stream": true, "messages": [{"role": "user", "content": "leak-card"}]}),
    );
    assert!(cross.contains("event: error"), "{cross}");
    assert_none_of(
        CARD_PARTS,
        &cross,
        "an OpenAI stream translated for an Anthropic caller",
    );
    let whole = curl(
        &gw,
        "/v1/messages",
        &key,
        &anthropic_body("leak-card", false),
    );
    assert!(
        whole.starts_with("HTTP/1.1 403") && whole.contains("permission_error"),
        "{whole}"
    );
    assert_none_of(CARD_PARTS, &whole, "a whole Anthropic answer's bytes");
    // A clean answer is untouched, streamed or not.
    let clean = gw.clients(vec![
        with(
            plan("openai", &key, "gpt-4o-mini", "hello"),
            "stream",
            json!(true),
        ),
        with(
            plan("anthropic", &key, "claude", "hello"),
            "stream",
            json!(true),
        ),
        plan("openai", &key, "claude", "hello"),
    ]);
    assert_eq!(
        clean[0]["text"], "Bonjour, café ☕ from mock-openai",
        "{clean:?}"
    );
    assert_eq!(
        clean[1]["text"], "Bonjour, café ☕ from mock-anthropic",
        "{clean:?}"
    );
    assert_eq!(
        clean[2]["text"], "Bonjour, café ☕ from mock-anthropic",
        "{clean:?}"
    );

    // 16 SDK calls and 4 curl calls refused, each one row with its finding counted.
    let refused = rows(
        &clickhouse,
        "SELECT request_id, status, error, response_dlp_action, response_dlp_detectors, \
         response_dlp_finding_count, dlp_finding_count FROM warden.ai_requests \
         WHERE response_dlp_action != '' ORDER BY ts",
        20,
    );
    for row in &refused {
        assert_eq!(row["status"], 403, "{row}");
        assert_eq!(row["error"], "response_dlp_blocked", "{row}");
        assert_eq!(row["response_dlp_action"], "block", "{row}");
        assert_eq!(num(&row["response_dlp_finding_count"]), 1, "{row}");
        assert_eq!(num(&row["dlp_finding_count"]), 0, "{row}");
    }
    let findings = rows(
        &clickhouse,
        "SELECT detector, finding_count, action, snippet, user FROM warden.dlp_findings \
         WHERE app_id = 'aigw-response'",
        20,
    );
    let cards = findings
        .iter()
        .filter(|f| f["detector"] == "credit_card")
        .count();
    assert_eq!(cards, 11, "{findings:?}");
    for f in &findings {
        assert_eq!(
            (&f["action"], &f["user"]),
            (&json!("block"), &json!("alice")),
            "{f}"
        );
    }
    // Snippets are the engine's masks (first four and last two characters, as for the
    // proxy's findings): the middle of the secret is nowhere.
    let stored = format!("{refused:?}{findings:?}");
    assert_none_of(&CARD_PARTS[1..3], &stored, "ClickHouse");
    assert_none_of(&KEY_PARTS[1..], &stored, "ClickHouse");
    assert_none_of(CARD_PAIRS, &gw.log(), "the gateway's log");
    assert_none_of(KEY_PARTS, &gw.log(), "the gateway's log");
}

#[test]
fn redact_masks_the_secret_and_the_rest_of_the_answer_arrives() {
    let mut gw = AiGateway::start_with_aigw(NO_EVENTS, &response_dlp("redact"));
    let key = gw.virtual_key(&["--name", "bob", "--user", "bob"]);
    let plans = leak_plans(&key);
    let results = gw.clients(plans.iter().map(|(p, _, _)| p.clone()).collect());
    for ((p, detector, parts), r) in plans.iter().zip(&results) {
        assert_eq!(r["ok"], true, "{p}: {r}");
        let text = r["text"].as_str().unwrap();
        let (before, after) = if *detector == "credit_card" {
            ("Sure. Your card is ", " — keep it safe.")
        } else {
            ("The key is ", " for the deploy.")
        };
        assert_eq!(
            text,
            format!("{before}[REDACTED:{detector}]{after}"),
            "{p}: {r}"
        );
        assert_none_of(parts, &r.to_string(), &format!("the SDK ({p})"));
    }
    let raw = curl(
        &gw,
        "/v1/chat/completions",
        &key,
        &openai_body("leak-card", true),
    );
    assert!(
        raw.contains("[REDACTED:credit_card]") && raw.contains("data: [DONE]"),
        "{raw}"
    );
    assert_none_of(CARD_PARTS, &raw, "the stream's bytes");
    let raw = curl(&gw, "/v1/messages", &key, &anthropic_body("leak-aws", true));
    assert!(raw.contains("event: message_stop"), "{raw}");
    assert_none_of(KEY_PARTS, &raw, "the stream's bytes");
    let line = gw
        .log()
        .lines()
        .filter(|l| l.contains("ai call") && l.contains("response_dlp_action=\"redact\""))
        .count();
    assert_eq!(line, 18, "{}", gw.log());
    // A Responses API stream is scanned too: masked in its deltas and its `.done` events.
    let stream = json!({"model": "gpt-4o-mini", "input": "leak-card", "stream": true});
    let raw = curl(&gw, "/v1/responses", &key, &stream);
    assert!(
        raw.contains("[REDACTED:credit_card]") && raw.contains("event: response.completed"),
        "{raw}"
    );
    assert_none_of(CARD_PARTS, &raw, "a Responses stream's bytes");
    let whole = json!({"model": "claude", "input": "leak-card"});
    let raw = curl(&gw, "/v1/responses", &key, &whole);
    assert!(raw.contains("[REDACTED:credit_card]"), "{raw}");
    assert_none_of(CARD_PARTS, &raw, "a whole Responses answer");
}

#[test]
fn monitor_passes_and_records_and_a_hang_up_mid_stream_is_one_499_row_with_tokens() {
    let clickhouse = ClickHouseServer::start().expect("clickhouse-server starts");
    let mut gw = AiGateway::start_with_aigw(&sections(&clickhouse), &response_dlp("monitor"));
    let key = gw.virtual_key(&["--name", "carol", "--user", "carol"]);
    let results = gw.clients(vec![
        with(
            plan("openai", &key, "gpt-4o-mini", "leak-card"),
            "stream",
            json!(true),
        ),
        plan("anthropic", &key, "claude", "leak-card"),
        with(
            with(
                plan("openai", &key, "gpt-4o-mini", "slow-stream"),
                "stream",
                json!(true),
            ),
            "hangup_after",
            json!(3),
        ),
        with(
            with(
                plan("anthropic", &key, "claude", "slow-stream"),
                "stream",
                json!(true),
            ),
            "hangup_after",
            json!(3),
        ),
    ]);
    let leaked = "Sure. Your card is 4539 1488 0343 6467 — keep it safe.";
    assert_eq!(results[0]["text"], leaked, "{results:?}");
    assert_eq!(results[1]["text"], leaked, "{results:?}");
    let monitored = rows(
        &clickhouse,
        "SELECT status, response_dlp_action, response_dlp_detectors, response_dlp_finding_count \
         FROM warden.ai_requests WHERE response_dlp_action != ''",
        2,
    );
    for row in &monitored {
        assert_eq!(row["status"], 200, "{row}");
        assert_eq!(row["response_dlp_action"], "log", "{row}");
        assert_eq!(
            row["response_dlp_detectors"],
            json!(["credit_card"]),
            "{row}"
        );
        assert_eq!(num(&row["response_dlp_finding_count"]), 1, "{row}");
    }
    let findings = rows(
        &clickhouse,
        "SELECT detector, action, snippet FROM warden.dlp_findings WHERE app_id = 'aigw-response'",
        2,
    );
    assert!(
        findings.iter().all(|f| f["action"] == "log"),
        "{findings:?}"
    );
    assert_none_of(&CARD_PARTS[1..3], &format!("{findings:?}"), "dlp_findings");

    // The hang-ups: one row each, 499, with the tokens reported so far or counted.
    for (r, provider) in results[2..].iter().zip(["openai", "anthropic"]) {
        assert_eq!(r["hung_up"], true, "{r}");
        let id = r["request_id"].as_str().unwrap();
        let sql = format!(
            "SELECT status, error, input_tokens, output_tokens, usage_reported, usage_flags, \
             cost_status FROM warden.ai_requests WHERE request_id = '{id}'"
        );
        let row = &rows(&clickhouse, &sql, 1)[0];
        assert_eq!(row["status"], 499, "{provider}: {row}");
        assert_eq!(row["error"], "client_closed", "{provider}: {row}");
        let output = num(&row["output_tokens"]);
        assert!((3..40).contains(&output), "{provider}: {row}");
        assert_eq!(row["usage_flags"], json!(["counted"]), "{provider}: {row}");
        if provider == "openai" {
            // OpenAI reports usage in its last chunk only: nothing was reported, the output
            // is counted, and the cost is not guessed.
            assert_eq!(num(&row["usage_reported"]), 0, "{row}");
            assert_eq!(row["cost_status"], "no_usage", "{row}");
        } else {
            // Anthropic's message_start reported the input (13 + 8 cache reads + 2 writes).
            assert_eq!(num(&row["usage_reported"]), 1, "{row}");
            assert_eq!(num(&row["input_tokens"]), 23, "{row}");
            assert_eq!(row["cost_status"], "usage_suspect", "{row}");
        }
        // Exactly one: a second look later finds no other row for the call.
        std::thread::sleep(Duration::from_millis(600));
        rows(&clickhouse, &sql, 1);
    }
}
