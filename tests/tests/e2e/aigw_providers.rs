//! "One endpoint in front of every provider" (issue 19, providers and translation): the
//! official `openai` and `anthropic` Python SDKs, changing only their base URL, reach Google
//! Gemini (tests/fixtures/mock_gemini.py: Google's wire format, SSE cut at odd byte
//! boundaries, usageMetadata on the last chunk, RetryInfo 429s), Azure OpenAI deployments
//! and a keyless OpenAI-compatible server that refuses `stream_options` (modes of
//! tests/fixtures/mock_openai.py) through Warden: whole and streamed, with tools, usage by
//! each provider's rules and the cost in the log and in ClickHouse's `ai_requests`; a 429
//! carries retry-after in each caller's dialect; what Gemini cannot take is a 400 naming
//! the field; a model name cannot reshape the provider's URL; and neither the Gemini nor
//! the Azure key appears in any answer, log, error or state file.

use std::time::Duration;

use schema::testkit::ClickHouseServer;
use serde_json::{json, Value};

use crate::aigw::{field, plan, with, AiGateway, Extra, MockProvider, ANTHROPIC_KEY, OPENAI_KEY};
use crate::support::clickhouse_sql;

const GEMINI_KEY: &str = "AIzaSyMockGeminiKey4hT7pQ2wX9kL3mN8vR";
/// A key Google no longer accepts, stored under another name.
const STALE_GEMINI_KEY: &str = "AIzaSyStaleGeminiKey0q9w8e7r6t5y4u3i";
const AZURE_KEY: &str = "9f3c1e7a5b2d4f60MockAzureKey8a7b6c5d4e3f";

/// gemini-2.5-flash at the test's prices ($1 input, $0.50 cached, $10 output per million
/// tokens; not Google's) for the mock's 25 prompt tokens (6 cached) and 8 + 4 thinking
/// output tokens: 19 × 1 + 6 × 0.5 + 12 × 10 = 142 µ$.
const GEMINI_CALL: u64 = 142;
/// Azure's gpt-4o-mini deployment priced as gpt-4o-mini (the model it reports serving):
/// the mock's 21 prompt tokens (5 cached) and 9 completion tokens, 8 µ$.
const AZURE_CALL: u64 = 8;

fn gemini_config(port: u16) -> String {
    format!(
        r#"[[aigw.providers]]
name = "gemini"
kind = "gemini"
base_url = "http://127.0.0.1:{port}/v1beta"
key = "gemini-prod"
[[aigw.providers]]
name = "gemini-stale"
kind = "gemini"
base_url = "http://127.0.0.1:{port}/v1beta"
key = "gemini-stale"
[[aigw.models]]
name = "gem"
provider = "gemini"
model = "gemini-2.5-flash"
[[aigw.prices]]
provider = "gemini"
model = "gemini-2.5-flash"
input = 1.0
cached_input = 0.5
output = 10.0
"#
    )
}

fn gemini_extra(python: &std::path::Path, dir: &std::path::Path) -> Extra {
    let gemini = MockProvider::start(python, dir, "mock_gemini.py", GEMINI_KEY);
    Extra {
        config: gemini_config(gemini.port),
        keys: vec![
            ("gemini-prod".into(), "gemini".into(), GEMINI_KEY.into()),
            (
                "gemini-stale".into(),
                "gemini".into(),
                STALE_GEMINI_KEY.into(),
            ),
        ],
        mocks: vec![gemini],
        ..Extra::default()
    }
}

/// The `param` of an OpenAI error (the SDK's `body` is the error object).
fn error_param(result: &Value) -> &str {
    result["body"]["param"].as_str().unwrap_or("")
}

