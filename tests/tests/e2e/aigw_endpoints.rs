//! "Clients' code changes only its base URL" (issue 19, the AI gateway's API beyond chat):
//! the official `openai` Python SDK calls `client.responses.create` — whole and
//! `stream=True`, with a function tool, and through the SDK's own `responses.stream()`
//! helper, which checks every event's ids and indexes — on an OpenAI provider (passed
//! through) and on an Anthropic one (translated, streams included), and
//! `client.embeddings.create`; `client.models.list()` shows what the caller's key may use
//! and nothing else. What needs stored state (`previous_response_id`, `store: true`) is a
//! clear 400, a card number in a Responses input or an embeddings input never leaves, and
//! every call is one `ai_requests` row in a real ClickHouse with its endpoint, tokens and
//! cost. The mock providers (tests/fixtures/mock_*.py) speak each wire format exactly,
//! streams cut at odd byte boundaries.

use serde_json::{json, Value};

use crate::aigw::{field, with, AiGateway, OPENAI_KEY};
use crate::aigw_spend::{num, rows, sections};
use schema::testkit::ClickHouseServer;
use std::time::Duration;

const CARD: &str = "4539 1488 0343 6467";
const NO_EVENTS: &str = "[clickhouse]\nurl = \"http://127.0.0.1:1\"\n[events]\nenabled = false\n";

fn responses(key: &str, model: &str, prompt: &str) -> Value {
    json!({"sdk": "openai", "op": "responses", "key": key, "model": model, "prompt": prompt})
}

fn embeddings(key: &str, model: &str, input: Value) -> Value {
    json!({"sdk": "openai", "op": "embeddings", "key": key, "model": model, "input": input})
}

fn streamed(plan: Value) -> Value {
    with(plan, "stream", json!(true))
}

fn with_tools(plan: Value) -> Value {
    with(plan, "tools", json!(true))
}

fn helper(plan: Value) -> Value {
    with(plan, "op", json!("responses_helper"))
}

/// The arguments of a result's first function call, parsed.
fn first_call_city(result: &Value) -> Value {
    let arguments = result["calls"][0]["arguments"].as_str().unwrap_or("null");
    serde_json::from_str::<Value>(arguments).unwrap_or(Value::Null)["city"].clone()
}

/// Whether any request the mock providers received contains `text`.
fn upstream_saw(gw: &AiGateway, text: &str) -> bool {
    gw.openai
        .requests()
        .iter()
        .chain(gw.anthropic.requests().iter())
        .any(|r| r["body"].as_str().unwrap_or("").contains(text))
}

