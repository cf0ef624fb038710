//! DLP scan throughput: every detector of the shipped `default` profile over 1 MB of benign
//! English prose, 1 MB of source code and 1 MB of secret-dense text, against a naive baseline
//! measured in the same run: every detector's whole regex over the whole input, one after the
//! other, with no prefilter and no windows (the way gitleaks runs its rules).
//!
//! Throughput is in bytes, so criterion prints MB/s (MiB/s). One core: criterion runs the
//! closure on the calling thread.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use dlp::samples::{prose, secret_dense, SampleRng};
use dlp::{naive_patterns, DlpEngine};
use regex::bytes::{Regex, RegexBuilder};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

const SIZE: usize = 1 << 20;

/// Source files to repeat into 1 MB of code: the corpus's samples in ten languages and the Rust
/// of the `policies` crate beside this one (not this crate's, whose tests hold
/// sensitive-looking values on purpose).
fn code_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    let mut dirs = vec![root.join("testdata/code"), root.join("../src")];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.is_file() {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

fn source_code() -> String {
    let texts: Vec<String> = code_files()
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    assert!(
        !texts.is_empty(),
        "no source files found under {}",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut out = String::with_capacity(SIZE + 64 * 1024);
    while out.len() < SIZE {
        for t in &texts {
            out.push_str(t);
            out.push('\n');
        }
    }
    truncate_at_char(&mut out, SIZE);
    out
}

/// Cuts `s` to at most `len` bytes at a character boundary (`str::floor_char_boundary` is
/// newer than the declared `rust-version`).
fn truncate_at_char(s: &mut String, len: usize) {
    let mut end = len.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
}

fn inputs() -> Vec<(&'static str, String)> {
    let mut p = prose(&mut SampleRng::new(1), SIZE);
    p.truncate(SIZE);
    let mut s = secret_dense(&mut SampleRng::new(2), SIZE);
    truncate_at_char(&mut s, SIZE);
    vec![("prose", p), ("code", source_code()), ("secret_dense", s)]
}

fn naive() -> Vec<Regex> {
    naive_patterns()
        .into_iter()
        .map(|(id, p)| {
            match RegexBuilder::new(&p)
                .unicode(false)
                .size_limit(1 << 24)
                .build()
            {
                Ok(r) => r,
                Err(e) => panic!("{id}: {e}"),
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let engine = match DlpEngine::shipped() {
        Ok(e) => e,
        Err(e) => panic!("shipped engine: {e}"),
    };
    let baseline = naive();
    let mut group = c.benchmark_group("dlp_scan");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for (name, text) in inputs() {
        let found = engine
            .scan_profile("default", &text)
            .map(|r| r.findings.len())
            .unwrap_or(0);
        let naive_found: usize = baseline
            .iter()
            .map(|r| r.find_iter(text.as_bytes()).count())
            .sum();
        eprintln!(
            "{name}: {} bytes, {found} findings (naive regexes: {naive_found} matches)",
            text.len()
        );
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::new("engine_default", name), &text, |b, t| {
            b.iter(|| {
                engine
                    .scan_profile("default", black_box(t))
                    .map(|r| r.findings.len())
            })
        });
        group.bench_with_input(
            BenchmarkId::new("naive_regex_baseline", name),
            &text,
            |b, t| {
                b.iter(|| {
                    baseline
                        .iter()
                        .map(|r| r.find_iter(black_box(t.as_bytes())).count())
                        .sum::<usize>()
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
