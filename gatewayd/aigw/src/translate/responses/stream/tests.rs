use super::*;
use crate::translate::stream::AnthropicToOpenAi;

const ANTHROPIC: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude-x\",\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":20,\"output_tokens\":1}}}\n\n\
event: ping\ndata: {\"type\":\"ping\"}\n\n\
event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Check\"}}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"ing\"}}\n\n\
event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n\
event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\",\"input\":{}}}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"ci\"}}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"ty\\\": \\\"Paris\\\"}\"}}\n\n\
event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n\
event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":15}}\n\n\
event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

/// The caller's events for `input` fed `size` bytes at a time.
fn run(t: &mut ResponsesStream, input: &str, size: usize) -> (Vec<SseEvent>, StreamState) {
    let mut state = StreamState::default();
    let (mut parser, mut reader) = (SseParser::default(), SseParser::default());
    let mut out = Vec::new();
    for piece in input.as_bytes().chunks(size) {
        for event in parser.feed(piece).unwrap() {
            for bytes in t.event(&event, &mut state) {
                out.extend(reader.feed(&bytes).unwrap());
            }
        }
    }
    (out, state)
}

#[test]
fn an_anthropic_tool_stream_becomes_responses_events_whatever_the_split() {
    for size in [1, 3, 7, 64, ANTHROPIC.len()] {
        let inner = StreamTranslator::AnthropicToOpenAi(AnthropicToOpenAi::new(false));
        let request = json!({"input": "x", "tools": [{"type": "function", "name": "get_weather"}]});
        let mut t =
            ResponsesStream::FromChat(Box::new(FromChat::new(inner, "resp_1".into(), request)));
        let (out, state) = run(&mut t, ANTHROPIC, size);
        let names: Vec<&str> = out.iter().map(|e| e.event.as_str()).collect();
        assert_eq!(
            names,
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.delta",
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.output_item.added",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.done",
                "response.output_item.done",
                "response.completed",
            ],
            "split every {size}"
        );
        let data: Vec<Value> = out
            .iter()
            .map(|e| serde_json::from_str(&e.data).unwrap())
            .collect();
        for (i, d) in data.iter().enumerate() {
            assert_eq!(d["sequence_number"], i, "{d}");
            assert_eq!(d["type"], names[i]);
        }
        assert_eq!(data[0]["response"]["model"], "claude-x");
        let done = &data[14]["response"];
        assert_eq!(done["status"], "completed");
        assert_eq!(done["output"][0]["content"][0]["text"], "Checking");
        assert_eq!(done["output"][1]["call_id"], "toolu_1");
        assert_eq!(done["output"][1]["id"], data[9]["item"]["id"]);
        assert_eq!(
            serde_json::from_str::<Value>(done["output"][1]["arguments"].as_str().unwrap())
                .unwrap()["city"],
            "Paris"
        );
        // Anthropic's input_tokens (10) plus its cache reads (20).
        assert_eq!(done["usage"]["input_tokens"], 30);
        assert_eq!(done["usage"]["input_tokens_details"]["cached_tokens"], 20);
        assert_eq!(done["usage"]["output_tokens"], 15);
        assert!(state.completed && state.first_token.is_some());
        assert_eq!((state.usage.input, state.usage.output), (30, 15));
    }
}

#[test]
fn a_provider_error_mid_stream_is_an_error_event_the_sdk_raises_on() {
    let cut = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude-x\",\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n\
event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
    let inner = StreamTranslator::AnthropicToOpenAi(AnthropicToOpenAi::new(false));
    let mut t =
        ResponsesStream::FromChat(Box::new(FromChat::new(inner, "resp_1".into(), json!({}))));
    let (out, state) = run(&mut t, cut, 5);
    let last = out.last().unwrap();
    assert_eq!(last.event, "error");
    let data: Value = serde_json::from_str(&last.data).unwrap();
    assert_eq!(data["message"], "Overloaded");
    assert_eq!(data["error"]["message"], "Overloaded");
    assert_eq!(state.error.as_deref(), Some("overloaded_error"));
}