#[test]
fn the_openai_sdk_uses_the_responses_api_on_openai_and_anthropic_and_models_lists_only_what_a_key_may_use(
) {
    let mut gw = AiGateway::start_with(NO_EVENTS);
    let key = gw.virtual_key(&["--name", "dev", "--user", "dana", "--team", "research"]);
    let limited = gw.virtual_key(&[
        "--name",
        "embedder",
        "--user",
        "erin",
        "--models",
        "openai/text-embedding-3-small,fast",
    ]);
    let claude_only =
        gw.virtual_key(&["--name", "cl", "--user", "finn", "--models", "anthropic/*"]);
    let r = |model: &str, prompt: &str| responses(&key, model, prompt);
    let follow_up = json!([
        {"role": "user", "content": "weather in Paris?"},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
    ]);
    let results = gw.clients(vec![
        // OpenAI provider: its own /responses, passed through.
        r("fast", "hello"),
        streamed(r("fast", "hello")),
        streamed(with_tools(r("fast", "weather?"))),
        // Anthropic provider: translated, streams included.
        r("claude", "hello"),
        streamed(r("claude", "hello")),
        streamed(with_tools(r("claude", "weather?"))),
        helper(with_tools(r("claude", "weather?"))),
        helper(r("claude", "hello")),
        with(
            with(with_tools(r("claude", "")), "input", follow_up),
            "extra",
            json!({"instructions": "Answer briefly.", "max_output_tokens": 300}),
        ),
        // The gateway stores nothing.
        with(
            r("fast", "hello"),
            "extra",
            json!({"previous_response_id": "resp_stored_1"}),
        ),
        with(
            r("claude", "hello"),
            "extra",
            json!({"previous_response_id": "resp_stored_2"}),
        ),
        with(r("fast", "hello"), "extra", json!({"store": true})),
        // DLP, whole and streamed.
        r("fast", &format!("my card is {CARD}")),
        streamed(r("claude", &format!("my card is {CARD}"))),
        // A provider's 429 keeps its retry-after; a provider error mid-stream is raised.
        r("fast", "please rate-limit me"),
        streamed(r("claude", "mid-stream-error")),
        // A tool no translation can carry.
        with(
            r("claude", "hello"),
            "extra",
            json!({"tools": [{"type": "web_search_preview"}]}),
        ),
        // What each key may use.
        json!({"sdk": "openai", "key": key, "op": "models"}),
        json!({"sdk": "openai", "key": limited, "op": "models"}),
        json!({"sdk": "openai", "key": claude_only, "op": "models"}),
        responses(&limited, "claude", "hello"),
    ]);
    let all = Value::Array(results.clone()).to_string();
    let [o_whole, o_stream, o_tools, a_whole, a_stream, a_tools, a_helper_tools, a_helper, a_follow, prev_o, prev_a, store, card, card_stream, limited429, cut, web, models, limited_models, claude_models, forbidden] =
        <[Value; 21]>::try_from(results).unwrap();

    // OpenAI, passed through: the provider's response, its usage, the model that served.
    let text = "Bonjour, café ☕ from mock-openai";
    assert_eq!(
        (o_whole["ok"].as_bool(), o_whole["text"].as_str()),
        (Some(true), Some(text)),
        "{o_whole}"
    );
    assert_eq!(
        (
            o_whole["object"].as_str(),
            o_whole["status"].as_str(),
            o_whole["model"].as_str()
        ),
        (
            Some("response"),
            Some("completed"),
            Some("gpt-4o-mini-2024-07-18")
        )
    );
    let usage = &o_whole["usage"];
    assert_eq!(
        [
            &usage["input_tokens"],
            &usage["input_tokens_details"]["cached_tokens"],
            &usage["output_tokens"],
            &usage["output_tokens_details"]["reasoning_tokens"]
        ]
        .map(num),
        [21, 5, 9, 2],
        "{o_whole}"
    );
    let id = o_whole["request_id"].as_str().unwrap();
    assert_eq!(o_whole["warden_request_id"], id, "both request id headers");
    let line = gw.call_line(id);
    for (name, value) in [
        ("endpoint", "responses"),
        ("user", "dana"),
        ("provider", "openai"),
        ("model_served", "gpt-4o-mini-2024-07-18"),
        ("status", "200"),
        ("input_tokens", "21"),
        ("cached_tokens", "5"),
        ("output_tokens", "9"),
        ("reasoning_tokens", "2"),
    ] {
        assert_eq!(field(&line, name), value, "{name} in {line}");
    }
    assert_eq!(o_stream["text"], text, "{o_stream}");
    assert_eq!(o_stream["events"][0], "response.created");
    assert_eq!(
        o_stream["events"].as_array().unwrap().last().unwrap(),
        "response.completed"
    );
    assert_eq!(num(&o_stream["usage"]["input_tokens"]), 21);
    let line = gw.call_line(o_stream["request_id"].as_str().unwrap());
    assert_eq!(
        (
            field(&line, "stream"),
            field(&line, "input_tokens"),
            field(&line, "reasoning_tokens")
        ),
        ("true".into(), "21".into(), "2".into()),
        "usage read from response.completed: {line}"
    );
    assert!(field(&line, "ttft_ms").parse::<u64>().is_ok(), "{line}");
    assert_eq!(o_tools["calls"][0]["name"], "get_weather", "{o_tools}");
    assert_eq!(first_call_city(&o_tools), "Paris");
    assert_eq!(
        serde_json::from_str::<Value>(o_tools["arguments"].as_str().unwrap()).unwrap()["city"],
        "Paris",
        "the argument deltas add up: {o_tools}"
    );
    let sent: Vec<Value> = gw
        .openai
        .requests()
        .into_iter()
        .filter(|r| r["path"] == "/v1/responses")
        .collect();
    assert_eq!(
        sent.len(),
        4,
        "three calls and the rate-limited one: {sent:?}"
    );
    for r in &sent {
        let body: Value = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["model"], "gpt-4o-mini", "{body}");
        assert_eq!(
            body["store"], false,
            "the provider keeps nothing either: {body}"
        );
        assert_eq!(
            r["headers"]["authorization"],
            format!("Bearer {OPENAI_KEY}")
        );
    }

    // Anthropic, translated: the same shapes, usage by Anthropic's rules (input_tokens 13
    // excludes 8 cache reads and 2 cache writes).
    let text = "Bonjour, café ☕ from mock-anthropic";
    assert_eq!(
        (
            a_whole["ok"].as_bool(),
            a_whole["text"].as_str(),
            a_whole["status"].as_str()
        ),
        (Some(true), Some(text), Some("completed")),
        "{a_whole}"
    );
    let usage = &a_whole["usage"];
    assert_eq!(
        [
            &usage["input_tokens"],
            &usage["input_tokens_details"]["cached_tokens"],
            &usage["input_tokens_details"]["cache_write_tokens"],
            &usage["output_tokens"]
        ]
        .map(num),
        [23, 8, 2, 9],
        "{a_whole}"
    );
    let id = a_whole["request_id"].as_str().unwrap();
    assert_eq!(
        a_whole["id"].as_str().unwrap(),
        format!("resp_{}", id.replace('-', "")),
        "the response id is the call's request id"
    );
    assert_eq!(field(&gw.call_line(id), "endpoint"), "responses");
    assert_eq!(a_stream["text"], text, "{a_stream}");
    assert_eq!(a_stream["final_text"], text);
    assert_eq!(
        a_stream["events"],
        json!([
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed"
        ]),
        "{a_stream}"
    );
    let sequence: Vec<u64> = a_stream["sequence"]
        .as_array()
        .unwrap()
        .iter()
        .map(num)
        .collect();
    assert_eq!(sequence, (0..13).collect::<Vec<u64>>());
    assert_eq!(
        [
            &a_stream["usage"]["input_tokens"],
            &a_stream["usage"]["output_tokens"]
        ]
        .map(num),
        [23, 9]
    );
    let line = gw.call_line(a_stream["request_id"].as_str().unwrap());
    assert_eq!(
        (
            field(&line, "stream"),
            field(&line, "input_tokens"),
            field(&line, "cache_write_tokens")
        ),
        ("true".into(), "23".into(), "2".into()),
        "{line}"
    );
    assert_eq!(a_tools["text"], "Let me check.", "{a_tools}");
    assert_eq!(a_tools["calls"][0]["name"], "get_weather", "{a_tools}");
    assert_eq!(a_tools["calls"][0]["call_id"], "toolu_w1");
    assert_eq!(first_call_city(&a_tools), "Paris");
    // The SDK's own stream helper assembles the translated events without complaint.
    assert_eq!(a_helper_tools["ok"], true, "{a_helper_tools}");
    assert_eq!(
        first_call_city(&a_helper_tools),
        "Paris",
        "{a_helper_tools}"
    );
    assert_eq!(
        (a_helper["ok"].as_bool(), a_helper["final_text"].as_str()),
        (Some(true), Some(text)),
        "{a_helper}"
    );
    // A tool result sent back as input items reaches Anthropic as a tool_result.
    assert_eq!(a_follow["ok"], true, "{a_follow}");
    let last: Value = gw
        .anthropic
        .requests()
        .iter()
        .map(|r| serde_json::from_str::<Value>(r["body"].as_str().unwrap()).unwrap())
        .find(|b| b.to_string().contains("sunny"))
        .expect("the follow-up reached Anthropic");
    assert_eq!(last["system"], "Answer briefly.", "{last}");
    assert_eq!(last["max_tokens"], 300, "{last}");
    assert_eq!(
        last["messages"][1]["content"][0]["type"], "tool_use",
        "{last}"
    );
    assert_eq!(last["messages"][1]["content"][0]["id"], "call_1");
    assert_eq!(
        last["messages"][2]["content"][0],
        json!({"type": "tool_result", "tool_use_id": "call_1", "content": "sunny"}),
        "{last}"
    );

    // Stored state: a clear 400 in OpenAI's error JSON, before anything leaves.
    for (result, param) in [
        (&prev_o, "previous_response_id"),
        (&prev_a, "previous_response_id"),
        (&store, "store"),
    ] {
        assert_eq!(
            (result["error"].as_str(), result["status"].as_u64()),
            (Some("BadRequestError"), Some(400)),
            "{result}"
        );
        assert_eq!(result["body"]["param"], param, "{result}");
        assert_eq!(result["body"]["type"], "invalid_request_error");
        assert!(
            result["body"]["message"]
                .as_str()
                .unwrap()
                .contains("stateless subset"),
            "{result}"
        );
        assert!(result["headers"]["x-request-id"].is_string(), "{result}");
        assert!(
            result["headers"]["x-warden-request-id"].is_string(),
            "{result}"
        );
    }
    assert!(!upstream_saw(&gw, "resp_stored_"));

    // DLP: refused by detector name; the card never reaches a provider or the log.
    for result in [&card, &card_stream] {
        assert_eq!(result["status"], 403, "{result}");
        let message = result["message"].as_str().unwrap();
        assert!(
            message.contains("credit_card") && !message.contains("1488"),
            "{result}"
        );
    }
    assert!(!upstream_saw(&gw, "1488"));
    assert!(!gw.log().contains("1488 0343"));

    assert_eq!(
        (
            limited429["status"].as_u64(),
            limited429["headers"]["retry-after"].as_str()
        ),
        (Some(429), Some("7")),
        "{limited429}"
    );
    assert!(
        cut["ok"] == false && cut["message"].as_str().unwrap().contains("Overloaded"),
        "the SDK raises on the error event: {cut}"
    );
    // The cut stream is logged as a failed call, with the tokens the provider had reported.
    // (The SDK hangs up on the error event; whether the relay saw the provider's end first
    // decides between 502 and 499.)
    let log = gw.log();
    let line = log
        .lines()
        .find(|l| {
            l.contains("ai call")
                && field(l, "endpoint") == "responses"
                && field(l, "stream") == "true"
                && field(l, "model_served") == "claude-sonnet-4-5"
                && field(l, "status") != "200"
        })
        .unwrap_or_else(|| panic!("no call line for the cut stream:\n{log}"));
    assert!(
        ["499", "502"].contains(&field(line, "status").as_str()),
        "{line}"
    );
    assert_eq!(field(line, "input_tokens"), "23", "{line}");

    assert_eq!(web["status"], 400, "{web}");
    assert_eq!(web["body"]["param"], "tools[0].type", "{web}");

    // GET /v1/models: exactly what each key may use.
    assert_eq!(
        models["models"],
        json!(["gpt-4o-mini", "claude"]),
        "{models}"
    );
    assert_eq!(
        limited_models["models"],
        json!(["gpt-4o-mini", "openai/text-embedding-3-small"]),
        "{limited_models}"
    );
    assert_eq!(
        claude_models["models"],
        json!(["claude"]),
        "{claude_models}"
    );
    assert_eq!(
        (forbidden["error"].as_str(), forbidden["status"].as_u64()),
        (Some("PermissionDeniedError"), Some(403)),
        "{forbidden}"
    );

    gw.assert_no_provider_key_anywhere(&all);
}

