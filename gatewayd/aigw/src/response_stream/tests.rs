use std::collections::BTreeMap;

use config::AigwResponseDlp;
use serde_json::Value;

use super::*;
use crate::response_dlp::tests::scanner;
use crate::sse::SseEvent;

const CARD: &str = "4539 1488 0343 6467";

/// The text released for `pieces`, or where it stopped.
fn run(mode: AigwResponseDlp, pieces: &[&str]) -> (String, Option<Blocked>, Tally) {
    let scanner = scanner(mode, "default");
    let mut scan = TextScan::default();
    let mut tally = Tally::default();
    let mut out = String::new();
    for (i, piece) in pieces.iter().enumerate() {
        match scan.push(piece, i + 1 == pieces.len(), &scanner, &mut tally) {
            Ok(text) => out.push_str(&text),
            Err(blocked) => return (out, Some(blocked), tally),
        }
    }
    (out, None, tally)
}

#[test]
fn only_the_last_word_and_the_digit_groups_before_it_are_held() {
    assert_eq!(releasable(""), 0);
    assert_eq!(releasable("hello wor"), 6);
    assert_eq!(releasable("hello world "), 12);
    assert_eq!(releasable("card 4539 1488"), 5);
    assert_eq!(releasable("card 4539 1488 "), 5);
    assert_eq!(releasable("IBAN DE89 3704 0044"), 5);
    assert_eq!(releasable("two  4539"), 5);
    let long = format!("x {}", "a".repeat(1000));
    assert_eq!(releasable(&long), long.len() - MAX_HOLD);
    // Never inside a character.
    let wide = format!("x {}", "é".repeat(300));
    assert!(wide.is_char_boundary(releasable(&wide)));
}

#[test]
fn a_card_split_across_deltas_is_blocked_before_any_of_it_is_sent() {
    let pieces = ["Your card is 4539 1488", " 0343 6467", " thanks."];
    let (sent, blocked, tally) = run(AigwResponseDlp::Block, &pieces);
    assert_eq!(blocked, Some(Blocked(vec!["credit_card".into()])));
    assert_eq!(sent, "Your card is ");
    assert_eq!(tally.total(), 1);
    // One byte at a time too.
    let text = format!("Your card is {CARD} thanks.");
    let bytes: Vec<String> = text.chars().map(String::from).collect();
    let bytes: Vec<&str> = bytes.iter().map(String::as_str).collect();
    let (sent, blocked, _) = run(AigwResponseDlp::Block, &bytes);
    assert!(blocked.is_some() && !sent.contains("4539"), "{sent}");
}

#[test]
fn redact_masks_a_split_card_and_sends_the_rest() {
    let pieces = [
        "Your card is 4539 1",
        "488 0343 6",
        "467 and",
        " more text.",
    ];
    let (sent, blocked, tally) = run(AigwResponseDlp::Redact, &pieces);
    assert_eq!(blocked, None);
    assert_eq!(
        sent, "Your card is [REDACTED:credit_card] and more text.",
        "{sent}"
    );
    assert_eq!(tally.total(), 1);
}

#[test]
fn monitor_sends_everything_at_once_and_counts_each_finding_once() {
    let pieces = ["card 4539 1488", " 0343 6467 and", " again ", CARD, " end"];
    let (sent, blocked, tally) = run(AigwResponseDlp::Monitor, &pieces);
    assert_eq!((sent, blocked), (pieces.concat(), None));
    assert_eq!(tally.total(), 2, "{tally:?}");
}

#[test]
fn clean_text_passes_unchanged_in_small_pieces() {
    let text =
        "Bonjour, café ☕ from the mock. Numbers like 42 and 2024-07-18 are fine; so is x=1.\n";
    let text = text.repeat(20);
    // Pieces of about five bytes, cut on character boundaries.
    let mut owned = Vec::new();
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let mut at = rest.len().min(5);
        while !rest.is_char_boundary(at) {
            at += 1;
        }
        owned.push(&rest[..at]);
        rest = &rest[at..];
    }
    let (sent, blocked, tally) = run(AigwResponseDlp::Block, &owned);
    assert_eq!((sent.as_str(), blocked), (text.as_str(), None));
    assert!(tally.is_empty());
}

fn openai_event(text: &str, finish: Option<&str>) -> SseEvent {
    SseEvent {
        event: String::new(),
        data: serde_json::json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]})
        .to_string(),
    }
}

