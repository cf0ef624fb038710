//! What each detector family costs on the bench's secret-dense text (`benches/dlp_scan.rs`,
//! the same generator and seed): the engine's every built-in detector at `low`, and the same
//! less one family at a time, scanned in interleaved rounds (best of each). Criterion's
//! figures swing by a quarter from run to run on a shared host; the differences between
//! profiles scanned side by side in one process do not.
//!
//! `cargo run --release -p dlp --example dlp_families [ROUNDS]` prints MiB/s per profile;
//! `... -- count PROFILE N` scans N times with one profile and prints nothing else, for
//! `valgrind --tool=callgrind` (instructions of N = 1 less N = 0: one scan; a fourth argument,
//! `prose` or `code`, scans the bench's other inputs). Never writes
//! anything; the text holds generated fake secrets only.

use dlp::samples::{prose, secret_dense, SampleRng};
use dlp::{Detector, DlpEngine};
use std::hint::black_box;
use std::time::Instant;

const SIZE: usize = 1 << 20;

/// The families added or widened by issue 17, by detector id (ids this build lacks are left
/// out).
const FAMILIES: &[(&str, &[&str])] = &[
    ("source_code", &["source_code"]),
    ("cards_ibans", &["credit_card", "iban"]),
    (
        "gitlab_slack_stripe_aws",
        &[
            "gitlab_token",
            "slack_token",
            "stripe_secret_key",
            "aws_access_key_id",
            "aws_secret_access_key",
        ],
    ),
    (
        "national_ids",
        &[
            "uk_nino",
            "ca_sin",
            "de_tax_id",
            "fr_nir",
            "in_aadhaar",
            "in_pan",
            "br_cpf",
        ],
    ),
    ("azure", &["azure_storage_key", "azure_sas_token"]),
    ("gcp_service_account", &["gcp_service_account"]),
    ("huggingface_token", &["huggingface_token"]),
    ("twilio_auth_token", &["twilio_auth_token"]),
    ("sendgrid_api_key", &["sendgrid_api_key"]),
    ("npm_token", &["npm_token"]),
    ("pypi_token", &["pypi_token"]),
    ("database_url", &["database_url"]),
];

fn profile(name: &str, without: &[&str]) -> String {
    let ids: Vec<String> = Detector::ALL
        .iter()
        .map(|d| d.id())
        .filter(|id| !without.contains(id))
        .map(|id| format!("{id:?}"))
        .collect();
    format!(
        "[{name}]\ndetectors = [{}]\nmin_confidence = \"low\"\nmin_matches = 1\n",
        ids.join(", ")
    )
}

/// The bench's 1 MB of code: the corpus's samples and the `policies` crate's Rust, repeated.
fn code() -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    let mut dirs = vec![root.join("testdata/code"), root.join("../src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    let texts: Vec<String> = files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    let mut out = String::new();
    while out.len() < SIZE && !texts.is_empty() {
        for t in &texts {
            out.push_str(t);
            out.push('\n');
        }
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut names = vec!["all".to_owned()];
    let mut toml = profile("all", &[]);
    for (family, ids) in FAMILIES {
        if ids.iter().any(|id| Detector::from_id(id).is_some()) {
            let name = format!("without_{family}");
            toml.push_str(&profile(&name, ids));
            names.push(name);
        }
    }
    let engine = match DlpEngine::builder().profiles("families.toml", toml).build() {
        Ok(e) => e,
        Err(e) => panic!("engine: {e}"),
    };
    let input = args.get(3).map_or("secret_dense", String::as_str);
    let mut text = match input {
        "prose" => prose(&mut SampleRng::new(1), SIZE),
        "code" => code(),
        _ => secret_dense(&mut SampleRng::new(2), SIZE),
    };
    let mut end = SIZE.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    if args.first().map(String::as_str) == Some("count") {
        let p = args.get(1).map_or("default", String::as_str);
        let n: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1);
        for _ in 0..n {
            let _ = black_box(engine.scan_profile(p, black_box(&text)));
        }
        return;
    }
    names.insert(0, "default".to_owned());
    let rounds: usize = args.first().and_then(|n| n.parse().ok()).unwrap_or(30);
    let mut best = vec![f64::MAX; names.len()];
    let mut found = vec![0; names.len()];
    for _ in 0..rounds {
        for (k, name) in names.iter().enumerate() {
            let t = Instant::now();
            let r = engine.scan_profile(name, black_box(&text));
            best[k] = best[k].min(t.elapsed().as_secs_f64());
            found[k] = r.map(|r| r.findings.len()).unwrap_or(0);
        }
    }
    let mib = text.len() as f64 / (1024.0 * 1024.0);
    println!(
        "secret-dense, {} bytes, best of {rounds} rounds",
        text.len()
    );
    println!("| profile | findings | MiB/s | speed vs `all` |");
    println!("| --- | ---: | ---: | ---: |");
    for (k, name) in names.iter().enumerate() {
        println!(
            "| {name} | {} | {:.0} | {:+.1} % |",
            found[k],
            mib / best[k],
            (best[1] / best[k] - 1.0) * 100.0
        );
    }
}
