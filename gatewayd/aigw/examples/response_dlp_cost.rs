//! What DLP on a streamed answer adds: one long OpenAI stream (2,000 deltas of one word each,
//! prose with numbers, dates and a little code, about 14 KB of text) parsed and relayed to an
//! OpenAI caller as the gateway's relay does it (SSE parser, then the stream translator), with
//! `response_dlp` off, monitor and redact (nothing to find, so redact holds back and releases
//! but never masks; block costs the same), in the same run, interleaved, best of ten rounds.
//! Run with `cargo run --release -p aigw --example response_dlp_cost`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aigw::response_dlp::ResponseScanner;
use aigw::response_stream::{Events, StreamGuard};
use aigw::sse::SseParser;
use aigw::translate::stream::{StreamState, StreamTranslator};
use config::AigwResponseDlp;

const WORDS: &[&str] = &[
    "The",
    "quarterly",
    "report",
    "shows",
    "revenue",
    "of",
    "4.2",
    "million",
    "in",
    "2025-03-31,",
    "up",
    "12%",
    "from",
    "last",
    "year.",
    "Call",
    "fetch(url)",
    "then",
    "parse",
    "the",
    "JSON;",
    "retry",
    "3",
    "times",
    "with",
    "a",
    "backoff",
    "of",
    "250",
    "ms.",
    "Order",
    "#18342",
    "ships",
    "on",
    "Monday",
    "to",
    "Paris,",
    "café",
    "included",
    "☕.",
];

fn stream_bytes(deltas: usize) -> Vec<u8> {
    let mut out = String::new();
    for i in 0..deltas {
        let word = WORDS[i % WORDS.len()];
        let chunk = serde_json::json!({"id": "chatcmpl-b", "object": "chat.completion.chunk",
            "created": 1_700_000_000, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": {"content": format!(" {word}")}, "finish_reason": null}]});
        out.push_str(&format!("data: {chunk}\n\n"));
    }
    out.push_str("data: {\"id\":\"chatcmpl-b\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
    out.push_str("data: [DONE]\n\n");
    out.into_bytes()
}

/// Relays `bytes` (fed in 512-byte network reads); returns the caller's bytes.
fn relay(bytes: &[u8], scanner: Option<&Arc<ResponseScanner>>) -> usize {
    let mut parser = SseParser::default();
    let mut translator = StreamTranslator::OpenAi {
        caller_wants_usage: false,
    };
    let mut state = StreamState::default();
    let mut guard = scanner.map(|s| StreamGuard::new(s.clone(), Events::Chat, false));
    let mut sent = 0;
    for read in bytes.chunks(512) {
        for event in parser.feed(read).unwrap_or_default() {
            let events = match &mut guard {
                Some(guard) => guard.event(&event).unwrap_or_default(),
                None => vec![event],
            };
            for event in &events {
                sent += translator
                    .event(event, &mut state)
                    .iter()
                    .map(|b| b.len())
                    .sum::<usize>();
            }
        }
    }
    sent
}

fn scanner(mode: AigwResponseDlp) -> Result<Option<Arc<ResponseScanner>>, String> {
    let aigw = config::AigwConfig {
        response_dlp: mode,
        response_dlp_profile: Some("default".into()),
        ..config::AigwConfig::default()
    };
    Ok(ResponseScanner::new(&aigw)?.map(Arc::new))
}

fn main() -> Result<(), String> {
    let deltas = 2_000;
    let bytes = stream_bytes(deltas);
    let modes = [
        ("off", scanner(AigwResponseDlp::Off)?),
        ("monitor", scanner(AigwResponseDlp::Monitor)?),
        ("redact", scanner(AigwResponseDlp::Redact)?),
    ];
    let streams = 20;
    let mut best = [Duration::MAX; 3];
    for _round in 0..10 {
        for (i, (_, scanner)) in modes.iter().enumerate() {
            let started = Instant::now();
            for _ in 0..streams {
                std::hint::black_box(relay(&bytes, scanner.as_ref()));
            }
            best[i] = best[i].min(started.elapsed() / streams);
        }
    }
    println!(
        "one stream of {deltas} deltas, {} bytes from the provider:",
        bytes.len()
    );
    for (i, (name, _)) in modes.iter().enumerate() {
        let per_stream = best[i];
        let per_delta = per_stream.as_nanos() as f64 / deltas as f64;
        let added = per_stream.saturating_sub(best[0]).as_nanos() as f64 / deltas as f64;
        println!(
            "  response_dlp = {name:8} {:8.2} ms per stream, {per_delta:7.0} ns per delta, {added:7.0} ns per delta added",
            per_stream.as_secs_f64() * 1e3
        );
    }
    Ok(())
}
