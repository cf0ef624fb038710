//! "One endpoint in front of every provider", AWS Bedrock (issue 19): the official `openai`
//! and `anthropic` Python SDKs, changing only their base URL, reach a Bedrock runtime
//! (tests/fixtures/mock_bedrock.py) through Warden's Converse translation: whole answers
//! and ConverseStream's binary event-stream (cut at odd byte boundaries), a tool call, usage
//! by AWS's rules in the log line. The mock VERIFIES every request's SigV4 signature with
//! botocore, over a model id whose `:` is percent-encoded in the path: a call that arrives
//! at all was signed right. A throttle is a 429 with retry-after in each caller's dialect, a
//! signature made with the wrong secret a 502 telling the operator to check the key, and
//! neither secret access key appears in any answer, log, error or state file.

use serde_json::{json, Value};

use crate::aigw::{field, plan, with, AiGateway, Extra, MockProvider, ANTHROPIC_KEY, OPENAI_KEY};

const ACCESS_KEY_ID: &str = "AKIAMOCKBEDROCK7Q2X";
const SECRET: &str = "Bm0ckSecretAccessKey/9xQ2+Lp7Rt4Zw8Vn3Kd5HfYc";
/// The same access key id with a secret that is not its own: every signature is wrong.
const WRONG_SECRET: &str = "Wr0ngSecretAccessKey/5tY7+Qa2Sd9Fg1Hj6Kl3MzXc";
const MODEL: &str = "anthropic.claude-3-haiku-20240307-v1:0";

fn bedrock_extra(python: &std::path::Path, dir: &std::path::Path) -> Extra {
    let expected = format!("{ACCESS_KEY_ID}:{SECRET}");
    let mock = MockProvider::start(python, dir, "mock_bedrock.py", &expected);
    let port = mock.port;
    Extra {
        config: format!(
            r#"[[aigw.providers]]
name = "bedrock"
kind = "bedrock"
base_url = "http://127.0.0.1:{port}"
region = "us-east-1"
key = "bedrock-prod"
[[aigw.providers]]
name = "bedrock-wrong"
kind = "bedrock"
base_url = "http://127.0.0.1:{port}"
region = "us-east-1"
key = "bedrock-wrong"
[[aigw.models]]
name = "haiku-bedrock"
provider = "bedrock"
model = "{MODEL}"
"#
        ),
        keys: vec![
            ("bedrock-prod".into(), "bedrock".into(), expected),
            (
                "bedrock-wrong".into(),
                "bedrock".into(),
                format!("{ACCESS_KEY_ID}:{WRONG_SECRET}"),
            ),
        ],
        mocks: vec![mock],
        ..Extra::default()
    }
}

