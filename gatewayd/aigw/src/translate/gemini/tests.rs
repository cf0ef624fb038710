//! Golden translations to and from Gemini: each request, answer and stream compared whole
//! with what Google's API takes and gives (tool call ids, which the gateway makes up, are
//! compared by shape).

use serde_json::{json, Value};

use super::*;
use crate::sse::{SseEvent, SseParser};
use crate::translate::stream::{StreamState, StreamTranslator};

const WEATHER: &str =
    r#"{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"#;

#[test]
fn an_openai_request_becomes_gemini_golden() {
    let body = json!({
        "model": "gemini-2.5-flash", "stream": true, "stream_options": {"include_usage": true},
        "temperature": 0.2, "top_p": 0.9, "max_tokens": 300, "stop": "END", "seed": 7, "n": 1,
        "user": "alice", "response_format": {"type": "json_object"},
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [
                {"type": "text", "text": "What is this, and the weather?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0K", "detail": "auto"}}]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\":21}"},
            {"role": "tool", "tool_call_id": "call_2", "content": "noon"},
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
                   "parameters": serde_json::from_str::<Value>(WEATHER).unwrap(), "strict": false}}],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    });
    let golden = json!({
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "contents": [
            {"role": "user", "parts": [
                {"text": "What is this, and the weather?"},
                {"inlineData": {"mimeType": "image/png", "data": "iVBORw0K"}}]},
            {"role": "model", "parts": [
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
                {"functionCall": {"name": "get_time", "args": {}}}]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"temp": 21}}},
                {"functionResponse": {"name": "get_time", "response": {"content": "noon"}}}]},
        ],
        "tools": [{"functionDeclarations": [{"name": "get_weather", "description": "Weather in a city",
                   "parametersJsonSchema": serde_json::from_str::<Value>(WEATHER).unwrap()}]}],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}},
        "generationConfig": {"temperature": 0.2, "topP": 0.9, "maxOutputTokens": 300,
                             "stopSequences": ["END"], "seed": 7, "responseMimeType": "application/json"},
    });
    assert_eq!(
        request(Dialect::OpenAi, &body, "gemini-2.5-flash").unwrap(),
        golden
    );
    for (choice, mode) in [("none", "NONE"), ("auto", "AUTO"), ("required", "ANY")] {
        let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "tool_choice": choice});
        let out = request(Dialect::OpenAi, &body, "m").unwrap();
        assert_eq!(out["toolConfig"]["functionCallingConfig"]["mode"], mode);
    }
}

#[test]
fn an_anthropic_request_becomes_gemini_golden() {
    let body = json!({
        "model": "gemini", "max_tokens": 200, "system": "Be brief.", "top_k": 40,
        "stop_sequences": ["END"],
        "messages": [
            {"role": "user", "content": [
                {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQ"}},
                {"type": "text", "text": "Weather?"}]},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}]},
        ],
        "tools": [{"name": "get_weather", "description": "Weather in a city",
                   "input_schema": serde_json::from_str::<Value>(WEATHER).unwrap()}],
        "tool_choice": {"type": "any"},
    });
    let golden = json!({
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "contents": [
            {"role": "user", "parts": [
                {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/4AAQ"}},
                {"text": "Weather?"}]},
            {"role": "model", "parts": [
                {"text": "Checking."},
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"content": "sunny"}}}]},
        ],
        "tools": [{"functionDeclarations": [{"name": "get_weather", "description": "Weather in a city",
                   "parametersJsonSchema": serde_json::from_str::<Value>(WEATHER).unwrap()}]}],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY"}},
        "generationConfig": {"maxOutputTokens": 200, "stopSequences": ["END"], "topK": 40},
    });
    assert_eq!(
        request(Dialect::Anthropic, &body, "gemini").unwrap(),
        golden
    );
}

