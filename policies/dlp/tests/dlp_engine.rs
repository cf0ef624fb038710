#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The DLP engine through the public API, the way the daemon uses it: one shared engine,
//! profiles named by policy rules, redaction of what was found, and bounded work on hostile
//! input.

use dlp::samples::{Sample, SampleRng};
use dlp::{redact, DlpEngine, DlpScanner, Finding};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn assert_shareable<T: Send + Sync + 'static>() {}

#[test]
fn one_engine_serves_many_threads() {
    assert_shareable::<DlpEngine>();
    let engine = Arc::new(DlpEngine::shipped().unwrap());
    let handles: Vec<_> = (0..4u64)
        .map(|seed| {
            let engine = Arc::clone(&engine);
            std::thread::spawn(move || {
                let key = Sample::GithubToken.generate(&mut SampleRng::new(seed));
                let scanner: &dyn DlpScanner = &*engine;
                scanner.scan("credentials", &format!("token {key}")).len()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 1);
    }
}

#[test]
fn a_prompt_is_redacted_before_it_leaves() {
    let engine = DlpEngine::shipped().unwrap();
    let mut rng = SampleRng::new(3);
    let key = Sample::OpenaiProjectKey.generate(&mut rng);
    let card = "4556 7375 8689 9855";
    let prompt = format!("Why does my call fail? key={key} and I paid with card {card}.");
    let result = engine.scan_profile("default", &prompt).unwrap();
    assert!(result.matched);
    let ids: Vec<&str> = result.findings.iter().map(|f| &*f.detector).collect();
    assert_eq!(ids, ["openai_api_key", "credit_card"]);
    let safe = redact(&prompt, &result.findings);
    assert_eq!(
        safe,
        "Why does my call fail? key=[REDACTED:openai_api_key] and I paid with card [REDACTED:credit_card]."
    );
    let json_lines: Vec<String> = result
        .findings
        .iter()
        .map(|f| serde_json::to_string(f).unwrap())
        .collect();
    assert!(json_lines
        .iter()
        .all(|l| !l.contains(&key[10..30]) && !l.contains("7375 8689")));
    let back: Finding = serde_json::from_str(&json_lines[1]).unwrap();
    assert_eq!(
        (back.start, back.end),
        (result.findings[1].start, result.findings[1].end)
    );
}

/// Inputs built to make a naive scanner quadratic or a prefilter fire on every byte.
fn hostile(len: usize) -> Vec<(&'static str, String)> {
    let fill = |unit: &str| unit.repeat(len / unit.len());
    vec![
        (
            "anchors everywhere",
            fill("AKIA sk- eyJ. xoxb- -----BEGIN ghp_ @ "),
        ),
        ("digits", fill("4111 ")),
        ("one long number", "7".repeat(len)),
        ("ats", fill("a@b.")),
        ("jwt-ish", fill("eyJhbGciOiJub25lIn0.")),
        ("pem headers", fill("-----BEGIN PRIVATE KEY-----\nMIIE")),
        (
            "base64",
            fill("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0123456789+/"),
        ),
        ("code lines", fill("x = f(y);\n")),
        ("no newlines", fill("word ")),
    ]
}

#[test]
fn hostile_input_is_scanned_in_bounded_time() {
    let engine = DlpEngine::shipped().unwrap();
    // Debug builds are slow; the bound is about work growing with the input, not speed.
    for (name, text) in hostile(256 * 1024) {
        let started = Instant::now();
        let result = engine.scan_profile("default", &text).unwrap();
        let took = started.elapsed();
        assert!(took < Duration::from_secs(20), "{name}: {took:?}");
        assert!(
            result.findings.len() <= text.len() / 8,
            "{name}: {} findings",
            result.findings.len()
        );
    }
}
