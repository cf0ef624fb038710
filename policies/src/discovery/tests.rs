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
        // A platform's key format alone is not enough (see `platform_keys_alone...`).
        (fake("sk-", 48), None),
        (
            format!("sk-or-v1-{}", "ab12".repeat(16)),
            Some(("openrouter", Confidence::High)),
        ),
        (fake("gsk_", 52), Some(("groq", Confidence::High))),
        (fake("xai-", 80), Some(("xai", Confidence::High))),
        (fake("AIza", 35), None),
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

#[test]
fn platform_keys_alone_and_shared_platform_hosts_are_not_shadow_ai() {
    // Chromium's own autofill calls (issue 24, bug 3): an `AIza` key to a Google API host.
    let autofill = TrafficFacts {
        host: "content-autofill.googleapis.com",
        method: "POST",
        path: "/v1/pages/ChVDaHJvbWUvMTIw",
        api_key: Some(concat!("AIza", "SyA2KlwBX3mkFo30om9LUFYQhpqLoa_BNhE")),
        ..Default::default()
    };
    assert_eq!(discover(&autofill), None);
    // An AI provider's own key format to a shared platform host: still not enough alone.
    let on_platform = TrafficFacts {
        host: "my-func.azurewebsites.windows.net",
        method: "POST",
        path: "/",
        authorization: Some("Bearer sk-ant-api03-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        ..Default::default()
    };
    assert_eq!(discover(&on_platform), None);
    // ... but it corroborates a completion path there.
    let with_path = TrafficFacts {
        path: "/v1/messages",
        ..on_platform
    };
    let found = discover(&with_path).unwrap();
    assert_eq!(found.reasons.len(), 2);
    assert_eq!(found.confidence, Confidence::High);
    // An AI provider's key to a host of its own still counts alone.
    let reseller = TrafficFacts {
        host: "api.some-reseller.example",
        ..on_platform
    };
    assert!(discover(&reseller).is_some());
    // A Google key with a Gemini path on an unknown host: both count.
    let gemini = TrafficFacts {
        host: "llm-proxy.example",
        method: "POST",
        path: "/v1beta/models/gemini-2.0-flash:generateContent",
        api_key: Some(concat!("AIza", "SyA2KlwBX3mkFo30om9LUFYQhpqLoa_BNhE")),
        ..Default::default()
    };
    assert_eq!(discover(&gemini).unwrap().reasons.len(), 2);
    assert!(!web::shared_platform_host("notgoogleapis.com"));
    assert!(web::shared_platform_host("GoogleApis.com."));
    assert!(!web::shared_platform_host("\u{e9}xample.googleapis.co"));
}

#[test]
fn chat_web_apps_are_recognised_by_their_backends_bodies_streams_and_sockets() {
    let cases: &[(&str, Option<&str>)] = &[
        ("/backend-api/conversation", Some("chatgpt-style")),
        ("/backend-api/f/conversation?x=1", Some("chatgpt-style")),
        (
            "/api/organizations/0f1e/chat_conversations/9a8b/completion",
            Some("claude-style"),
        ),
        (
            "/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate",
            Some("gemini-web"),
        ),
        ("/api/chat/completions", Some("chat-ui")),
        ("/backend-api/models", None),
        ("/api/organizations/0f1e/members", None),
        ("/_/", None),
    ];
    for (path, want) in cases {
        let got = discover(&post(path)).map(|d| d.reasons);
        let want = want.map(|shape| vec![Reason::WebBackend { shape }]);
        // `/api/chat/completions` also ends like the OpenAI API path.
        if *path == "/api/chat/completions" {
            assert!(got
                .unwrap()
                .contains(&Reason::WebBackend { shape: "chat-ui" }));
            continue;
        }
        assert_eq!(got, want, "{path}");
    }
    let get = TrafficFacts {
        method: "GET",
        ..post("/backend-api/conversation")
    };
    assert_eq!(discover(&get), None, "reading is not prompting");

    let body = |b: &'static [u8]| TrafficFacts {
        request_first_chunk: Some(b),
        ..post("/v2/send")
    };
    for (chunk, family) in [
        (
            &br#"{"model": "gpt-4o-mini", "messages": []}"#[..],
            Some("openai"),
        ),
        (
            br#"{"stream":true,"model":"claude-3-5-sonnet-20241022"}"#,
            Some("anthropic"),
        ),
        (
            br#"{"model":"meta-llama/Llama-3.3-70B-Instruct"}"#,
            Some("meta"),
        ),
        (br#"{"model":"openrouter/qwen/qwen-2.5-72b"}"#, Some("qwen")),
        (br#"{"model":"deepseek-chat"}"#, Some("deepseek")),
        (br#"{"model":"my-house-model"}"#, None),
        (br#"{"modelName":"gpt-4"}"#, None),
        (br#"{"model": 4}"#, None),
        (br#"{"model":"gpt-4"#, None),
        (b"", None),
    ] {
        let got = discover(&body(chunk)).map(|d| d.reasons);
        let want = family.map(|family| vec![Reason::ModelName { family }]);
        assert_eq!(got, want, "{}", String::from_utf8_lossy(chunk));
    }

    let sse = |chunk: &'static [u8]| TrafficFacts {
        method: "POST",
        path: "/x",
        response_content_type: Some("text/event-stream"),
        first_chunk: Some(chunk),
        ..Default::default()
    };
    let chatgpt = br#"data: {"message": {"content": {"parts": ["Hi"]}}, "conversation_id": "c1"}"#;
    assert_eq!(
        discover(&sse(chatgpt)).map(|d| d.reasons),
        Some(vec![Reason::CompletionStream {
            shape: "chatgpt-style-sse"
        }])
    );
    let claude = b"event: completion\ndata: {\"completion\": \"Hi\", \"stop_reason\": null}";
    assert!(discover(&sse(claude)).is_some());
    assert_eq!(discover(&sse(b"data: {\"conversation_id\": 1}")), None);

    let socket = |path: &'static str| TrafficFacts {
        method: "GET",
        path,
        websocket: true,
        ..Default::default()
    };
    assert_eq!(
        discover(&socket("/ws/chat")).map(|d| (d.reasons, d.confidence)),
        Some((vec![Reason::ChatSocket], Confidence::Low))
    );
    assert_eq!(discover(&socket("/socket.io/")), None);
    assert_eq!(
        discover(&TrafficFacts {
            websocket: false,
            ..socket("/ws/chat")
        }),
        None
    );
}
