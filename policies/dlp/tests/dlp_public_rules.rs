#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Recall and precision of every detector on third-party material: the example secrets and
//! false-positive cases of public secret-scanner rule sets (gitleaks, trufflehog), written into
//! prompts, in `../shared/corpora/secrets-public-rules.jsonl` beside the repository (one JSON
//! object a line: `text`, the `expect`ed detector ids, the `src` it came from). The file is
//! not copied into this repository; the test fails, with where to put it, when it is missing.
//!
//! `cargo test -p dlp --test dlp_public_rules -- --nocapture` prints the table. Every
//! detector with examples must reach recall ≥ 0.98 and precision ≥ 0.99 under the shipped
//! `default` profile.

use dlp::{Detector, DlpEngine};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

const RECALL: f64 = 0.98;
const PRECISION: f64 = 0.99;

fn corpus_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpora/secrets-public-rules.jsonl")
}

#[test]
fn public_rule_examples_reach_the_targets() {
    let path = corpus_path();
    let data = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}. The public-rules corpus lives beside the repository in \
             ../shared/corpora/ (ask for secrets-public-rules.jsonl); it is not vendored.",
            path.display()
        )
    });
    let engine = DlpEngine::shipped().unwrap();
    // detector -> (tp, fp, fn)
    let mut tally: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut errors = Vec::new();
    let mut rows = 0;
    for line in data.lines().filter(|l| !l.trim().is_empty()) {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let text = row["text"].as_str().unwrap();
        let id = row["id"].as_str().unwrap_or("?");
        let expect: BTreeSet<String> = row["expect"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        for e in &expect {
            assert!(Detector::from_id(e).is_some(), "{id}: unknown detector {e}");
        }
        let result = engine.scan_profile("default", text).unwrap();
        let found: BTreeSet<String> = result
            .findings
            .iter()
            .map(|f| f.detector.to_string())
            .filter(|d| d != "source_code")
            .collect();
        rows += 1;
        for d in expect.union(&found) {
            let t = tally.entry(d.clone()).or_default();
            match (expect.contains(d), found.contains(d)) {
                (true, true) => t.0 += 1,
                (false, true) => {
                    t.1 += 1;
                    errors.push(format!("false {d} in {id}: {text:.120}"));
                }
                (true, false) => {
                    t.2 += 1;
                    errors.push(format!("missed {d} in {id}: {text:.120}"));
                }
                (false, false) => {}
            }
        }
    }
    println!("DLP on public rule examples ({rows} texts, shipped `default` profile)");
    println!("| detector | positives | TP | FP | FN | precision | recall |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut failing = Vec::new();
    for (d, (tp, fp, fn_)) in &tally {
        let precision = if tp + fp == 0 {
            1.0
        } else {
            *tp as f64 / (tp + fp) as f64
        };
        let recall = if tp + fn_ == 0 {
            1.0
        } else {
            *tp as f64 / (tp + fn_) as f64
        };
        println!(
            "| {d} | {} | {tp} | {fp} | {fn_} | {precision:.3} | {recall:.3} |",
            tp + fn_
        );
        if precision < PRECISION || recall < RECALL {
            failing.push(d.clone());
        }
    }
    for e in &errors {
        println!("  {e}");
    }
    assert!(rows > 100, "only {rows} rows in {}", path.display());
    assert!(failing.is_empty(), "below the targets: {failing:?}");
}
