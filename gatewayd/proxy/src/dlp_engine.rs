//! Building the DLP engine a snapshot scans with: the shipped detectors and profiles, checked
//! against the profiles the policy names (a `dlp` rule naming an unknown profile would scan
//! nothing, so it is refused instead).

use std::sync::Arc;

use dlp::DlpEngine;
use policies::Policy;

/// Why the DLP engine cannot serve a policy.
#[derive(Debug, thiserror::Error)]
pub enum DlpEngineError {
    #[error("DLP engine: {0}")]
    Engine(#[from] dlp::DlpError),
    /// A `dlp` rule names a profile the engine does not have: it would scan nothing.
    #[error(
        "policy {policy} names unknown DLP profile(s) {}; known profiles: {}",
        unknown.join(", "),
        known.join(", ")
    )]
    UnknownProfiles {
        policy: String,
        unknown: Vec<String>,
        known: Vec<String>,
    },
}

/// The engine for `policy`; every profile the policy names must exist.
pub fn build(policy: &Policy) -> Result<Arc<DlpEngine>, DlpEngineError> {
    let engine = DlpEngine::shipped()?;
    let unknown: Vec<&str> = policy
        .dlp_profiles()
        .into_iter()
        .filter(|p| !engine.has_profile(p))
        .collect();
    if !unknown.is_empty() {
        return Err(DlpEngineError::UnknownProfiles {
            policy: policy.version().to_string(),
            unknown: unknown.into_iter().map(str::to_owned).collect(),
            known: engine.profile_names().map(str::to_owned).collect(),
        });
    }
    Ok(Arc::new(engine))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_shipped_policy_names_only_known_profiles() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/examples");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("toml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let policy = policies::Policy::parse(&path.display().to_string(), &text).unwrap();
            super::build(&policy).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            checked += 1;
        }
        assert!(checked >= 4);
        super::build(&policies::Policy::embedded_default().unwrap()).unwrap();
    }
}
