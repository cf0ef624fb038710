//! The engine against llama.cpp on the same file: a tiny random-weight Llama GGUF is written
//! at test time by testdata/make_tiny_llama.py (the `gguf` package), llama.cpp (through
//! `llama-cpp-python`, testdata/llama_cpp_ref.py) tokenizes a few hundred strings and runs
//! greedy continuations with every position's logits, and this crate must agree:
//! - token ids equal llama.cpp's for every string (Unicode, digits, whitespace runs, code,
//!   special tokens), for both pre-tokenizers implemented (smollm, gpt-2);
//! - logits: cosine similarity ≥ 0.999 at every position of prompt + continuation;
//! - greedy: the same choice as llama.cpp wherever llama.cpp's best token leads its second by
//!   more than `DECIDED_MARGIN`, both along llama.cpp's continuation and decoding freely.
//!
//! Python comes from `WARDEN_INFERENCE_PYTHON` (default `python3`) and must import numpy,
//! gguf and llama_cpp; scripts/test.sh installs them. A missing module fails the test with
//! the command that installs it: the test never skips.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::path::{Path, PathBuf};

use inference::gguf::Gguf;
use inference::model::Model;
use inference::sample::argmax;
use inference::tokenizer::Tokenizer;
use serde_json::Value;

use common::{cosine, ids, run_python, testdata, tokenizer_strings, top2_margin, DECIDED_MARGIN};

fn make_model(dir: &Path, pre: &str) -> PathBuf {
    make_arch_model(dir, pre, "llama")
}

fn make_arch_model(dir: &Path, pre: &str, arch: &str) -> PathBuf {
    let path = dir.join(format!("tiny-{arch}-{pre}.gguf"));
    let script = testdata("make_tiny_llama.py");
    let (script, out) = (script.to_str().unwrap(), path.to_str().unwrap());
    run_python(&[script, out, "--pre", pre, "--arch", arch]);
    path
}

fn reference(dir: &Path, model: &Path, prompts: &[String], n_new: usize) -> Vec<Value> {
    let pj = dir.join(format!("prompts-{n_new}.json"));
    std::fs::write(&pj, serde_json::to_vec(prompts).unwrap()).unwrap();
    let script = testdata("llama_cpp_ref.py");
    let out = run_python(&[
        script.to_str().unwrap(),
        model.to_str().unwrap(),
        pj.to_str().unwrap(),
        &n_new.to_string(),
    ]);
    serde_json::from_slice::<Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn tokenizer_matches_llama_cpp_for_both_pre_tokenizers() {
    let dir = tempfile::tempdir().unwrap();
    let strings = tokenizer_strings();
    assert!(strings.len() >= 200, "{} strings", strings.len());
    for pre in ["smollm", "gpt-2"] {
        let model = make_model(dir.path(), pre);
        let refs = reference(dir.path(), &model, &strings, 0);
        let tok = Tokenizer::from_gguf(&Gguf::open(&model).unwrap()).unwrap();
        let mut bad = Vec::new();
        for (s, r) in strings.iter().zip(&refs) {
            let want = ids(&r["tokens"]);
            let got = tok.encode(s, true);
            if got != want {
                bad.push(format!("{s:?}: got {got:?}, llama.cpp {want:?}"));
            }
            // Decoding gives the text back (control tokens included when asked).
            assert_eq!(tok.decode(&got, true), *s, "round trip of {s:?}");
        }
        assert!(
            bad.is_empty(),
            "{pre}: {} of {} strings differ:\n{}",
            bad.len(),
            strings.len(),
            bad.join("\n")
        );
    }
}

#[test]
fn llama_logits_and_greedy_continuations_match_llama_cpp() {
    compare_with_llama_cpp("llama");
}

/// Qwen2: Q/K/V biases and RoPE on the halves of each head.
#[test]
fn qwen2_logits_and_greedy_continuations_match_llama_cpp() {
    compare_with_llama_cpp("qwen2");
}

fn compare_with_llama_cpp(arch: &str) {
    let dir = tempfile::tempdir().unwrap();
    let model_path = make_arch_model(dir.path(), "smollm", arch);
    let prompts: Vec<String> = [
        "The quick brown fox",
        "<|im_start|>user\nWhat does the gateway do?<|im_end|>\n<|im_start|>assistant\n",
        "def main():\n    return 42",
        "Numbers 1234567890 and 3.14159.",
        "Hello world, hello gateway!",
        "It's a test; we're testing what they've said",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let n_new = 24;
    let refs = reference(dir.path(), &model_path, &prompts, n_new);
    let model = Model::load(Gguf::open(&model_path).unwrap(), 2).unwrap();
    let tok = Tokenizer::from_gguf(model.gguf()).unwrap();
    let (mut worst_cos, mut worst_diff) = (1f64, 0f32);
    let (mut decided, mut positions, mut free_run_checked) = (0, 0, 0);
    for (p, r) in prompts.iter().zip(&refs) {
        let prompt_ids = ids(&r["tokens"]);
        assert_eq!(tok.encode(p, true), prompt_ids, "tokens of {p:?}");
        let want_new = ids(&r["greedy"]);
        let want_logits: Vec<Vec<f32>> = r["logits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| {
                row.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap() as f32)
                    .collect()
            })
            .collect();
        assert_eq!(want_logits.len(), prompt_ids.len() + n_new);

        // Teacher-forced over llama.cpp's sequence: logits per position, and the same greedy
        // choice wherever llama.cpp's choice is not a near-tie.
        let seq: Vec<u32> = prompt_ids.iter().chain(&want_new).copied().collect();
        let mut s = model.session(256).unwrap();
        for (i, (&t, want)) in seq.iter().zip(&want_logits).enumerate() {
            let got = s.step(t).unwrap();
            let c = cosine(got, want);
            worst_cos = worst_cos.min(c);
            let diff = got
                .iter()
                .zip(want)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            worst_diff = worst_diff.max(diff);
            assert!(c >= 0.999, "{p:?} position {i}: cosine {c}");
            positions += 1;
            if top2_margin(want) > DECIDED_MARGIN {
                decided += 1;
                assert_eq!(
                    argmax(got),
                    argmax(want),
                    "{p:?} position {i}: greedy choice"
                );
            }
        }

        // Free-running greedy decode: equal to llama.cpp's until its first near-tie.
        let mut s = model.session(256).unwrap();
        let mut logits = Vec::new();
        for &t in &prompt_ids {
            logits = s.step(t).unwrap().to_vec();
        }
        for (k, &want) in want_new.iter().enumerate() {
            if top2_margin(&want_logits[prompt_ids.len() - 1 + k]) <= DECIDED_MARGIN {
                break;
            }
            let next = argmax(&logits);
            assert_eq!(next, want, "{p:?}: greedy token {k} of the continuation");
            free_run_checked += 1;
            logits = s.step(next).unwrap().to_vec();
        }
    }
    eprintln!(
        "{arch} against llama.cpp: worst cosine {worst_cos:.6}, largest logit difference {worst_diff:.4}, \
         greedy choice checked at {decided} of {positions} positions, {free_run_checked} free-running tokens equal"
    );
    assert!(
        decided * 5 >= positions * 3,
        "too few decided positions ({decided} of {positions}) to mean anything"
    );
}