#[test]
fn the_guard_rewrites_provider_events_and_releases_held_text_before_the_end() {
    let scanner = std::sync::Arc::new(scanner(AigwResponseDlp::Redact, "default"));
    let mut guard = StreamGuard::new(scanner.clone(), Events::Chat, false);
    let mut text = String::new();
    let mut events = Vec::new();
    for e in [
        openai_event("Card 4539 1488", None),
        openai_event(" 0343 6467", None),
        SseEvent {
            event: String::new(),
            data: "[DONE]".into(),
        },
    ] {
        events.extend(guard.event(&e).unwrap());
    }
    for e in &events {
        if let Ok(v) = serde_json::from_str::<Value>(&e.data) {
            text.push_str(v["choices"][0]["delta"]["content"].as_str().unwrap_or(""));
        }
    }
    assert_eq!(text, "Card [REDACTED:credit_card]");
    assert_eq!(events.last().unwrap().data, "[DONE]");

    let mut guard = StreamGuard::new(scanner, Events::Messages, false);
    let delta = |t: &str| {
        SseEvent {
        event: "content_block_delta".into(),
        data: serde_json::json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}}).to_string(),
    }
    };
    let stop = SseEvent {
        event: "content_block_stop".into(),
        data: r#"{"type":"content_block_stop","index":0}"#.into(),
    };
    let mut out = Vec::new();
    for e in [
        delta("key AKIAQ7RZ"),
        delta("4XH2LMNB5TWE"),
        delta(" ok"),
        stop,
    ] {
        out.extend(guard.event(&e).unwrap());
    }
    let text: String = out
        .iter()
        .filter(|e| e.event == "content_block_delta")
        .map(|e| {
            serde_json::from_str::<Value>(&e.data).unwrap()["delta"]["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(text, "key [REDACTED:aws_access_key_id] ok");
    assert_eq!(out.last().unwrap().event, "content_block_stop");
}

fn guard(mode: AigwResponseDlp, events: Events) -> StreamGuard {
    StreamGuard::new(std::sync::Arc::new(scanner(mode, "default")), events, true)
}

fn chunk(choice: Value) -> SseEvent {
    SseEvent {
        event: String::new(),
        data: serde_json::json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [choice]}).to_string(),
    }
}

fn tool_delta(tool: u64, args: &str, finish: Option<&str>) -> SseEvent {
    chunk(
        serde_json::json!({"index": 0, "delta": {"tool_calls": [{"index": tool, "function": {"arguments": args}}]}, "finish_reason": finish}),
    )
}

/// Tool-call arguments per call index, as an SDK adds them up.
fn tool_args(events: &[SseEvent]) -> BTreeMap<u64, String> {
    let mut args = BTreeMap::new();
    for e in events {
        let Ok(v) = serde_json::from_str::<Value>(&e.data) else {
            continue;
        };
        for call in v["choices"][0]["delta"]["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let piece = call["function"]["arguments"].as_str().unwrap_or("");
            args.entry(call["index"].as_u64().unwrap())
                .or_insert_with(String::new)
                .push_str(piece);
        }
    }
    args
}

#[test]
fn a_card_split_across_tool_argument_deltas_is_blocked_or_masked_per_call() {
    let pieces = [
        tool_delta(0, "{\"card\": \"4539 14", None),
        tool_delta(1, "{\"city\": \"Paris\"}", None),
        tool_delta(0, "88 0343 64", None),
        tool_delta(0, "67\"}", Some("tool_calls")),
    ];
    let mut g = guard(AigwResponseDlp::Block, Events::Chat);
    let mut sent = Vec::new();
    let mut blocked = None;
    for e in &pieces {
        match g.event(e) {
            Ok(out) => sent.extend(out),
            Err(b) => {
                blocked = Some(b);
                break;
            }
        }
    }
    assert_eq!(blocked, Some(Blocked(vec!["credit_card".into()])));
    let args = tool_args(&sent);
    assert!(
        !format!("{args:?}").contains("4539") && !format!("{args:?}").contains("0343"),
        "{args:?}"
    );

    let mut g = guard(AigwResponseDlp::Redact, Events::Chat);
    let mut sent = Vec::new();
    for e in &pieces {
        sent.extend(g.event(e).unwrap());
    }
    let args = tool_args(&sent);
    assert_eq!(
        args[&0], "{\"card\": \"[REDACTED:credit_card]\"}",
        "{args:?}"
    );
    assert_eq!(args[&1], "{\"city\": \"Paris\"}");
    assert_eq!(g.matched().total(), 1);
}

