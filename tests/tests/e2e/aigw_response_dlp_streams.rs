//! "DLP both ways, streaming included" for every dialect (issue 19): a provider's streamed
//! answer that holds a card number or an AWS key — from Gemini (SSE), from Bedrock (AWS's
//! binary event-stream), as a Responses API stream (OpenAI's own, and one translated from
//! Gemini's or Anthropic's chat stream), or inside a tool call's arguments split across
//! argument deltas (every provider) — is scanned on its way back. The callers are the
//! official `openai` and `anthropic` SDKs and curl. `block` ends the stream with an error
//! event in the caller's dialect and nothing of the secret reaches the caller; `redact`
//! masks it in the deltas and in every `.done` event and final response, and the rest
//! arrives. Clean streams from the same providers pass untouched.

use serde_json::{json, Value};

use crate::aigw::{gemini_and_bedrock, plan, with, AiGateway, Extra, MockProvider};
use crate::aigw_response_dlp::{assert_none_of, curl, response_dlp, CARD_PARTS, KEY_PARTS};

const GEMINI_KEY: &str = "AIzaSyMockGeminiKey4hT7pQ2wX9kL3mN8vR";
const BEDROCK_KEY: &str = "AKIAMOCKBEDROCK7Q2X:Bm0ckSecretAccessKey/9xQ2+Lp7Rt4Zw8Vn3Kd5HfYc";
const NO_EVENTS: &str = "[clickhouse]\nurl = \"http://127.0.0.1:1\"\n[events]\nenabled = false\n";

/// Gemini (`gem`) and Bedrock (`haiku-bedrock`) beside the standard OpenAI and Anthropic
/// mocks, with `response_dlp = mode`.
fn providers(mode: &'static str) -> impl FnOnce(&std::path::Path, &std::path::Path) -> Extra {
    move |python, dir| {
        let gemini = MockProvider::start(python, dir, "mock_gemini.py", GEMINI_KEY);
        let bedrock = MockProvider::start(python, dir, "mock_bedrock.py", BEDROCK_KEY);
        Extra {
            config: gemini_and_bedrock(gemini.port, bedrock.port),
            keys: vec![
                ("gemini-prod".into(), "gemini".into(), GEMINI_KEY.into()),
                ("bedrock-prod".into(), "bedrock".into(), BEDROCK_KEY.into()),
            ],
            mocks: vec![gemini, bedrock],
            aigw: response_dlp(mode),
            ..Extra::default()
        }
    }
}

fn stream(p: Value) -> Value {
    with(p, "stream", json!(true))
}

fn tools(p: Value) -> Value {
    with(p, "tools", json!(true))
}

fn responses(p: Value) -> Value {
    with(p, "op", json!("responses"))
}