#[test]
fn embeddings_and_responses_calls_are_priced_and_logged_in_clickhouse_and_a_card_never_leaves() {
    let clickhouse = ClickHouseServer::start().expect("clickhouse-server starts");
    let mut gw = AiGateway::start_with(&sections(&clickhouse));
    let key = gw.virtual_key(&["--name", "search", "--user", "gina", "--team", "search"]);
    let small = "openai/text-embedding-3-small";
    let results = gw.clients(vec![
        // The SDK asks for base64 by default and decodes it.
        embeddings(&key, small, json!(["first text", "second text"])),
        with(
            embeddings(&key, small, json!("one text")),
            "extra",
            json!({"encoding_format": "float", "dimensions": 4}),
        ),
        embeddings(&key, "claude", json!("one text")),
        embeddings(&key, small, json!(["fine", format!("card {CARD}")])),
        responses(&key, "fast", "hello"),
        streamed(responses(&key, "claude", "hello")),
    ]);
    let all = Value::Array(results.clone()).to_string();
    let [two, one, anthropic, card, o_resp, a_resp] = <[Value; 6]>::try_from(results).unwrap();
    assert_eq!(
        (
            two["ok"].as_bool(),
            two["count"].as_u64(),
            two["dims"].clone()
        ),
        (Some(true), Some(2), json!([8, 8])),
        "{two}"
    );
    assert_eq!(two["first"], json!([0.001, 0.002]), "base64 decoded: {two}");
    assert_eq!(num(&two["usage"]["prompt_tokens"]), 2000);
    assert_eq!(two["model"], "text-embedding-3-small");
    assert_eq!(one["dims"], json!([4]), "{one}");
    assert_eq!(anthropic["status"], 400, "{anthropic}");
    assert_eq!(anthropic["body"]["param"], "model");
    assert!(
        anthropic["body"]["message"]
            .as_str()
            .unwrap()
            .contains("no embeddings endpoint"),
        "{anthropic}"
    );
    assert_eq!(card["status"], 403, "{card}");
    assert!(
        card["message"].as_str().unwrap().contains("credit_card"),
        "{card}"
    );
    assert!(!upstream_saw(&gw, "1488"));
    let sent: Vec<Value> = gw
        .openai
        .requests()
        .into_iter()
        .filter(|r| r["path"] == "/v1/embeddings")
        .map(|r| serde_json::from_str(r["body"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(
        (
            sent[0]["model"].as_str(),
            sent[0]["encoding_format"].as_str()
        ),
        (Some("text-embedding-3-small"), Some("base64"))
    );
    assert_eq!(
        (
            sent[1]["dimensions"].as_u64(),
            sent[1]["encoding_format"].as_str()
        ),
        (Some(4), Some("float")),
        "passed through: {}",
        sent[1]
    );

    let id = |r: &Value| {
        r["request_id"]
            .as_str()
            .or_else(|| r["headers"]["x-request-id"].as_str())
            .unwrap_or_else(|| panic!("no request id: {r}"))
            .to_string()
    };
    let calls = rows(
        &clickhouse,
        "SELECT * FROM warden.ai_requests ORDER BY ts, request_id",
        6,
        Duration::from_secs(15),
    );
    let row = |r: &Value| {
        let id = id(r);
        calls
            .iter()
            .find(|c| c["request_id"] == id.as_str())
            .unwrap_or_else(|| panic!("no row for {id}: {calls:?}"))
            .clone()
    };
    // text-embedding-3-small at $0.02 per million tokens: 2000 tokens are 40 µ$.
    for (result, tokens, cost) in [(&two, 2000, 40), (&one, 1000, 20)] {
        let r = row(result);
        assert_eq!(
            (
                r["endpoint"].as_str(),
                r["provider"].as_str(),
                r["user"].as_str()
            ),
            (Some("embeddings"), Some("openai"), Some("gina")),
            "{r}"
        );
        assert_eq!(
            [&r["input_tokens"], &r["output_tokens"]].map(num),
            [tokens, 0],
            "{r}"
        );
        assert_eq!(num(&r["cost_micro_usd"]), cost, "{r}");
        assert_eq!(r["cost_status"], "priced", "{r}");
        assert_eq!(r["model_served"], "text-embedding-3-small");
        assert_eq!(r["status"], 200);
    }
    let refused = row(&anthropic);
    assert_eq!(
        (
            refused["status"].as_u64(),
            refused["cost_status"].as_str(),
            refused["endpoint"].as_str()
        ),
        (Some(400), Some("not_billed"), Some("embeddings")),
        "{refused}"
    );
    let blocked = row(&card);
    assert_eq!(
        (blocked["status"].as_u64(), blocked["dlp_action"].as_str()),
        (Some(403), Some("block")),
        "{blocked}"
    );
    assert_eq!(
        blocked["dlp_detectors"],
        json!(["credit_card"]),
        "{blocked}"
    );
    // Responses: gpt-4o-mini, 21 input (5 cached), 9 output (2 reasoning, at the output
    // price): 16 × 0.15 + 5 × 0.075 + 9 × 0.60 = 8.175 µ$ → 8. claude-sonnet-4-5 as in
    // aigw_spend: 184 µ$, streamed.
    let r = row(&o_resp);
    assert_eq!(r["endpoint"], "responses", "{r}");
    assert_eq!(
        [
            &r["input_tokens"],
            &r["cached_tokens"],
            &r["output_tokens"],
            &r["reasoning_tokens"]
        ]
        .map(num),
        [21, 5, 9, 2],
        "{r}"
    );
    assert_eq!(num(&r["cost_micro_usd"]), 8, "{r}");
    let r = row(&a_resp);
    assert_eq!(
        (r["endpoint"].as_str(), r["stream"].as_u64()),
        (Some("responses"), Some(1)),
        "{r}"
    );
    assert_eq!(
        [
            &r["input_tokens"],
            &r["cached_tokens"],
            &r["cache_write_tokens"],
            &r["output_tokens"]
        ]
        .map(num),
        [23, 8, 2, 9],
        "{r}"
    );
    assert_eq!(num(&r["cost_micro_usd"]), 184, "{r}");

    gw.assert_no_provider_key_anywhere(&all);
}
