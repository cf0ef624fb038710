//! Golden translations: OpenAI and Anthropic requests to Converse, Converse answers and
//! ConverseStream events back to both, and the fields Converse has no place for.

use serde_json::{json, Value};

use super::stream::BedrockStream;
use super::*;
use crate::sse::SseEvent;
use crate::translate::stream::StreamState;

const PNG: &str = "iVBORw0KGgo=";

#[test]
fn an_openai_tool_conversation_becomes_converse() {
    let body = json!({
        "model": "claude", "max_tokens": 300, "temperature": 0.2, "top_p": 0.9, "stop": ["END"],
        "stream": true, "stream_options": {"include_usage": true}, "user": "u1",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Weather here?"},
                {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{PNG}")}}]},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "tooluse_1", "type": "function",
                "function": {"name": "weather", "arguments": "{\"city\":\"Oslo\"}"}}]},
            {"role": "tool", "tool_call_id": "tooluse_1", "content": "{\"c\":4}"},
            {"role": "tool", "tool_call_id": "tooluse_2", "content": "sunny"},
        ],
        "tools": [{"type": "function", "function": {"name": "weather", "description": "Weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}},
            {"type": "function", "function": {"name": "now"}}],
        "tool_choice": "required",
    });
    let golden = json!({
        "system": [{"text": "Be brief."}],
        "messages": [
            {"role": "user", "content": [{"text": "Weather here?"},
                {"image": {"format": "png", "source": {"bytes": PNG}}}]},
            {"role": "assistant", "content": [{"toolUse": {"toolUseId": "tooluse_1", "name": "weather",
                "input": {"city": "Oslo"}}}]},
            {"role": "user", "content": [
                {"toolResult": {"toolUseId": "tooluse_1", "content": [{"json": {"c": 4}}]}},
                {"toolResult": {"toolUseId": "tooluse_2", "content": [{"text": "sunny"}]}}]},
        ],
        "inferenceConfig": {"maxTokens": 300, "temperature": 0.2, "topP": 0.9, "stopSequences": ["END"]},
        "toolConfig": {
            "tools": [
                {"toolSpec": {"name": "weather", "description": "Weather",
                    "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}}}}},
                {"toolSpec": {"name": "now", "inputSchema": {"json": {"type": "object", "properties": {}}}}},
            ],
            "toolChoice": {"any": {}},
        },
    });
    assert_eq!(request(Dialect::OpenAi, &body, "m").unwrap(), golden);
}

#[test]
fn an_anthropic_request_becomes_converse() {
    let body = json!({
        "model": "claude", "max_tokens": 100, "system": "Be brief.", "stop_sequences": ["X"],
        "messages": [
            {"role": "user", "content": [{"type": "image", "source": {"type": "base64",
                "media_type": "image/jpeg", "data": PNG}}, {"type": "text", "text": "What is it?"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "toolu_1", "name": "look", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "a cat"}]},
        ],
        "tools": [{"name": "look", "input_schema": {"type": "object"}}],
        "tool_choice": {"type": "tool", "name": "look"},
    });
    let golden = json!({
        "system": [{"text": "Be brief."}],
        "messages": [
            {"role": "user", "content": [{"image": {"format": "jpeg", "source": {"bytes": PNG}}},
                {"text": "What is it?"}]},
            {"role": "assistant", "content": [{"text": "Let me look."},
                {"toolUse": {"toolUseId": "toolu_1", "name": "look", "input": {}}}]},
            {"role": "user", "content": [{"toolResult": {"toolUseId": "toolu_1", "content": [{"text": "a cat"}]}}]},
        ],
        "inferenceConfig": {"maxTokens": 100, "stopSequences": ["X"]},
        "toolConfig": {"tools": [{"toolSpec": {"name": "look", "inputSchema": {"json": {"type": "object"}}}}],
            "toolChoice": {"tool": {"name": "look"}}},
    });
    assert_eq!(request(Dialect::Anthropic, &body, "m").unwrap(), golden);
}

#[test]
fn what_converse_cannot_take_is_a_400_naming_the_field() {
    let user = json!([{"role": "user", "content": "hi"}]);
    let cases = [
        (
            Dialect::OpenAi,
            json!({"messages": user, "presence_penalty": 1}),
            "presence_penalty",
        ),
        (
            Dialect::OpenAi,
            json!({"messages": user, "seed": 1}),
            "seed",
        ),
        (Dialect::OpenAi, json!({"messages": user, "n": 2}), "n"),
        (
            Dialect::OpenAi,
            json!({"messages": user, "response_format": {"type": "json_object"}}),
            "response_format",
        ),
        (
            Dialect::OpenAi,
            json!({"messages": user, "tool_choice": "none", "tools": []}),
            "tool_choice",
        ),
        (
            Dialect::OpenAi,
            json!({"messages": [{"role": "user", "content": [{"type": "image_url",
            "image_url": {"url": "https://example.com/cat.png"}}]}]}),
            "messages[0].content[0].image_url.url",
        ),
        (
            Dialect::OpenAi,
            json!({"messages": [{"role": "user", "content": [{"type": "image_url",
            "image_url": {"url": "data:image/tiff;base64,AAAA"}}]}]}),
            "messages[0].content[0].image_url.url",
        ),
        (
            Dialect::OpenAi,
            json!({"messages": [{"role": "user", "content": [{"type": "input_audio"}]}]}),
            "messages[0].content[0].type",
        ),
        (
            Dialect::OpenAi,
            json!({"messages": [{"role": "user", "content": "a"}, {"role": "system", "content": "b"}]}),
            "messages[1].role",
        ),
        (
            Dialect::Anthropic,
            json!({"max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "image",
            "source": {"type": "url", "url": "https://example.com/x.png"}}]}]}),
            "messages[0].content[0].source.url",
        ),
        (
            Dialect::Anthropic,
            json!({"max_tokens": 5, "messages": user, "top_k": 5}),
            "top_k",
        ),
    ];
    for (ingress, body, field) in cases {
        let err = request(ingress, &body, "m").unwrap_err();
        assert_eq!(err.status(), 400, "{field}");
        let text = err.to_string();
        assert!(text.contains(field), "{field}: {text}");
        if let CallError::BadRequest { param, .. } = &err {
            assert_eq!(param.as_deref(), Some(field));
        }
        assert!(!text.contains("OpenAI chat completions"), "{text}");
    }
}

