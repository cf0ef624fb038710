use std::net::SocketAddr;

use serde_json::json;

use super::*;

pub(crate) fn scanner(mode: AigwResponseDlp, profile: &str) -> ResponseScanner {
    let aigw = config::AigwConfig {
        response_dlp: mode,
        response_dlp_profile: Some(profile.into()),
        ..config::AigwConfig::default()
    };
    ResponseScanner::new(&aigw).unwrap().unwrap()
}

fn record() -> CallRecord {
    let peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
    CallRecord::new(peer, Dialect::OpenAi, "chat_completions")
}

const CARD: &str = "4539 1488 0343 6467";

fn openai_answer(text: &str) -> Bytes {
    Bytes::from(
        json!({"id": "chatcmpl-1", "object": "chat.completion", "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "logprobs": {"content": [{"token": "4539"}]}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 2}})
        .to_string(),
    )
}

#[test]
fn a_whole_answer_is_blocked_by_name_redacted_in_place_or_passed_and_recorded() {
    let answer = openai_answer(&format!("your card is {CARD}, keep it"));
    let mut r = record();
    let err = scanner(AigwResponseDlp::Block, "default")
        .whole(Dialect::OpenAi, answer.clone(), &mut r)
        .unwrap_err();
    let body = err.body(Dialect::OpenAi).to_string();
    assert!(
        body.contains("credit_card")
            && body.contains("response_dlp_blocked")
            && !body.contains("1488"),
        "{body}"
    );
    assert_eq!(err.status(), 403);
    assert_eq!(r.response_findings.detectors(), ["credit_card"]);
    assert_eq!(r.response_findings.total(), 1);
    assert!(!r.response_findings.0["credit_card"]
        .snippet
        .contains("1488 0343"));

    let mut r = record();
    let masked = scanner(AigwResponseDlp::Redact, "default")
        .whole(Dialect::OpenAi, answer.clone(), &mut r)
        .unwrap();
    let masked = String::from_utf8(masked.to_vec()).unwrap();
    assert!(
        masked.contains("your card is [REDACTED:credit_card], keep it") && !masked.contains("4539"),
        "{masked}"
    );
    assert_eq!(r.response_dlp_action, Some("redact"));

    let mut r = record();
    let passed = scanner(AigwResponseDlp::Monitor, "default")
        .whole(Dialect::OpenAi, answer.clone(), &mut r)
        .unwrap();
    assert_eq!(passed, answer);
    assert_eq!(r.response_dlp_action, Some("log"));
    assert_eq!(r.response_findings.detectors(), ["credit_card"]);

    let clean = openai_answer("Bonjour, café");
    let mut r = record();
    let same = scanner(AigwResponseDlp::Block, "default")
        .whole(Dialect::OpenAi, clean.clone(), &mut r)
        .unwrap();
    assert_eq!(same, clean);
    assert!(r.response_findings.is_empty() && r.response_dlp_action.is_none());
}

#[test]
fn anthropic_text_and_tool_inputs_are_scanned() {
    let key = "AKIAQ7RZ4XH2LMNB5TWE";
    let answer = Bytes::from(
        json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
            "content": [{"type": "text", "text": "Here:"}, {"type": "tool_use", "id": "t1", "name": "deploy", "input": {"aws": {"key": key}}}],
            "stop_reason": "tool_use", "usage": {"input_tokens": 1, "output_tokens": 2}})
        .to_string(),
    );
    let mut r = record();
    let err = scanner(AigwResponseDlp::Block, "credentials")
        .whole(Dialect::Anthropic, answer.clone(), &mut r)
        .unwrap_err();
    assert!(err.to_string().contains("aws_access_key_id"), "{err}");
    let masked = scanner(AigwResponseDlp::Redact, "credentials")
        .whole(Dialect::Anthropic, answer, &mut record())
        .unwrap();
    let masked = String::from_utf8(masked.to_vec()).unwrap();
    assert!(
        !masked.contains(key) && masked.contains("[REDACTED:aws_access_key_id]"),
        "{masked}"
    );
}
