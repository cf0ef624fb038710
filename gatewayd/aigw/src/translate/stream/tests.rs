use super::*;
use crate::sse::SseParser;

fn events(text: &str) -> Vec<SseEvent> {
    SseParser::default().feed(text.as_bytes()).unwrap()
}

fn run(translator: &mut StreamTranslator, input: &str) -> (Vec<SseEvent>, StreamState) {
    let mut state = StreamState::default();
    let mut out = Vec::new();
    for event in events(input) {
        for bytes in translator.event(&event, &mut state) {
            out.extend(events(std::str::from_utf8(&bytes).unwrap()));
        }
    }
    (out, state)
}

const ANTHROPIC: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude-x\",\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":20,\"output_tokens\":1}}}\n\n\
event: ping\ndata: {\"type\":\"ping\"}\n\n\
event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Checking\"}}\n\n\
event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n\
event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\",\"input\":{}}}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"ci\"}}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"ty\\\": \\\"Paris\\\"}\"}}\n\n\
event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n\
event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":15}}\n\n\
event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

#[test]
fn an_anthropic_tool_stream_becomes_openai_chunks_with_arguments_per_index() {
    let mut t = StreamTranslator::AnthropicToOpenAi(AnthropicToOpenAi::new(true));
    let (out, state) = run(&mut t, ANTHROPIC);
    assert_eq!(out.last().unwrap().data, "[DONE]");
    let chunks: Vec<Value> = out[..out.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(&e.data).unwrap())
        .collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Checking");
    let arguments: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].as_str())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&arguments).unwrap()["city"],
        "Paris"
    );
    assert!(chunks
        .iter()
        .any(|c| c["choices"][0]["finish_reason"] == "tool_calls"));
    let usage = &chunks.last().unwrap()["usage"];
    assert_eq!(
        (
            usage["prompt_tokens"].as_u64(),
            usage["completion_tokens"].as_u64()
        ),
        (Some(30), Some(15))
    );
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], 20);
    assert!(state.completed && state.first_token.is_some());
    assert_eq!(
        (state.usage.input, state.usage.output, state.usage.cached),
        (30, 15, 20)
    );

    let mut quiet = StreamTranslator::AnthropicToOpenAi(AnthropicToOpenAi::new(false));
    let (out, _) = run(&mut quiet, ANTHROPIC);
    assert!(
        out.iter().all(|e| !e.data.contains("\"usage\"")),
        "no usage chunk unless asked"
    );
}

const OPENAI: &str = "data: {\"id\":\"c1\",\"model\":\"gpt-x\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}],\"usage\":null}\n\n\
data: {\"id\":\"c1\",\"model\":\"gpt-x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}],\"usage\":null}\n\n\
data: {\"id\":\"c1\",\"model\":\"gpt-x\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"\"}}]}}],\"usage\":null}\n\n\
data: {\"id\":\"c1\",\"model\":\"gpt-x\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"a\\\":\"}}]}}],\"usage\":null}\n\n\
data: {\"id\":\"c1\",\"model\":\"gpt-x\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"1}\"}}]}}],\"usage\":null}\n\n\
data: {\"id\":\"c1\",\"model\":\"gpt-x\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}],\"usage\":null}\n\n\
data: {\"id\":\"c1\",\"model\":\"gpt-x\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":5,\"total_tokens\":17,\"prompt_tokens_details\":{\"cached_tokens\":4}}}\n\n\
data: [DONE]\n\n";

#[test]
fn an_openai_stream_becomes_named_anthropic_events() {
    let mut t = StreamTranslator::OpenAiToAnthropic(OpenAiToAnthropic::default());
    let (out, state) = run(&mut t, OPENAI);
    let names: Vec<&str> = out.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    let delta: Value = serde_json::from_str(&out[8].data).unwrap();
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
    assert_eq!(delta["usage"]["input_tokens"], 8);
    assert_eq!(delta["usage"]["cache_read_input_tokens"], 4);
    assert_eq!(delta["usage"]["output_tokens"], 5);
    assert!(state.completed);
}

#[test]
fn the_usage_chunk_reaches_only_callers_who_asked() {
    let (out, state) = run(
        &mut StreamTranslator::OpenAi {
            caller_wants_usage: false,
        },
        OPENAI,
    );
    assert_eq!(out.len(), 7);
    assert!(!out.iter().any(|e| e.data.contains("\"prompt_tokens\"")));
    assert_eq!((state.usage.input, state.usage.output), (12, 5));
    let (out, _) = run(
        &mut StreamTranslator::OpenAi {
            caller_wants_usage: true,
        },
        OPENAI,
    );
    assert_eq!(out.len(), 8);
}