#[test]
fn anthropic_tool_input_and_thinking_deltas_are_scanned_and_released_in_kind() {
    let event = |name: &str, data: Value| SseEvent {
        event: name.into(),
        data: data.to_string(),
    };
    let mut g = guard(AigwResponseDlp::Redact, Events::Messages);
    let mut out = Vec::new();
    for e in [
        event(
            "content_block_start",
            serde_json::json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}),
        ),
        event(
            "content_block_delta",
            serde_json::json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "the key AKIAQ7RZ"}}),
        ),
        event(
            "content_block_delta",
            serde_json::json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "4XH2LMNB5TWE"}}),
        ),
        event(
            "content_block_stop",
            serde_json::json!({"type": "content_block_stop", "index": 0}),
        ),
        event(
            "content_block_start",
            serde_json::json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "t", "name": "f", "input": {}}}),
        ),
        event(
            "content_block_delta",
            serde_json::json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"k\":\"AKIAQ7RZ"}}),
        ),
        event(
            "content_block_delta",
            serde_json::json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "4XH2LMNB5TWE\"}"}}),
        ),
        event(
            "content_block_stop",
            serde_json::json!({"type": "content_block_stop", "index": 1}),
        ),
    ] {
        out.extend(g.event(&e).unwrap());
    }
    let mut thinking = String::new();
    let mut input = String::new();
    for e in &out {
        let v: Value = serde_json::from_str(&e.data).unwrap();
        thinking.push_str(v["delta"]["thinking"].as_str().unwrap_or(""));
        input.push_str(v["delta"]["partial_json"].as_str().unwrap_or(""));
    }
    assert_eq!(thinking, "the key [REDACTED:aws_access_key_id]");
    assert_eq!(input, "{\"k\":\"[REDACTED:aws_access_key_id]\"}");
    assert_eq!(out.last().unwrap().event, "content_block_stop");
}

fn responses_event(kind: &str, seq: u64, data: Value) -> SseEvent {
    let mut data = data;
    data["type"] = serde_json::json!(kind);
    data["sequence_number"] = serde_json::json!(seq);
    SseEvent {
        event: kind.into(),
        data: data.to_string(),
    }
}

fn responses_stream() -> Vec<SseEvent> {
    let text = "Your card is 4539 1488 0343 6467 ok";
    let mut out = vec![responses_event(
        "response.created",
        0,
        serde_json::json!({"response": {"output": []}}),
    )];
    for (i, piece) in ["Your card is 4539 1", "488 0343 6", "467 ok"]
        .iter()
        .enumerate()
    {
        out.push(responses_event(
            "response.output_text.delta",
            1 + i as u64,
            serde_json::json!({"item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": piece}),
        ));
    }
    out.push(responses_event(
        "response.output_text.done",
        4,
        serde_json::json!({"item_id": "msg_1", "output_index": 0, "content_index": 0, "text": text}),
    ));
    out.push(responses_event(
        "response.output_item.done",
        5,
        serde_json::json!({"output_index": 0, "item": {"type": "message", "content": [{"type": "output_text", "text": text}]}}),
    ));
    out.push(responses_event(
        "response.completed",
        6,
        serde_json::json!({"response": {"output": [{"type": "message", "content": [{"type": "output_text", "text": text}]}]}}),
    ));
    out
}