#[test]
fn both_sdks_reach_bedrock_signed_whole_streamed_and_with_tools() {
    let mut gw = AiGateway::start_extended(
        "[clickhouse]\nurl = \"http://127.0.0.1:1\"\n[events]\nenabled = false\n",
        bedrock_extra,
    );
    let key = gw.virtual_key(&["--name", "dev", "--user", "dana", "--team", "ml"]);
    let o = |prompt: &str| plan("openai", &key, "haiku-bedrock", prompt);
    let a = |prompt: &str| plan("anthropic", &key, "haiku-bedrock", prompt);
    let stream = |p: Value| with(p, "stream", json!(true));
    let tools = |p: Value| with(p, "tools", json!(true));
    let results = gw.clients(vec![
        o("hello"),
        with(stream(o("hello")), "include_usage", json!(true)),
        tools(o("weather in Paris?")),
        stream(tools(o("weather in Paris?"))),
        o("please throttle me"),
        o("invalid please"),
        stream(o("mid-stream-error")),
        with(o("hello"), "extra", json!({"seed": 7})),
        plan("openai", &key, "bedrock/../x", "hello"),
        plan("openai", &key, &format!("bedrock-wrong/{MODEL}"), "hello"),
        a("hello"),
        stream(a("hello")),
        tools(a("weather in Paris?")),
        stream(tools(a("weather in Paris?"))),
        a("please throttle me"),
        plan(
            "anthropic",
            &key,
            &format!("bedrock-wrong/{MODEL}"),
            "hello",
        ),
    ]);
    let all = Value::Array(results.clone()).to_string();
    let [o_chat, o_stream, o_tools, o_tools_stream, o_429, o_invalid, o_cut, o_seed, o_path, o_wrong, a_chat, a_stream, a_tools, a_tools_stream, a_429, a_wrong] =
        <[Value; 16]>::try_from(results).unwrap();

    let text = "Bonjour, café ☕ from mock-bedrock";
    assert_eq!(
        (o_chat["text"].as_str(), o_chat["finish"].as_str()),
        (Some(text), Some("stop")),
        "{o_chat}"
    );
    assert_eq!(o_chat["model"], MODEL, "{o_chat}");
    // AWS's rules: inputTokens leaves out cache reads and writes; OpenAI's prompt_tokens
    // holds them all.
    let usage = &o_chat["usage"];
    assert_eq!(
        [
            &usage["prompt_tokens"],
            &usage["completion_tokens"],
            &usage["prompt_tokens_details"]["cached_tokens"],
        ]
        .map(|v| v.as_u64().unwrap()),
        [27, 9, 6],
        "{o_chat}"
    );
    assert_eq!(o_stream["text"], text, "{o_stream}");
    assert_eq!(o_stream["usage_chunks"], 1, "{o_stream}");
    assert_eq!(
        o_stream["usage"], o_chat["usage"],
        "streamed usage = whole usage"
    );
    for t in [&o_tools, &o_tools_stream] {
        assert_eq!(t["finish"], "tool_calls", "{t}");
        assert_eq!(t["tool_names"], json!(["get_weather"]), "{t}");
        let args: Value = serde_json::from_str(t["tool_args"][0].as_str().unwrap()).unwrap();
        assert_eq!(args["city"], "Paris", "{t}");
    }
    // Bedrock throttles without a retry-after: the gateway's 429 still says when.
    for (r, kind) in [
        (&o_429, o_429["body"]["type"].as_str()),
        (&a_429, a_429["body"]["error"]["type"].as_str()),
    ] {
        assert_eq!(r["status"], 429, "{r}");
        assert_eq!(kind, Some("rate_limit_error"), "{r}");
        assert!(r["headers"]["retry-after"].as_str().is_some(), "{r}");
        assert!(
            r["message"]
                .as_str()
                .unwrap()
                .contains("ThrottlingException"),
            "{r}"
        );
    }
    assert_eq!(o_invalid["status"], 400, "{o_invalid}");
    assert!(
        o_invalid["message"]
            .as_str()
            .unwrap()
            .contains("ValidationException"),
        "{o_invalid}"
    );
    assert!(
        o_cut["ok"] == false && o_cut["message"].as_str().unwrap().contains("overloaded"),
        "{o_cut}"
    );
    assert_eq!(
        (o_seed["status"].as_u64(), o_seed["body"]["param"].as_str()),
        (Some(400), Some("seed")),
        "{o_seed}"
    );
    assert_eq!(
        (o_path["status"].as_u64(), o_path["body"]["param"].as_str()),
        (Some(400), Some("model")),
        "{o_path}"
    );
    // The wrong secret: Bedrock refuses the signature; the operator is told to check the key.
    for r in [&o_wrong, &a_wrong] {
        assert_eq!(r["status"], 502, "{r}");
        let message = r["message"].as_str().unwrap();
        assert!(
            message.contains("InvalidSignatureException") && message.contains("check the key"),
            "{r}"
        );
    }

    assert_eq!(
        (a_chat["text"].as_str(), a_chat["stop"].as_str()),
        (Some(text), Some("end_turn")),
        "{a_chat}"
    );
    let usage = &a_chat["usage"];
    assert_eq!(
        [
            &usage["input_tokens"],
            &usage["output_tokens"],
            &usage["cache_read_input_tokens"],
            &usage["cache_creation_input_tokens"],
        ]
        .map(|v| v.as_u64().unwrap()),
        [18, 9, 6, 3],
        "Anthropic's input_tokens leaves the cache out, as Bedrock's does: {a_chat}"
    );
    assert_eq!(a_stream["text"], text, "{a_stream}");
    assert_eq!(a_stream["usage"]["output_tokens"], 9, "{a_stream}");
    assert_eq!(
        a_stream["usage"]["cache_creation_input_tokens"], 3,
        "{a_stream}"
    );
    for t in [&a_tools, &a_tools_stream] {
        assert_eq!(
            (t["stop"].as_str(), t["tool_inputs"][0]["city"].as_str()),
            (Some("tool_use"), Some("Paris")),
            "{t}"
        );
    }

    // What Bedrock received: Converse paths with the model id's `:` as %3A, signed (the mock
    // verified each signature; here: the header's shape), no other credential.
    let upstream = gw.extra[0].requests();
    assert!(upstream.len() >= 14, "{upstream:?}");
    let encoded = MODEL.replace(':', "%3A");
    for r in &upstream {
        let path = r["path"].as_str().unwrap();
        assert!(
            path == format!("/model/{encoded}/converse")
                || path == format!("/model/{encoded}/converse-stream"),
            "{path}"
        );
        let headers = &r["headers"];
        let auth = headers["authorization"].as_str().unwrap();
        assert!(
            auth.starts_with(&format!("AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/"))
                && auth.contains("/us-east-1/bedrock/aws4_request"),
            "{auth}"
        );
        assert!(headers.get("x-api-key").is_none(), "{r}");
        let body: Value = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
        assert!(
            body.get("model").is_none() && body.get("stream").is_none(),
            "{body}"
        );
        assert_eq!(body["messages"][0]["role"], "user", "{body}");
    }

    // The log: tokens of each call, streamed or not, by AWS's rules.
    for (result, stream) in [(&o_chat, "false"), (&o_stream, "true"), (&a_stream, "true")] {
        let line = gw.call_line(result["request_id"].as_str().unwrap());
        for (name, value) in [
            ("provider", "bedrock"),
            ("stream", stream),
            ("status", "200"),
            ("input_tokens", "27"),
            ("cached_tokens", "6"),
            ("cache_write_tokens", "3"),
            ("output_tokens", "9"),
        ] {
            assert_eq!(field(&line, name), value, "{name} in {line}");
        }
    }

    gw.assert_no_key_anywhere(&all, &[SECRET, WRONG_SECRET, OPENAI_KEY, ANTHROPIC_KEY]);
}