#[test]
fn what_gemini_cannot_take_is_a_400_naming_the_field() {
    let user =
        |content: Value| json!({"model": "m", "messages": [{"role": "user", "content": content}]});
    let with = |key: &str, value: Value| {
        let mut body = user(json!("hi"));
        body[key] = value;
        body
    };
    let cases = [
        (
            user(
                json!([{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]),
            ),
            "messages[0].content[0].image_url.url",
        ),
        (
            user(
                json!([{"type": "image_url", "image_url": {"url": "data:image/png;base64,AA", "detail": "high"}}]),
            ),
            "messages[0].content[0].image_url.detail",
        ),
        (
            user(json!([{"type": "input_audio", "input_audio": {}}])),
            "messages[0].content[0].type",
        ),
        (with("n", json!(2)), "n"),
        (with("logprobs", json!(true)), "logprobs"),
        (
            with("parallel_tool_calls", json!(false)),
            "parallel_tool_calls",
        ),
        (with("reasoning_effort", json!("high")), "reasoning_effort"),
        (
            with(
                "tools",
                json!([{"type": "function", "function": {"name": "f", "strict": true}}]),
            ),
            "tools[0].function.strict",
        ),
        (
            with("tools", json!([{"type": "web_search"}])),
            "tools[0].type",
        ),
        (
            json!({"model": "m", "messages": [{"role": "tool", "tool_call_id": "nope", "content": "x"}]}),
            "messages[0].tool_call_id",
        ),
    ];
    for (body, param) in cases {
        let err = request(Dialect::OpenAi, &body, "m").unwrap_err();
        let answer = err.body(Dialect::OpenAi);
        assert_eq!(err.status(), 400, "{param}: {answer}");
        assert_eq!(answer["error"]["param"], param, "{answer}");
        assert!(
            answer["error"]["message"].as_str().unwrap().contains(param),
            "{answer}"
        );
    }
    let url_image = json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": [
        {"type": "text", "text": "what?"},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}}]}]});
    let err = request(Dialect::Anthropic, &url_image, "m").unwrap_err();
    assert_eq!(
        err.body(Dialect::OpenAi)["error"]["param"],
        "messages[0].content[1].source.url"
    );
    let thinking = json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}],
                          "thinking": {"type": "enabled", "budget_tokens": 1024}});
    let err = request(Dialect::Anthropic, &thinking, "m").unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("thinking") && message.contains("Gemini"),
        "{message}"
    );
}

/// Tool call ids are made up by the gateway: `call_` and 32 hex digits, replaced here.
fn ids_normalised(mut value: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, item) in map.iter_mut() {
                    if k == "id" && item.as_str().is_some_and(|s| s.starts_with("call_")) {
                        *item = json!("call_ID");
                    } else {
                        walk(item);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut value);
    value
}