#[test]
fn both_sdks_reach_gemini_whole_streamed_and_with_tools_and_errors_speak_their_dialect() {
    let mut gw = AiGateway::start_extended(
        "[clickhouse]\nurl = \"http://127.0.0.1:1\"\n[events]\nenabled = false\n",
        gemini_extra,
    );
    let key = gw.virtual_key(&["--name", "dev", "--user", "dana", "--team", "ml"]);
    let o = |prompt: &str| plan("openai", &key, "gem", prompt);
    let a = |prompt: &str| plan("anthropic", &key, "gem", prompt);
    let stream = |p: Value| with(p, "stream", json!(true));
    let tools = |p: Value| with(p, "tools", json!(true));
    let image_url = json!([{"type": "text", "text": "what is this?"},
                           {"type": "image_url", "image_url": {"url": "https://169.254.169.254/cat.png"}}]);
    let anthropic_image_url = json!([{"type": "image", "source": {"type": "url", "url": "https://169.254.169.254/cat.png"}},
                                     {"type": "text", "text": "what is this?"}]);
    let results = gw.clients(vec![
        o("hello"),
        stream(o("hello")),
        with(stream(o("hello")), "include_usage", json!(true)),
        tools(o("weather in Paris?")),
        stream(tools(o("weather in Paris?"))),
        o("please rate-limit me"),
        o("echo-key"),
        stream(o("mid-stream-error")),
        with(o("hello"), "extra", json!({"logprobs": true})),
        with(o("hello"), "content", image_url),
        plan("openai", &key, "gemini/../files", "hello"),
        plan("openai", &key, "gemini-stale/gemini-2.5-flash", "hello"),
        a("hello"),
        stream(a("hello")),
        tools(a("weather in Paris?")),
        stream(tools(a("weather in Paris?"))),
        a("please rate-limit me"),
        with(
            a("hello"),
            "extra",
            json!({"thinking": {"type": "enabled", "budget_tokens": 1024}}),
        ),
        stream(a("mid-stream-error")),
        with(a("hello"), "content", anthropic_image_url),
    ]);
    let all = Value::Array(results.clone()).to_string();
    let [o_chat, o_stream, o_usage, o_tools, o_tools_stream, o_429, o_echo, o_cut, o_logprobs, o_image, o_path, o_stale, a_chat, a_stream, a_tools, a_tools_stream, a_429, a_thinking, a_cut, a_image] =
        <[Value; 20]>::try_from(results).unwrap();

    // OpenAI callers: Gemini's answer, usage by Google's rules (thoughts are output, cached
    // tokens part of the prompt), the model that served.
    let text = "Bonjour, café ☕ from mock-gemini";
    assert_eq!(
        (o_chat["text"].as_str(), o_chat["finish"].as_str()),
        (Some(text), Some("stop")),
        "{o_chat}"
    );
    assert_eq!(o_chat["model"], "gemini-2.5-flash-001");
    let usage = &o_chat["usage"];
    assert_eq!(
        [
            &usage["prompt_tokens"],
            &usage["completion_tokens"],
            &usage["prompt_tokens_details"]["cached_tokens"],
            &usage["completion_tokens_details"]["reasoning_tokens"],
        ]
        .map(|v| v.as_u64().unwrap()),
        [25, 12, 6, 4],
        "{o_chat}"
    );
    assert_eq!(o_stream["text"], text, "{o_stream}");
    assert_eq!(o_stream["usage_chunks"], 0, "{o_stream}");
    assert_eq!(o_usage["usage_chunks"], 1, "{o_usage}");
    assert_eq!(
        o_usage["usage"], o_chat["usage"],
        "streamed usage = whole usage"
    );
    for t in [&o_tools, &o_tools_stream] {
        assert_eq!(t["finish"], "tool_calls", "{t}");
        assert_eq!(t["tool_names"], json!(["get_weather"]), "{t}");
        let args: Value = serde_json::from_str(t["tool_args"][0].as_str().unwrap()).unwrap();
        assert_eq!(args["city"], "Paris", "{t}");
    }
    // Gemini's 429 says when to retry only in its body (RetryInfo): the caller gets it as
    // retry-after, in its own dialect.
    assert_eq!(
        (
            o_429["status"].as_u64(),
            o_429["headers"]["retry-after"].as_str(),
            o_429["body"]["type"].as_str()
        ),
        (Some(429), Some("37"), Some("rate_limit_error")),
        "{o_429}"
    );
    assert!(
        o_429["message"].as_str().unwrap().contains("quota"),
        "{o_429}"
    );
    assert_eq!(o_echo["status"], 400, "{o_echo}");
    assert!(
        o_echo["message"]
            .as_str()
            .unwrap()
            .contains("[provider key]"),
        "{o_echo}"
    );
    assert!(
        o_cut["ok"] == false && o_cut["message"].as_str().unwrap().contains("overloaded"),
        "{o_cut}"
    );
    // Untranslatable: a 400 naming the field, before anything reached Gemini.
    assert_eq!(
        (o_logprobs["status"].as_u64(), error_param(&o_logprobs)),
        (Some(400), "logprobs"),
        "{o_logprobs}"
    );
    assert_eq!(
        (o_image["status"].as_u64(), error_param(&o_image)),
        (Some(400), "messages[0].content[1].image_url.url"),
        "{o_image}"
    );
    // Images by URL are fetched by the gateway (aigw_images.rs), never from a metadata
    // address.
    assert!(
        o_image["message"].as_str().unwrap().contains("link-local"),
        "{o_image}"
    );
    // A model name cannot walk the provider's URL to another endpoint with the key.
    assert_eq!(
        (o_path["status"].as_u64(), error_param(&o_path)),
        (Some(400), "model"),
        "{o_path}"
    );
    // A key Google refuses (a 400 API_KEY_INVALID to Google) is the operator's to fix.
    assert_eq!(o_stale["status"], 502, "{o_stale}");
    assert!(
        o_stale["message"]
            .as_str()
            .unwrap()
            .contains("gatewayd keys list"),
        "{o_stale}"
    );

    // Anthropic callers: the same answers as Anthropic messages and events.
    assert_eq!(
        (a_chat["text"].as_str(), a_chat["stop"].as_str()),
        (Some(text), Some("end_turn")),
        "{a_chat}"
    );
    assert_eq!(
        (
            a_chat["usage"]["input_tokens"].as_u64(),
            a_chat["usage"]["cache_read_input_tokens"].as_u64(),
            a_chat["usage"]["output_tokens"].as_u64()
        ),
        (Some(19), Some(6), Some(12)),
        "Anthropic's input_tokens leaves the cached ones out: {a_chat}"
    );
    assert_eq!(a_stream["text"], text, "{a_stream}");
    assert_eq!(a_stream["usage"]["output_tokens"], 12, "{a_stream}");
    for t in [&a_tools, &a_tools_stream] {
        assert_eq!(
            (t["stop"].as_str(), t["tool_inputs"][0]["city"].as_str()),
            (Some("tool_use"), Some("Paris")),
            "{t}"
        );
    }
    assert_eq!(
        (
            a_429["status"].as_u64(),
            a_429["headers"]["retry-after"].as_str(),
            a_429["body"]["error"]["type"].as_str()
        ),
        (Some(429), Some("37"), Some("rate_limit_error")),
        "{a_429}"
    );
    assert_eq!(a_thinking["status"], 400, "{a_thinking}");
    let why = a_thinking["message"].as_str().unwrap();
    assert!(why.contains("thinking") && why.contains("Gemini"), "{why}");
    assert!(
        a_cut["ok"] == false && a_cut["message"].as_str().unwrap().contains("overloaded"),
        "{a_cut}"
    );
    assert_eq!(a_image["status"], 400, "{a_image}");
    assert!(
        a_image["message"]
            .as_str()
            .unwrap()
            .contains("messages[0].content[0].source.url"),
        "{a_image}"
    );

    // What Gemini received: its own paths, the key in x-goog-api-key only.
    let upstream = gw.extra[0].requests();
    assert!(upstream.len() >= 14, "{upstream:?}");
    for r in &upstream {
        let path = r["path"].as_str().unwrap();
        assert!(
            path.starts_with("/v1beta/models/gemini-2.5-flash:") && !path.contains("key="),
            "{path}"
        );
        let headers = &r["headers"];
        assert!(
            headers.get("authorization").is_none() && headers.get("x-api-key").is_none(),
            "{r}"
        );
        let sent = headers["x-goog-api-key"].as_str().unwrap();
        assert!(sent == GEMINI_KEY || sent == STALE_GEMINI_KEY, "{r}");
        let body: Value = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["contents"][0]["role"], "user", "{body}");
        if path.ends_with(":streamGenerateContent?alt=sse") {
            assert!(body.get("stream").is_none(), "{body}");
        }
    }
    assert!(!upstream
        .iter()
        .any(|r| r["body"].as_str().unwrap().contains("example.com/cat.png")));

    // The log: tokens and the cost of each call, streamed or not, by one path.
    for (result, stream) in [(&o_chat, "false"), (&o_usage, "true"), (&a_stream, "true")] {
        let line = gw.call_line(result["request_id"].as_str().unwrap());
        for (name, value) in [
            ("provider", "gemini"),
            ("model_served", "gemini-2.5-flash-001"),
            ("stream", stream),
            ("status", "200"),
            ("input_tokens", "25"),
            ("cached_tokens", "6"),
            ("output_tokens", "12"),
            ("reasoning_tokens", "4"),
            ("cost_micro_usd", &GEMINI_CALL.to_string()),
        ] {
            assert_eq!(field(&line, name), value, "{name} in {line}");
        }
    }

    gw.assert_no_key_anywhere(
        &all,
        &[GEMINI_KEY, STALE_GEMINI_KEY, OPENAI_KEY, ANTHROPIC_KEY],
    );
}

