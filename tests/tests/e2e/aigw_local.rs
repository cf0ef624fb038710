//! "Prompts we will not send outside still have a model" (issue 22): the on-box model
//! (SmolLM2-135M-Instruct Q4_1, scripts/fetch-smollm2.sh) served as the AI gateway's `local`
//! provider. The official `openai` and `anthropic` SDKs call `smollm2` through the gateway
//! with a virtual key — whole and streamed answers, usage counted by the engine, the call
//! logged — and the model's own loopback port refuses anyone without the gateway's secret.

use serde_json::json;

use crate::aigw::{plan, with, AiGateway, Extra};
use crate::support::curl;

fn model_path() -> String {
    let path = std::env::var("WARDEN_SMOLLM2_GGUF").unwrap_or_else(|_| {
        format!(
            "{}/.cache/warden/models/SmolLM2-135M-Instruct.Q4_1.gguf",
            std::env::var("HOME").unwrap()
        )
    });
    assert!(
        std::path::Path::new(&path).is_file(),
        "{path} is missing: run scripts/fetch-smollm2.sh (scripts/test.sh does)"
    );
    path
}

fn gateway() -> AiGateway {
    let model = model_path();
    AiGateway::start_extended(
        "[clickhouse]\nurl = \"http://127.0.0.1:1\"\n[events]\nenabled = false\n",
        move |_, _| {
            Extra {
            config: format!(
                "[[aigw.providers]]\nname = \"local\"\nkind = \"local\"\n\
                 [[aigw.models]]\nname = \"smollm2\"\nprovider = \"local\"\n\
                 [inference]\nmodel = \"{model}\"\nname = \"smollm2\"\nthreads = 2\nmax_tokens = 24\n"
            ),
            ..Extra::default()
        }
        },
    )
}

#[test]
fn the_openai_and_anthropic_sdks_get_answers_from_the_on_box_model() {
    let mut gw = gateway();
    let key = gw.virtual_key(&["--name", "private-app", "--user", "mia", "--team", "legal"]);
    // The anthropic client asks for 200 tokens (at its default temperature): [inference]
    // max_tokens = 24 lowers it (short answers: the SDKs here time out at 20 s).
    let ask = |sdk: &str| {
        let extra = match sdk {
            "openai" => json!({"max_tokens": 24, "temperature": 0}),
            _ => json!({}),
        };
        with(
            plan(sdk, &key, "smollm2", "What is the capital of France?"),
            "extra",
            extra,
        )
    };
    let streamed = with(
        with(ask("openai"), "stream", json!(true)),
        "include_usage",
        json!(true),
    );
    let answers = gw.clients(vec![ask("openai"), streamed, ask("anthropic")]);
    for a in &answers {
        assert_eq!(a["ok"], true, "{a:#}");
        assert!(
            !a["text"].as_str().unwrap_or_default().trim().is_empty(),
            "{a:#}"
        );
    }
    // Greedy: the same words whole and streamed.
    assert_eq!(answers[0]["text"], answers[1]["text"], "{answers:#?}");
    let usage = &answers[0]["usage"];
    assert!(usage["prompt_tokens"].as_u64().unwrap() > 10, "{usage}");
    assert!(
        (1..=24).contains(&usage["completion_tokens"].as_u64().unwrap()),
        "{usage}"
    );
    assert!(answers[1]["usage"]["completion_tokens"].as_u64().unwrap() >= 1);
    let line = gw.call_line(answers[0]["request_id"].as_str().unwrap());
    assert!(
        line.contains("provider=\"local\"") && line.contains("user=\"mia\""),
        "{line}"
    );

    // The models list names it.
    let models = gw.clients(vec![with(ask("openai"), "op", json!("models"))]);
    assert!(
        models[0]["models"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "smollm2"),
        "{models:#?}"
    );

    // The model's loopback port answers the gateway only.
    let log = gw.log();
    let port = log
        .split("local model listening on 127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .unwrap_or_else(|| panic!("no listening line in\n{log}"));
    let direct = curl(&[
        "-H",
        "content-type: application/json",
        "-d",
        r#"{"messages":[{"role":"user","content":"hi"}]}"#,
        &format!("http://127.0.0.1:{port}/v1/chat/completions"),
    ]);
    assert_eq!(direct.status, 401, "{}", direct.body_text());
}