fn converse_answer() -> Value {
    json!({
        "output": {"message": {"role": "assistant", "content": [
            {"reasoningContent": {"reasoningText": {"text": "hmm"}}},
            {"text": "Checking."},
            {"toolUse": {"toolUseId": "tooluse_9", "name": "weather", "input": {"city": "Oslo"}}}]}},
        "stopReason": "tool_use",
        "usage": {"inputTokens": 10, "outputTokens": 7, "totalTokens": 47,
                  "cacheReadInputTokens": 20, "cacheWriteInputTokens": 10},
        "metrics": {"latencyMs": 100},
    })
}

#[test]
fn a_converse_answer_becomes_an_openai_completion_and_an_anthropic_message() {
    let openai: Value =
        serde_json::from_slice(&answer(Dialect::OpenAi, &converse_answer(), "m1").unwrap())
            .unwrap();
    assert_eq!(openai["model"], "m1");
    assert_eq!(
        openai["choices"][0],
        json!({"index": 0, "logprobs": null, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": "Checking.", "refusal": null,
            "tool_calls": [{"id": "tooluse_9", "type": "function",
                "function": {"name": "weather", "arguments": "{\"city\":\"Oslo\"}"}}]}})
    );
    assert_eq!(openai["usage"]["prompt_tokens"], 40);
    assert_eq!(
        openai["usage"]["prompt_tokens_details"]["cached_tokens"],
        20
    );
    assert_eq!(openai["usage"]["completion_tokens"], 7);
    let anthropic: Value =
        serde_json::from_slice(&answer(Dialect::Anthropic, &converse_answer(), "m1").unwrap())
            .unwrap();
    assert_eq!(anthropic["stop_reason"], "tool_use");
    assert_eq!(
        anthropic["content"],
        json!([{"type": "text", "text": "Checking."},
               {"type": "tool_use", "id": "tooluse_9", "name": "weather", "input": {"city": "Oslo"}}])
    );
    assert_eq!(
        anthropic["usage"],
        json!({"input_tokens": 10, "output_tokens": 7, "cache_read_input_tokens": 20,
               "cache_creation_input_tokens": 10})
    );
}