/// The rows of `sql` (JSONEachRow) once there are `n` of them.
fn rows(clickhouse: &ClickHouseServer, sql: &str, n: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
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
            std::time::Instant::now() < deadline,
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

#[test]
fn azure_deployments_and_a_plain_openai_compatible_server_work_and_every_call_is_priced_in_clickhouse(
) {
    let clickhouse = ClickHouseServer::start().expect("clickhouse-server starts");
    let sections = format!(
        "[clickhouse]\nurl = \"{}\"\ndatabase = \"warden\"\n\
         [events]\nflush_interval = \"200ms\"\nbatch_size = 1000\ninsert_timeout = \"3s\"\n",
        clickhouse.http_url()
    );
    let mut gw = AiGateway::start_extended(&sections, |python, dir| {
        let mut extra = gemini_extra(python, dir);
        // A second mock_openai with the Azure key: its Azure and /strict paths.
        let azure_dir = dir.join("azure");
        std::fs::create_dir(&azure_dir).unwrap();
        let azure = MockProvider::start(python, &azure_dir, "mock_openai.py", AZURE_KEY);
        extra.config.push_str(&format!(
            r#"[[aigw.providers]]
name = "azure"
kind = "azure-openai"
base_url = "http://127.0.0.1:{p}/"
key = "azure-prod"
api_version = "2024-10-21"
[[aigw.providers]]
name = "local"
kind = "openai-compatible"
base_url = "http://127.0.0.1:{p}/strict/v1"
stream_usage = false
[[aigw.models]]
name = "az"
provider = "azure"
model = "gpt4o-mini-prod"
[[aigw.prices]]
provider = "azure"
model = "gpt-4o-mini"
input = 0.15
cached_input = 0.075
output = 0.60
"#,
            p = azure.port
        ));
        extra
            .keys
            .push(("azure-prod".into(), "azure-openai".into(), AZURE_KEY.into()));
        extra.mocks.push(azure);
        extra
    });
    let key = gw.virtual_key(&["--name", "ops", "--user", "erin", "--team", "ops"]);
    let o = |model: &str, prompt: &str| plan("openai", &key, model, prompt);
    let a = |model: &str, prompt: &str| plan("anthropic", &key, model, prompt);
    let stream = |p: Value| with(p, "stream", json!(true));
    let results = gw.clients(vec![
        o("az", "hello"),
        with(stream(o("az", "hello")), "include_usage", json!(true)),
        stream(o("az", "hello")),
        stream(with(o("az", "weather?"), "tools", json!(true))),
        a("az", "hello"),
        stream(a("az", "hello")),
        o("az", "please rate-limit me"),
        a("az", "please rate-limit me"),
        plan("openai", &key, "azure/..", "hello"),
        o("local/llama-3.1-8b", "hello"),
        stream(o("local/llama-3.1-8b", "hello")),
        with(
            stream(o("local/llama-3.1-8b", "hello")),
            "include_usage",
            json!(true),
        ),
        o("gem", "hello"),
        stream(a("gem", "hello")),
    ]);
    let all = Value::Array(results.clone()).to_string();
    let [az_chat, az_usage, az_stream, az_tools, az_a_chat, az_a_stream, az_429, az_a_429, az_path, local_chat, local_stream, local_usage, gem_chat, gem_stream] =
        <[Value; 14]>::try_from(results).unwrap();

    let text = "Bonjour, café ☕ from mock-openai";
    for r in [&az_chat, &az_usage, &az_stream, &local_chat, &local_stream] {
        assert_eq!(r["text"], text, "{r}");
    }
    assert_eq!(az_chat["model"], "gpt-4o-mini-2024-07-18", "{az_chat}");
    assert_eq!(az_chat["usage"]["prompt_tokens"], 21, "{az_chat}");
    assert_eq!(
        (
            az_usage["usage_chunks"].as_u64(),
            az_stream["usage_chunks"].as_u64()
        ),
        (Some(1), Some(0))
    );
    assert_eq!(az_usage["usage"]["completion_tokens"], 9, "{az_usage}");
    let args: Value = serde_json::from_str(az_tools["tool_args"][0].as_str().unwrap()).unwrap();
    assert_eq!(args["city"], "Paris", "{az_tools}");
    for r in [&az_a_chat, &az_a_stream] {
        assert_eq!(
            (r["text"].as_str(), r["stop"].as_str()),
            (Some(text), Some("end_turn")),
            "{r}"
        );
    }
    assert_eq!(
        (
            az_429["status"].as_u64(),
            az_429["headers"]["retry-after"].as_str()
        ),
        (Some(429), Some("7")),
        "{az_429}"
    );
    assert_eq!(
        (
            az_a_429["status"].as_u64(),
            az_a_429["headers"]["retry-after"].as_str(),
            az_a_429["body"]["error"]["type"].as_str()
        ),
        (Some(429), Some("7"), Some("rate_limit_error")),
        "{az_a_429}"
    );
    assert_eq!(
        (az_path["status"].as_u64(), error_param(&az_path)),
        (Some(400), "model"),
        "{az_path}"
    );
    // The server that refuses stream_options: the gateway does not add it; a caller who
    // asks for it gets the server's own refusal, naming it.
    assert_eq!(local_stream["usage_chunks"], 0, "{local_stream}");
    assert_eq!(local_usage["status"], 400, "{local_usage}");
    assert!(
        local_usage["message"]
            .as_str()
            .unwrap()
            .contains("stream_options"),
        "{local_usage}"
    );

    // What the Azure mock received: deployment paths with the api-version, the key in
    // api-key only; the local server no key and no stream_options it did not ask for.
    let upstream = gw.extra[1].requests();
    let (azure, local): (Vec<&Value>, Vec<&Value>) = upstream
        .iter()
        .partition(|r| r["path"].as_str().unwrap().starts_with("/openai/"));
    assert!(azure.len() >= 8 && local.len() == 3, "{upstream:?}");
    for r in &azure {
        assert_eq!(
            r["path"],
            "/openai/deployments/gpt4o-mini-prod/chat/completions?api-version=2024-10-21"
        );
        assert_eq!(r["headers"]["api-key"], AZURE_KEY);
        assert!(r["headers"].get("authorization").is_none(), "{r}");
        let body: Value = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
        if body["stream"] == true {
            assert_eq!(body["stream_options"]["include_usage"], true, "{body}");
        }
    }
    for r in &local {
        assert!(r["headers"].get("authorization").is_none(), "{r}");
    }
    let with_options = local
        .iter()
        .filter(|r| r["body"].as_str().unwrap().contains("stream_options"))
        .count();
    assert_eq!(with_options, 1, "only the caller's own: {local:?}");

    // ai_requests: Azure priced as the model it served, Gemini by its usageMetadata,
    // streamed and whole alike.
    let ids: Vec<&str> = [&az_chat, &az_usage, &az_stream, &gem_chat, &gem_stream]
        .iter()
        .map(|r| r["request_id"].as_str().unwrap())
        .collect();
    let list = ids
        .iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(",");
    let calls = rows(
        &clickhouse,
        &format!("SELECT * FROM warden.ai_requests WHERE request_id IN ({list})"),
        5,
    );
    let row = |id: &str| calls.iter().find(|c| c["request_id"] == id).unwrap();
    for id in &ids[..3] {
        let r = row(id);
        assert_eq!(
            (r["provider"].as_str(), r["model_served"].as_str()),
            (Some("azure"), Some("gpt-4o-mini-2024-07-18")),
            "{r}"
        );
        assert_eq!(
            [&r["input_tokens"], &r["output_tokens"], &r["cached_tokens"]].map(num),
            [21, 9, 5],
            "{r}"
        );
        assert_eq!(num(&r["cost_micro_usd"]), AZURE_CALL, "{r}");
    }
    for id in &ids[3..] {
        let r = row(id);
        assert_eq!(r["provider"], "gemini", "{r}");
        assert_eq!(
            [
                &r["input_tokens"],
                &r["output_tokens"],
                &r["cached_tokens"],
                &r["reasoning_tokens"]
            ]
            .map(num),
            [25, 12, 6, 4],
            "{r}"
        );
        assert_eq!(num(&r["cost_micro_usd"]), GEMINI_CALL, "{r}");
        assert_eq!(r["cost_status"], "priced", "{r}");
    }
    let _ = gem_chat;

    gw.assert_no_key_anywhere(
        &all,
        &[
            AZURE_KEY,
            GEMINI_KEY,
            STALE_GEMINI_KEY,
            OPENAI_KEY,
            ANTHROPIC_KEY,
        ],
    );
    let rows_text = clickhouse_sql(
        &clickhouse.http_url(),
        "SELECT * FROM warden.ai_requests FORMAT JSONEachRow",
    )
    .body_text();
    for secret in [AZURE_KEY, GEMINI_KEY] {
        assert!(!rows_text.contains(secret), "a key in ai_requests");
    }
}
