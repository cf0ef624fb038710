//! `gatewayd dlp scan [--profile NAME] [--json] [FILE ...]`: what the DLP detectors find in
//! text (stdin when no file). Prints one line per finding — JSON with `--json` — with masked
//! snippets only. Exit 1 when something was found, 0 when clean, 2 on bad input.

use std::io::Read;
use std::path::PathBuf;

use clap::Subcommand;
use dlp::DlpEngine;

/// The largest input read from one file or stdin.
const MAX_INPUT: u64 = 64 * 1024 * 1024;

#[derive(Debug, Subcommand)]
pub enum DlpCommand {
    /// Scan files (or stdin) and print the findings.
    Scan {
        /// The profile to scan with (default, financial, national_ids, credentials, source_code).
        #[arg(long, default_value = "default")]
        profile: String,
        /// One JSON object per finding.
        #[arg(long)]
        json: bool,
        /// Files to scan; none, or `-`, reads stdin.
        files: Vec<PathBuf>,
    },
}

pub fn run_dlp(command: &DlpCommand) -> anyhow::Result<u8> {
    let DlpCommand::Scan {
        profile,
        json,
        files,
    } = command;
    let engine = DlpEngine::shipped().map_err(|e| anyhow::anyhow!("DLP engine: {e}"))?;
    if !engine.has_profile(profile) {
        let known: Vec<&str> = engine.profile_names().collect();
        eprintln!(
            "gatewayd: unknown profile {profile:?}; known: {}",
            known.join(", ")
        );
        return Ok(2);
    }
    // No files, or `-` among them, reads stdin (once).
    let stdin_name = std::path::Path::new("-");
    let names: Vec<&std::path::Path> = if files.is_empty() {
        vec![stdin_name]
    } else {
        files.iter().map(PathBuf::as_path).collect()
    };
    if names.iter().filter(|n| **n == stdin_name).count() > 1 {
        eprintln!("gatewayd: `-` (stdin) may be named once");
        return Ok(2);
    }
    let inputs: Vec<(String, Vec<u8>)> = {
        let mut inputs = Vec::new();
        for path in names {
            let mut bytes = Vec::new();
            if path == stdin_name {
                std::io::stdin().take(MAX_INPUT).read_to_end(&mut bytes)?;
                inputs.push(("-".to_string(), bytes));
                continue;
            }
            match std::fs::File::open(path) {
                Ok(file) => {
                    file.take(MAX_INPUT).read_to_end(&mut bytes)?;
                }
                Err(e) => {
                    eprintln!("gatewayd: {}: {e}", path.display());
                    return Ok(2);
                }
            }
            inputs.push((path.display().to_string(), bytes));
        }
        inputs
    };
    let mut found = false;
    for (name, bytes) in inputs {
        let text = proxy::inspect::text_of_file(&name, &bytes);
        let result = engine
            .scan_profile(profile, &text)
            .map_err(|e| anyhow::anyhow!("scan: {e}"))?;
        for finding in &result.findings {
            found = true;
            if *json {
                let mut value = serde_json::to_value(finding)?;
                if files.len() > 1 {
                    value["file"] = serde_json::Value::String(name.clone());
                }
                out!("{value}");
            } else {
                out!(
                    "{name}:{}-{}: {} ({}) {}",
                    finding.start,
                    finding.end,
                    finding.detector,
                    finding.confidence,
                    finding.snippet
                );
            }
        }
    }
    Ok(u8::from(found))
}