fn gemini_answer() -> Value {
    json!({
        "candidates": [{"content": {"role": "model", "parts": [
            {"text": "thinking...", "thought": true},
            {"text": "Checking "}, {"text": "Paris."},
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]},
            "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 30, "cachedContentTokenCount": 10, "candidatesTokenCount": 7,
                          "thoughtsTokenCount": 5, "totalTokenCount": 42},
        "modelVersion": "gemini-2.5-flash", "responseId": "resp1",
    })
}

#[test]
fn a_thought_signature_rides_in_the_tool_call_id_and_goes_back_to_gemini() {
    let answer = json!({"candidates": [{"content": {"role": "model", "parts": [
        {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "Cs4B/x+y=="}]},
        "finishReason": "STOP"}]});
    let openai: Value =
        serde_json::from_slice(&super::answer(Dialect::OpenAi, &answer).unwrap()).unwrap();
    let call = openai["choices"][0]["message"]["tool_calls"][0].clone();
    let id = call["id"].as_str().unwrap();
    assert!(
        id.starts_with("call_") && id.ends_with("~sig~Cs4B/x+y=="),
        "{id}"
    );
    let next = json!({"model": "m", "messages": [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": null, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": id, "content": "sunny"}]});
    let sent = request(Dialect::OpenAi, &next, "m").unwrap();
    assert_eq!(
        sent["contents"][1]["parts"][0],
        json!({
        "functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "Cs4B/x+y=="})
    );
    assert_eq!(
        sent["contents"][2]["parts"][0]["functionResponse"]["name"],
        "get_weather"
    );
}

#[test]
fn a_gemini_answer_becomes_openai_and_anthropic_golden() {
    let openai: Value =
        serde_json::from_slice(&answer(Dialect::OpenAi, &gemini_answer()).unwrap()).unwrap();
    let mut openai = ids_normalised(openai);
    openai["created"] = json!(0);
    assert_eq!(
        openai,
        json!({
            "id": "chatcmpl-resp1", "object": "chat.completion", "created": 0, "model": "gemini-2.5-flash",
            "choices": [{"index": 0, "logprobs": null, "finish_reason": "tool_calls", "message": {
                "role": "assistant", "content": "Checking Paris.", "refusal": null,
                "tool_calls": [{"id": "call_ID", "type": "function",
                                "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]}}],
            "usage": {"prompt_tokens": 30, "completion_tokens": 12, "total_tokens": 42,
                      "prompt_tokens_details": {"cached_tokens": 10},
                      "completion_tokens_details": {"reasoning_tokens": 5}},
        })
    );
    let anthropic: Value =
        serde_json::from_slice(&answer(Dialect::Anthropic, &gemini_answer()).unwrap()).unwrap();
    assert_eq!(
        ids_normalised(anthropic),
        json!({
            "id": "msg_resp1", "type": "message", "role": "assistant", "model": "gemini-2.5-flash",
            "content": [{"type": "text", "text": "Checking Paris."},
                        {"type": "tool_use", "id": "call_ID", "name": "get_weather", "input": {"city": "Paris"}}],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 20, "output_tokens": 12, "cache_read_input_tokens": 10, "cache_creation_input_tokens": 0},
        })
    );
    for (reason, finish, stop) in [
        ("MAX_TOKENS", "length", "max_tokens"),
        ("SAFETY", "content_filter", "refusal"),
        ("STOP", "stop", "end_turn"),
        ("OTHER", "stop", "end_turn"),
    ] {
        let a = json!({"candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": reason}]});
        let o: Value = serde_json::from_slice(&answer(Dialect::OpenAi, &a).unwrap()).unwrap();
        assert_eq!(o["choices"][0]["finish_reason"], finish);
        let m: Value = serde_json::from_slice(&answer(Dialect::Anthropic, &a).unwrap()).unwrap();
        assert_eq!(m["stop_reason"], stop);
    }
    let blocked = json!({"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 4}});
    let o: Value = serde_json::from_slice(&answer(Dialect::OpenAi, &blocked).unwrap()).unwrap();
    assert_eq!(
        (
            o["choices"][0]["finish_reason"].as_str(),
            o["usage"]["prompt_tokens"].as_u64()
        ),
        (Some("content_filter"), Some(4))
    );
}

/// Gemini's stream for the answer above, as its SSE bytes.
fn gemini_stream() -> String {
    let chunks = [
        json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "Checking "}]}, "index": 0}],
               "usageMetadata": {"promptTokenCount": 30, "totalTokenCount": 30}, "modelVersion": "gemini-2.5-flash", "responseId": "resp1"}),
        json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "Paris."}]}, "index": 0}],
               "modelVersion": "gemini-2.5-flash", "responseId": "resp1"}),
        json!({"candidates": [{"content": {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]},
                               "finishReason": "STOP", "index": 0}],
               "usageMetadata": gemini_answer()["usageMetadata"], "modelVersion": "gemini-2.5-flash", "responseId": "resp1"}),
    ];
    chunks
        .iter()
        .map(|c| format!("data: {c}\r\n\r\n"))
        .collect()
}

/// Runs `stream` through a translator fed at odd byte boundaries; the caller's events.
fn run(mut translator: StreamTranslator, stream: &str) -> (Vec<SseEvent>, StreamState) {
    let mut parser = SseParser::default();
    let mut state = StreamState::default();
    let mut out = Vec::new();
    for piece in stream.as_bytes().chunks(7) {
        for event in parser.feed(piece).unwrap() {
            for bytes in translator.event(&event, &mut state) {
                out.extend(SseParser::default().feed(&bytes).unwrap());
            }
        }
    }
    (out, state)
}