#[test]
fn unsupported_models_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = make_model(dir.path(), "smollm");
    let bytes = std::fs::read(&path).unwrap();
    // Same file, architecture renamed: the reason names it.
    let needle = b"llama";
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap();
    let mut renamed = bytes.clone();
    renamed[at..at + 5].copy_from_slice(b"gemma");
    let err = Model::load(Gguf::parse(renamed).unwrap(), 1)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("\"gemma\"") && err.contains("Llama-family"),
        "{err}"
    );
    // A session longer than the training context, a token past the vocabulary.
    let model = Model::load(Gguf::parse(bytes).unwrap(), 1).unwrap();
    assert!(model.session(257).is_err());
    let mut s = model.session(2).unwrap();
    assert!(s.step(model.vocab_size as u32).is_err());
    s.step(0).unwrap();
    s.step(1).unwrap();
    assert!(s.step(2).unwrap_err().to_string().contains("full"));
}

#[test]
fn a_truncated_or_corrupted_model_file_is_an_error_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(make_model(dir.path(), "smollm")).unwrap();
    let data_start = Gguf::parse(bytes.clone()).unwrap().data_offset as usize;
    // Every cut inside the header, metadata and tensor directory, and 200 cuts in the data.
    let cuts =
        (0..data_start).chain((0..200).map(|i| data_start + (bytes.len() - data_start) * i / 200));
    for len in cuts {
        assert!(
            Gguf::parse(bytes[..len].to_vec()).is_err(),
            "cut at {len} parsed"
        );
    }
    // Seeded byte corruptions of the metadata and directory: whatever parses must load (or
    // be refused), tokenize and run a step without panicking.
    let mut state = 0x9e37_79b9u64;
    for _ in 0..300 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let at = (state >> 33) as usize % data_start;
        let mut f = bytes.clone();
        f[at] ^= 1 << ((state >> 20) % 8);
        let Ok(g) = Gguf::parse(f) else { continue };
        if let Ok(tok) = Tokenizer::from_gguf(&g) {
            let _ = tok.encode("hello <|im_start|> 123", true);
        }
        if let Ok(model) = Model::load(g, 1) {
            if let Ok(mut s) = model.session(4) {
                let _ = s.step(1);
            }
        }
    }
}
