//! Building the DLP engine a snapshot scans with: the shipped detectors and profiles, checked
//! against the profiles the policy names (a `dlp` rule naming an unknown profile would scan
//! nothing, so it is refused instead).

use std::sync::Arc;

use policies::dlp::DlpEngine;
use policies::Policy;

/// The engine for `policy`; every profile the policy names must exist.
pub fn build(policy: &Policy) -> Result<Arc<DlpEngine>, String> {
    let engine = DlpEngine::shipped().map_err(|e| format!("DLP engine: {e}"))?;
    let unknown: Vec<&str> = policy
        .dlp_profiles()
        .into_iter()
        .filter(|p| !engine.has_profile(p))
        .collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = engine.profile_names().collect();
        return Err(format!(
            "policy {} names unknown DLP profile(s) {}; known profiles: {}",
            policy.version(),
            unknown.join(", "),
            known.join(", ")
        ));
    }
    Ok(Arc::new(engine))
}