#[test]
fn a_gemini_stream_becomes_openai_chunks_with_usage_only_when_asked() {
    let gemini = || StreamTranslator::Gemini(Box::new(stream::GeminiStream::new(true, false)));
    let (events, state) = run(gemini(), &gemini_stream());
    let chunks: Vec<Value> = events
        .iter()
        .filter(|e| e.data != "[DONE]")
        .map(|e| ids_normalised(serde_json::from_str(&e.data).unwrap()))
        .collect();
    let deltas: Vec<Value> = chunks
        .iter()
        .map(|c| json!([c["choices"][0]["delta"], c["choices"][0]["finish_reason"]]))
        .collect();
    assert_eq!(
        deltas,
        vec![
            json!([{"role": "assistant", "content": ""}, null]),
            json!([{"content": "Checking "}, null]),
            json!([{"content": "Paris."}, null]),
            json!([{"tool_calls": [{"index": 0, "id": "call_ID", "type": "function",
                                "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]}, null]),
            json!([{}, "tool_calls"]),
            json!([null, null]),
        ]
    );
    assert_eq!(chunks[5]["choices"], json!([]));
    assert_eq!(chunks[5]["usage"]["completion_tokens"], 12);
    assert!(chunks
        .iter()
        .all(|c| c["id"] == "chatcmpl-resp1" && c["model"] == "gemini-2.5-flash"));
    assert_eq!(events.last().unwrap().data, "[DONE]");
    assert!(state.completed && state.first_token.is_some());
    // Streamed and whole answers account identically.
    assert_eq!(
        state.usage,
        crate::dialect::gemini::usage(&gemini_answer()["usageMetadata"])
    );
    assert_eq!(state.model_served.as_deref(), Some("gemini-2.5-flash"));
    let quiet = StreamTranslator::Gemini(Box::new(stream::GeminiStream::new(false, false)));
    let (events, _) = run(quiet, &gemini_stream());
    assert!(
        !events.iter().any(|e| e.data.contains("\"usage\"")),
        "no usage chunk unasked"
    );
}

#[test]
fn a_gemini_stream_becomes_anthropic_events() {
    let (events, state) = run(
        StreamTranslator::Gemini(Box::new(stream::GeminiStream::new(false, true))),
        &gemini_stream(),
    );
    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    let data: Vec<Value> = events
        .iter()
        .map(|e| serde_json::from_str(&e.data).unwrap())
        .collect();
    assert_eq!(data[5]["content_block"]["name"], "get_weather");
    assert_eq!(data[6]["delta"]["partial_json"], "{\"city\":\"Paris\"}");
    assert_eq!(data[8]["delta"]["stop_reason"], "tool_use");
    assert_eq!(
        data[8]["usage"],
        json!({"input_tokens": 20, "output_tokens": 12,
        "cache_read_input_tokens": 10, "cache_creation_input_tokens": 0})
    );
    assert_eq!(state.usage.reasoning, 5);
}

#[test]
fn an_error_mid_stream_reaches_each_caller_as_an_error_event() {
    let stream = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}]}}]}\n\n\
                  data: {\"error\":{\"code\":503,\"message\":\"The model is overloaded.\",\"status\":\"UNAVAILABLE\"}}\n\n";
    let (events, state) = run(
        StreamTranslator::Gemini(Box::new(stream::GeminiStream::new(false, false))),
        stream,
    );
    let last: Value = serde_json::from_str(&events.last().unwrap().data).unwrap();
    assert_eq!(last["error"]["message"], "The model is overloaded.");
    assert!(state.error.is_some() && !state.completed);
    let (events, _) = run(
        StreamTranslator::Gemini(Box::new(stream::GeminiStream::new(false, true))),
        stream,
    );
    assert_eq!(events.last().unwrap().event, "error");
}

#[test]
fn hostile_shapes_are_refused_or_carried_never_a_panic() {
    let requests = [
        json!({"messages": 7}),
        json!({"messages": [7, null, "x"]}),
        json!({"messages": [{"role": "assistant", "tool_calls": "x"}]}),
        json!({"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": 1, "arguments": "{"}}]}]}),
        json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": "x"}]}]}),
        json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:text/html;base64,AA"}}]}]}),
        json!({"messages": [], "tools": {"a": 1}, "tool_choice": 3, "stop": [1], "max_tokens": -1}),
        json!({"messages": [], "response_format": {"type": "json_schema"}}),
        json!({"messages": [{"role": "tool", "content": "x"}]}),
        json!([1, 2]),
    ];
    for body in &requests {
        for dialect in [Dialect::OpenAi, Dialect::Anthropic] {
            if let Err(e) = request(dialect, body, "m") {
                assert_eq!(e.status(), 400, "{body}: {e}");
            }
        }
    }
    let answers = [
        json!("x"),
        json!({"candidates": "x", "usageMetadata": "y"}),
        json!({"candidates": [{"content": {"parts": [{"functionCall": "x"}, {"text": 5}, 7]}, "finishReason": 3}]}),
        json!({"candidates": [{"content": {"parts": [{"functionCall": {"name": "f", "args": "not an object"}}]}}]}),
    ];
    for a in &answers {
        let _ = answer(Dialect::OpenAi, a);
        let _ = answer(Dialect::Anthropic, a);
        let mut state = StreamState::default();
        let mut t = stream::GeminiStream::new(true, true);
        let _ = t.event(
            &SseEvent {
                event: String::new(),
                data: a.to_string(),
            },
            &mut state,
        );
    }
}