/// Streamed calls whose answer leaks, each with the detector that must be named and the
/// pieces that must never arrive.
fn leaks(key: &str) -> Vec<(Value, &'static str, &'static [&'static str])> {
    let card = ("credit_card", CARD_PARTS);
    let aws = ("aws_access_key_id", KEY_PARTS);
    let mut plans = Vec::new();
    for model in ["gem", "haiku-bedrock"] {
        plans.push((stream(plan("openai", key, model, "leak-card")), card));
        plans.push((stream(plan("anthropic", key, model, "leak-aws")), aws));
    }
    // Tool-call arguments, the card split across argument deltas (Gemini sends them whole).
    for model in ["gpt-4o-mini", "claude", "gem", "haiku-bedrock"] {
        for sdk in ["openai", "anthropic"] {
            plans.push((stream(tools(plan(sdk, key, model, "leak-tool"))), card));
        }
    }
    // Responses API streams: OpenAI's own, and translated from Gemini's and Anthropic's.
    for model in ["gpt-4o-mini", "gem", "claude"] {
        plans.push((
            stream(responses(plan("openai", key, model, "leak-card"))),
            card,
        ));
    }
    plans.push((
        stream(responses(tools(plan(
            "openai",
            key,
            "gpt-4o-mini",
            "leak-tool",
        )))),
        card,
    ));
    plans
        .into_iter()
        .map(|(p, (detector, parts))| (p, detector, parts))
        .collect()
}

fn clean_streams_pass_untouched(gw: &AiGateway, key: &str) {
    let clean = gw.clients(vec![
        stream(plan("openai", key, "gem", "hello")),
        stream(plan("anthropic", key, "haiku-bedrock", "hello")),
        stream(responses(plan("openai", key, "gpt-4o-mini", "hello"))),
        stream(tools(plan(
            "openai",
            key,
            "haiku-bedrock",
            "weather in Paris?",
        ))),
    ]);
    assert_eq!(
        clean[0]["text"], "Bonjour, café ☕ from mock-gemini",
        "{clean:?}"
    );
    assert_eq!(
        clean[1]["text"], "Bonjour, café ☕ from mock-bedrock",
        "{clean:?}"
    );
    assert_eq!(
        clean[2]["text"], "Bonjour, café ☕ from mock-openai",
        "{clean:?}"
    );
    assert_eq!(clean[2]["final_text"], clean[2]["text"], "{clean:?}");
    assert_eq!(
        clean[3]["tool_args"],
        json!(["{\"city\": \"Paris\"}"]),
        "{clean:?}"
    );
}

#[test]
fn streams_of_every_dialect_and_tool_arguments_that_leak_are_blocked_with_an_error_event() {
    let mut gw = AiGateway::start_extended(NO_EVENTS, providers("block"));
    let key = gw.virtual_key(&["--name", "alice-laptop", "--user", "alice"]);
    let plans = leaks(&key);
    let results = gw.clients(plans.iter().map(|(p, _, _)| p.clone()).collect());
    for ((p, detector, parts), r) in plans.iter().zip(&results) {
        let seen = r.to_string();
        assert_eq!(r["ok"], false, "{p} was not refused: {r}");
        assert!(
            seen.contains(detector) && seen.contains("Warden blocked this answer"),
            "{p}: the error names the detector: {r}"
        );
        assert_none_of(parts, &seen, &format!("the SDK ({p})"));
    }
    // What the SDK had read of a Gemini stream before the error: the text up to the card.
    assert_eq!(
        results[0]["partial_text"], "Sure. Your card is ",
        "{}",
        results[0]
    );

    // The bytes on the wire, in each caller's dialect.
    let gemini = curl(
        &gw,
        "/v1/chat/completions",
        &key,
        &json!({"model": "gem", "stream": true, "messages": [{"role": "user", "content": "leak-card"}]}),
    );
    assert!(
        gemini.contains("Sure. Your card is ")
            && gemini.contains("data: {\"error\":")
            && gemini.contains("response_dlp_blocked")
            && !gemini.contains("[DONE]"),
        "{gemini}"
    );
    assert_none_of(CARD_PARTS, &gemini, "a Gemini stream's bytes");
    let bedrock = curl(
        &gw,
        "/v1/messages",
        &key,
        &json!({"model": "haiku-bedrock", "max_tokens": 50, "stream": true, "messages": [{"role": "user", "content": "leak-aws"}]}),
    );
    assert!(
        bedrock.contains("event: error")
            && bedrock.contains("aws_access_key_id")
            && !bedrock.contains("message_stop"),
        "{bedrock}"
    );
    assert_none_of(KEY_PARTS, &bedrock, "a Bedrock stream's bytes");
    let resp = curl(
        &gw,
        "/v1/responses",
        &key,
        &json!({"model": "gpt-4o-mini", "input": "leak-card", "stream": true}),
    );
    assert!(
        resp.contains("event: error")
            && resp.contains("response_dlp_blocked")
            && !resp.contains("response.completed"),
        "{resp}"
    );
    assert_none_of(CARD_PARTS, &resp, "a Responses stream's bytes");

    clean_streams_pass_untouched(&gw, &key);
    let blocked = gw
        .log()
        .lines()
        .filter(|l| l.contains("ai call") && l.contains("response_dlp_action=\"block\""))
        .count();
    assert_eq!(blocked, plans.len() + 3, "{}", gw.log());
    assert_none_of(KEY_PARTS, &gw.log(), "the gateway's log");
}

#[test]
fn redact_masks_streams_of_every_dialect_in_deltas_done_events_and_tool_arguments() {
    let mut gw = AiGateway::start_extended(NO_EVENTS, providers("redact"));
    let key = gw.virtual_key(&["--name", "bob", "--user", "bob"]);
    let plans = leaks(&key);
    let results = gw.clients(plans.iter().map(|(p, _, _)| p.clone()).collect());
    for ((p, detector, parts), r) in plans.iter().zip(&results) {
        assert_eq!(r["ok"], true, "{p}: {r}");
        assert_none_of(parts, &r.to_string(), &format!("the SDK ({p})"));
        let mask = format!("[REDACTED:{detector}]");
        if p["prompt"] == "leak-tool" {
            // The arguments still parse as JSON, with the card masked.
            let args = match p["sdk"].as_str() {
                Some("anthropic") => r["tool_inputs"][0].clone(),
                _ if p["op"] == "responses" => {
                    serde_json::from_str(r["calls"][0]["arguments"].as_str().unwrap()).unwrap()
                }
                _ => serde_json::from_str(r["tool_args"][0].as_str().unwrap()).unwrap(),
            };
            assert_eq!(args, json!({"city": "Paris", "card": mask}), "{p}: {r}");
            if p["op"] == "responses" {
                assert_eq!(
                    r["arguments"], r["calls"][0]["arguments"],
                    "{p}: the deltas and the final response agree: {r}"
                );
            }
            continue;
        }
        let (before, after) = if *detector == "credit_card" {
            ("Sure. Your card is ", " — keep it safe.")
        } else {
            ("The key is ", " for the deploy.")
        };
        let want = format!("{before}{mask}{after}");
        assert_eq!(r["text"], want, "{p}: {r}");
        if p["op"] == "responses" {
            // What the deltas added up to is what `.done` and the final response say.
            assert_eq!(r["final_text"], want, "{p}: {r}");
            assert_eq!(r["status"], "completed", "{p}: {r}");
        }
    }
    // The SDK's own Responses stream helper checks the event sequence and assembles the
    // answer from it: it takes the masked stream as a whole, well-formed one.
    let helper = gw.clients(vec![with(
        plan("openai", &key, "gem", "leak-card"),
        "op",
        json!("responses_helper"),
    )]);
    assert_eq!(
        helper[0]["final_text"], "Sure. Your card is [REDACTED:credit_card] — keep it safe.",
        "{helper:?}"
    );
    assert_eq!(helper[0]["text"], helper[0]["final_text"], "{helper:?}");

    let raw = curl(
        &gw,
        "/v1/chat/completions",
        &key,
        &json!({"model": "haiku-bedrock", "stream": true, "messages": [{"role": "user", "content": "leak-card"}]}),
    );
    assert!(
        raw.contains("[REDACTED:credit_card]") && raw.contains("data: [DONE]"),
        "{raw}"
    );
    assert_none_of(CARD_PARTS, &raw, "a Bedrock stream's bytes");
    clean_streams_pass_untouched(&gw, &key);
}
