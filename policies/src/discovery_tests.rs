//! Discovery tables: traffic facts in, reasons and confidence out.

use super::*;

fn post(path: &str) -> TrafficFacts<'_> {
    TrafficFacts {
        method: "POST",
        path,
        ..TrafficFacts::default()
    }
}

fn apis(facts: &TrafficFacts<'_>) -> Option<(Vec<Reason>, Confidence)> {
    discover(facts).map(|d| (d.reasons, d.confidence))
}

#[test]
fn completion_paths_are_flagged() {
    let cases: &[(&str, Option<(&str, Confidence)>)] = &[
        (
            "/v1/chat/completions",
            Some(("openai-chat", Confidence::Medium)),
        ),
        (
            "/openai/deployments/gpt4/chat/completions?api-version=2024",
            Some(("openai-chat", Confidence::Medium)),
        ),
        (
            "/v1/completions",
            Some(("openai-completions", Confidence::Medium)),
        ),
        (
            "/v1/messages",
            Some(("anthropic-messages", Confidence::Medium)),
        ),
        (
            "/v1/responses/",
            Some(("openai-responses", Confidence::Medium)),
        ),
        ("/api/generate", Some(("ollama", Confidence::Low))),
        ("/api/chat", Some(("ollama", Confidence::Low))),
        (
            "/v1beta/models/gemini-1.5-pro:generateContent",
            Some(("gemini", Confidence::Medium)),
        ),
        (
            "/v1beta/models/gemini-2.0:streamGenerateContent?alt=sse",
            Some(("gemini", Confidence::Medium)),
        ),
        (
            "/v1/embeddings",
            Some(("openai-embeddings", Confidence::Low)),
        ),
        ("/api/chatter", None),
        ("/v1/messages/archive", None),
        ("/models/gemini:generateContent", None),
        ("/", None),
    ];
    for (path, want) in cases {
        let got = apis(&post(path));
        let want = want.map(|(api, c)| (vec![Reason::ApiPath { api }], c));
        assert_eq!(got, want, "{path}");
    }
    let get = TrafficFacts {
        method: "GET",
        ..post("/v1/chat/completions")
    };
    assert_eq!(discover(&get), None, "completions are POSTed");
}

#[test]
fn provider_keys_are_recognised_without_echoing_them() {
    let fake = |prefix: &str, n: usize| format!("{prefix}{}", "a1B2".repeat(n / 4 + 1));
    let cases: &[(String, Option<(&str, Confidence)>)] = &[
        (
            format!("Bearer {}", fake("sk-ant-api03-", 90)),
            Some(("anthropic", Confidence::High)),
        ),
        (
            format!("bearer {}", fake("sk-proj-", 120)),
            Some(("openai", Confidence::High)),
        ),
        (
            fake("sk-", 48),
            Some(("openai-compatible", Confidence::Medium)),
        ),
        (
            format!("sk-or-v1-{}", "ab12".repeat(16)),
            Some(("openrouter", Confidence::High)),
        ),
        (fake("gsk_", 52), Some(("groq", Confidence::High))),
        (fake("xai-", 80), Some(("xai", Confidence::High))),
        (fake("AIza", 35), Some(("google", Confidence::Medium))),
        (fake("hf_", 34), Some(("huggingface", Confidence::High))),
        (fake("r8_", 37), Some(("replicate", Confidence::High))),
        (fake("pplx-", 48), Some(("perplexity", Confidence::High))),
        ("Bearer sk-short".to_owned(), None),
        ("Basic dXNlcjpwYXNz".to_owned(), None),
        (format!("Bearer {}", fake("sk-", 2000)), None),
        (format!("sk-{} x", "a".repeat(40)), None),
    ];
    for (header, want) in cases {
        let facts = TrafficFacts {
            method: "GET",
            path: "/",
            authorization: Some(header),
            ..Default::default()
        };
        let got = discover(&facts);
        let want = want.map(|(provider, c)| (vec![Reason::ProviderKey { provider }], c));
        assert_eq!(
            got.clone().map(|d| (d.reasons, d.confidence)),
            want,
            "{header}"
        );
        if let Some(d) = got {
            assert!(!serde_json::to_string(&d)
                .unwrap()
                .contains(&header[header.len() - 8..]));
        }
    }
    let x_api_key = TrafficFacts {
        method: "GET",
        path: "/",
        api_key: Some("sk-ant-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        ..Default::default()
    };
    assert!(discover(&x_api_key).is_some());
}

#[test]
fn streamed_completions_are_recognised() {
    let sse = |chunk: &'static [u8]| TrafficFacts {
        method: "GET",
        path: "/stream",
        response_content_type: Some("text/event-stream; charset=utf-8"),
        first_chunk: Some(chunk),
        ..Default::default()
    };
    let openai = br#"data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"}}]}"#;
    let anthropic = b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\"Hi\"}}";
    let cases: &[(&'static [u8], Option<&str>)] = &[
        (openai, Some("openai-sse")),
        (anthropic, Some("anthropic-sse")),
        (
            b"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}]}}]}",
            Some("gemini-sse"),
        ),
        (b"data: {\"price\": 3}\n\n", None),
        (b"", None),
    ];
    for (chunk, want) in cases {
        let got = apis(&sse(chunk));
        let want = want.map(|shape| (vec![Reason::CompletionStream { shape }], Confidence::High));
        assert_eq!(got, want, "{}", String::from_utf8_lossy(chunk));
    }
    let json = TrafficFacts {
        response_content_type: Some("application/json"),
        ..sse(openai)
    };
    assert_eq!(
        discover(&json),
        None,
        "only streams are judged by their first chunk"
    );
    let ndjson = TrafficFacts {
        response_content_type: Some("application/x-ndjson"),
        first_chunk: Some(b"{\"model\":\"llama3\",\"response\":\"Hi\",\"done\":false}\n"),
        ..sse(b"")
    };
    assert_eq!(apis(&ndjson).map(|a| a.1), Some(Confidence::Medium));
}

#[test]
fn agreeing_evidence_raises_confidence() {
    let facts = TrafficFacts {
        authorization: Some("Bearer sk-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        ..post("/api/chat")
    };
    let d = discover(&facts).unwrap();
    assert_eq!(d.reasons.len(), 2);
    assert_eq!(d.confidence, Confidence::High);
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["reasons"][0]["kind"], "api_path");
    assert_eq!(json["confidence"], "high");
}