#[test]
fn a_responses_stream_is_masked_in_its_deltas_its_done_events_and_the_final_response() {
    let mut g = guard(AigwResponseDlp::Redact, Events::Responses);
    let mut out = Vec::new();
    for e in responses_stream() {
        out.extend(g.event(&e).unwrap());
    }
    let all: Vec<Value> = out
        .iter()
        .map(|e| serde_json::from_str(&e.data).unwrap())
        .collect();
    let deltas: String = all
        .iter()
        .filter(|v| v["type"] == "response.output_text.delta")
        .map(|v| v["delta"].as_str().unwrap())
        .collect();
    let masked = "Your card is [REDACTED:credit_card] ok";
    assert_eq!(deltas, masked);
    let text = all
        .iter()
        .find(|v| v["type"] == "response.output_text.done")
        .unwrap();
    assert_eq!(text["text"], masked);
    let last = all.last().unwrap();
    assert_eq!(last["response"]["output"][0]["content"][0]["text"], masked);
    let joined = format!("{all:?}");
    assert!(
        !joined.contains("4539") && !joined.contains("0343"),
        "{joined}"
    );
    // Numbers in order, one each, the released deltas included.
    let numbers: Vec<u64> = all
        .iter()
        .map(|v| v["sequence_number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, (0..numbers.len() as u64).collect::<Vec<_>>());
    assert_eq!(g.matched().total(), 1);

    // Block: the stream ends before any of the card is sent.
    let mut g = guard(AigwResponseDlp::Block, Events::Responses);
    let mut sent = String::new();
    let mut blocked = None;
    for e in responses_stream() {
        match g.event(&e) {
            Ok(out) => out.iter().for_each(|e| sent.push_str(&e.data)),
            Err(b) => {
                blocked = Some(b);
                break;
            }
        }
    }
    assert_eq!(blocked, Some(Blocked(vec!["credit_card".into()])));
    assert!(!sent.contains("4539") && !sent.contains("1488"), "{sent}");
}

#[test]
fn a_done_event_with_text_no_delta_carried_is_still_refused() {
    let mut g = guard(AigwResponseDlp::Block, Events::Responses);
    let done = responses_event(
        "response.function_call_arguments.done",
        3,
        serde_json::json!({"item_id": "fc_1", "output_index": 0, "arguments": "{\"key\": \"AKIAQ7RZ4XH2LMNB5TWE\"}"}),
    );
    assert_eq!(
        g.event(&done).unwrap_err(),
        Blocked(vec!["aws_access_key_id".into()])
    );
}

#[test]
fn refusals_and_text_arriving_outside_deltas_are_scanned_too() {
    // A chat refusal split across deltas.
    let mut g = guard(AigwResponseDlp::Redact, Events::Chat);
    let mut out = Vec::new();
    for (piece, finish) in [
        ("I won't share AKIAQ7RZ", None),
        ("4XH2LMNB5TWE", Some("stop")),
    ] {
        out.extend(
            g.event(&chunk(serde_json::json!({"index": 0, "delta": {"refusal": piece}, "finish_reason": finish})))
                .unwrap(),
        );
    }
    let refusal: String = out
        .iter()
        .map(|e| {
            serde_json::from_str::<Value>(&e.data).unwrap()["choices"][0]["delta"]["refusal"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(refusal, "I won't share [REDACTED:aws_access_key_id]");
    // Reasoning text of OpenAI-compatible servers (review 2, finding 1: it passed unscanned),
    // both spellings, split across deltas: masked in redact mode, refused in block mode.
    for field in ["reasoning_content", "reasoning"] {
        let mut g = guard(AigwResponseDlp::Redact, Events::Chat);
        let mut out = Vec::new();
        for (piece, finish) in [
            ("the key: AKIAQ7", None),
            ("RZ4XH2LMNB5TWE ok", Some("stop")),
        ] {
            out.extend(
                g.event(&chunk(serde_json::json!({"index": 0, "delta": {field: piece}, "finish_reason": finish})))
                    .unwrap(),
            );
        }
        let text: String = out
            .iter()
            .map(|e| {
                serde_json::from_str::<Value>(&e.data).unwrap()["choices"][0]["delta"][field]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .collect();
        assert_eq!(text, "the key: [REDACTED:aws_access_key_id] ok", "{field}");
        let mut g = guard(AigwResponseDlp::Block, Events::Chat);
        let first = g.event(&chunk(
            serde_json::json!({"index": 0, "delta": {field: "the key: AKIAQ7"}, "finish_reason": null}),
        ));
        let second = g.event(&chunk(
            serde_json::json!({"index": 0, "delta": {field: "RZ4XH2LMNB5TWE ok"}, "finish_reason": "stop"}),
        ));
        assert!(first.is_err() || second.is_err(), "{field} let through");
    }
    // A Responses item added with its text already in it, and an event kind not followed.
    let mut g = guard(AigwResponseDlp::Block, Events::Responses);
    let added = responses_event(
        "response.output_item.added",
        2,
        serde_json::json!({"output_index": 0, "item": {"type": "message", "content": [{"type": "output_text", "text": "card 4539 1488 0343 6467"}]}}),
    );
    assert!(g.event(&added).is_err());
    let mut g = guard(AigwResponseDlp::Block, Events::Responses);
    let odd = responses_event(
        "response.audio.transcript.delta",
        2,
        serde_json::json!({"delta": "the key is AKIAQ7RZ4XH2LMNB5TWE"}),
    );
    assert!(g.event(&odd).is_err());
}