fn stream_events() -> Vec<SseEvent> {
    let e = |event: &str, data: Value| SseEvent {
        event: event.into(),
        data: data.to_string(),
    };
    vec![
        e("messageStart", json!({"role": "assistant"})),
        e(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": "Check"}}),
        ),
        e(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": "ing."}}),
        ),
        e("contentBlockStop", json!({"contentBlockIndex": 0})),
        e(
            "contentBlockStart",
            json!({"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "tooluse_9", "name": "weather"}}}),
        ),
        e(
            "contentBlockDelta",
            json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "{\"city\":"}}}),
        ),
        e(
            "contentBlockDelta",
            json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "\"Oslo\"}"}}}),
        ),
        e("contentBlockStop", json!({"contentBlockIndex": 1})),
        e("messageStop", json!({"stopReason": "tool_use"})),
        e(
            "metadata",
            json!({"usage": {"inputTokens": 10, "outputTokens": 7, "totalTokens": 47,
            "cacheReadInputTokens": 20, "cacheWriteInputTokens": 10}, "metrics": {"latencyMs": 9}}),
        ),
    ]
}

fn run(anthropic: bool, wants_usage: bool) -> (Vec<String>, StreamState) {
    let mut t = BedrockStream::new(wants_usage, anthropic, "m1");
    let mut state = StreamState::default();
    let mut out = Vec::new();
    for event in stream_events() {
        for bytes in t.event(&event, &mut state) {
            out.push(String::from_utf8(bytes.to_vec()).unwrap());
        }
    }
    (out, state)
}

fn data(line: &str) -> Value {
    let data = line.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
    serde_json::from_str(data).unwrap_or(Value::Null)
}

#[test]
fn a_converse_stream_becomes_openai_chunks_and_accounts_like_the_whole_answer() {
    let (out, state) = run(false, true);
    assert!(state.completed);
    assert_eq!(out.last().unwrap(), "data: [DONE]\n\n");
    let chunks: Vec<Value> = out[..out.len() - 1].iter().map(|l| data(l)).collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Checking.");
    let args: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].as_str())
        .collect();
    assert_eq!(args, "{\"city\":\"Oslo\"}");
    assert!(chunks
        .iter()
        .any(|c| c["choices"][0]["delta"]["tool_calls"][0]["id"] == "tooluse_9"));
    assert!(chunks
        .iter()
        .any(|c| c["choices"][0]["finish_reason"] == "tool_calls"));
    let usage = &chunks.last().unwrap()["usage"];
    assert_eq!(
        (
            usage["prompt_tokens"].as_u64(),
            usage["completion_tokens"].as_u64()
        ),
        (Some(40), Some(7))
    );
    // Streamed and whole answers of the same content account identically.
    assert_eq!(
        state.usage,
        crate::dialect::bedrock::usage(&converse_answer()["usage"])
    );
    let (quiet, _) = run(false, false);
    assert!(
        quiet.iter().all(|l| !l.contains("\"usage\"")),
        "no usage chunk unless asked"
    );
}

#[test]
fn a_converse_stream_becomes_anthropic_events() {
    let (out, state) = run(true, false);
    assert!(state.completed);
    let names: Vec<&str> = out
        .iter()
        .filter_map(|l| l.lines().next()?.strip_prefix("event: "))
        .collect();
    assert_eq!(names.first(), Some(&"message_start"));
    assert_eq!(names.last(), Some(&"message_stop"));
    let delta = out
        .iter()
        .find(|l| l.starts_with("event: message_delta"))
        .unwrap();
    let delta = data(delta);
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
    assert_eq!(
        delta["usage"],
        json!({"input_tokens": 10, "output_tokens": 7, "cache_read_input_tokens": 20,
               "cache_creation_input_tokens": 10})
    );
    let partial: String = out
        .iter()
        .filter(|l| l.starts_with("event: content_block_delta"))
        .filter_map(|l| {
            data(l)["delta"]["partial_json"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert_eq!(partial, "{\"city\":\"Oslo\"}");
}

#[test]
fn an_exception_mid_stream_ends_it_with_an_error() {
    let mut t = BedrockStream::new(false, false, "m1");
    let mut state = StreamState::default();
    let start = SseEvent {
        event: "messageStart".into(),
        data: "{}".into(),
    };
    t.event(&start, &mut state);
    let exception = SseEvent {
        event: "exception".into(),
        data: json!({"type": "throttlingException", "message": "slow"}).to_string(),
    };
    let out = t.event(&exception, &mut state);
    assert_eq!(state.error.as_deref(), Some("throttlingException"));
    assert!(String::from_utf8_lossy(&out[0]).contains("throttlingException"));
    assert!(!state.completed);
}