#[test]
fn an_openai_responses_stream_passes_unchanged_and_its_usage_is_read() {
    let stream = "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_9\",\"model\":\"gpt-4o-mini-2024-07-18\",\"usage\":null}}\n\n\
event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":1,\"delta\":\"Hi\"}\n\n\
event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":2,\"response\":{\"id\":\"resp_9\",\"model\":\"gpt-4o-mini-2024-07-18\",\"usage\":{\"input_tokens\":21,\"input_tokens_details\":{\"cached_tokens\":5},\"output_tokens\":9,\"output_tokens_details\":{\"reasoning_tokens\":2},\"total_tokens\":30}}}\n\n";
    let (out, state) = run(&mut ResponsesStream::Passthrough, stream, 11);
    let expected = SseParser::default().feed(stream.as_bytes()).unwrap();
    assert_eq!(out, expected);
    assert!(state.completed && state.first_token.is_some());
    assert_eq!(
        (
            state.usage.input,
            state.usage.cached,
            state.usage.output,
            state.usage.reasoning
        ),
        (21, 5, 9, 2)
    );
    assert_eq!(
        state.model_served.as_deref(),
        Some("gpt-4o-mini-2024-07-18")
    );
    let (_, failed) = run(
        &mut ResponsesStream::Passthrough,
        "event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"error\":{\"code\":\"server_error\"}}}\n\n",
        4,
    );
    assert_eq!(failed.error.as_deref(), Some("server_error"));
    assert!(!failed.completed);
}

const OPENAI_CHAT: &str = "data: {\"id\":\"c1\",\"model\":\"llama-x\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}],\"usage\":null}\n\n\
data: {\"id\":\"c1\",\"model\":\"llama-x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}],\"usage\":null}\n\n\
data: {\"id\":\"c1\",\"model\":\"llama-x\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"\"}}]}}],\"usage\":null}\n\n\
data: {\"id\":\"c1\",\"model\":\"llama-x\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"a\\\":\"}}]}}],\"usage\":null}\n\n\
data: {\"id\":\"c1\",\"model\":\"llama-x\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"1}\"}}]}}],\"usage\":null}\n\n\
data: {\"id\":\"c1\",\"model\":\"llama-x\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}],\"usage\":null}\n\n\
data: {\"id\":\"c1\",\"model\":\"llama-x\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":5,\"total_tokens\":17,\"prompt_tokens_details\":{\"cached_tokens\":4}}}\n\n\
data: [DONE]\n\n";

#[test]
fn an_openai_compatible_chat_stream_becomes_responses_events_and_a_cut_output_is_incomplete() {
    let inner = StreamTranslator::OpenAi {
        caller_wants_usage: false,
    };
    let mut t = ResponsesStream::FromChat(Box::new(FromChat::new(
        inner,
        "resp_2".into(),
        json!({"max_output_tokens": 5}),
    )));
    let (out, state) = run(&mut t, OPENAI_CHAT, 13);
    let last: Value = serde_json::from_str(&out.last().unwrap().data).unwrap();
    assert_eq!(out.last().unwrap().event, "response.incomplete");
    let response = &last["response"];
    assert_eq!(response["status"], "incomplete");
    assert_eq!(
        response["incomplete_details"]["reason"],
        "max_output_tokens"
    );
    assert_eq!(response["max_output_tokens"], 5);
    assert_eq!(response["model"], "llama-x");
    assert_eq!(response["output"][0]["content"][0]["text"], "Hi");
    assert_eq!(response["output"][1]["arguments"], "{\"a\":1}");
    assert_eq!(response["output"][1]["id"], "fc_call_1");
    assert_eq!(
        (
            response["usage"]["input_tokens"].as_u64(),
            response["usage"]["output_tokens"].as_u64()
        ),
        (Some(12), Some(5))
    );
    assert!(
        out.iter().all(|e| e.data != "[DONE]"),
        "a Responses stream has no [DONE]"
    );
    assert!(state.completed);
}
