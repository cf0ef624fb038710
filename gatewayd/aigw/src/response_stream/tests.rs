use config::AigwResponseDlp;
use serde_json::Value;

use super::*;
use crate::response_dlp::tests::scanner;

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
    let mut guard = StreamGuard::new(scanner.clone(), Dialect::OpenAi);
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

    let mut guard = StreamGuard::new(scanner, Dialect::Anthropic);
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
