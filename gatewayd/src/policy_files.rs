//! Reading the security team's files — policy and extra catalog entries — and handing their
//! text to the pure `policies` crate, which validates them (`file:line:col` errors).

use std::path::PathBuf;
use std::sync::Arc;

use policies::{Catalog, Policy};

use crate::config::PoliciesConfig;

/// The catalog and policy one snapshot decides with.
pub struct LoadedPolicy {
    pub catalog: Arc<Catalog>,
    pub policy: Arc<Policy>,
    /// Problems that do not stop the policy from working (unknown app ids), as
    /// `file:line:col: message`.
    pub warnings: Vec<String>,
}

fn read_all(paths: &[PathBuf]) -> Result<Vec<(String, String)>, String> {
    paths
        .iter()
        .map(|path| {
            std::fs::read_to_string(path)
                .map(|text| (path.display().to_string(), text))
                .map_err(|e| format!("{}: {e}", path.display()))
        })
        .collect()
}

/// Loads the embedded catalog plus extra files, and the policy files (or the default policy).
pub fn load_policy(config: &PoliciesConfig) -> Result<LoadedPolicy, String> {
    let extra = read_all(&config.catalog_files)?;
    let extra_refs: Vec<(&str, &str)> = extra
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let catalog = Catalog::embedded_with(&extra_refs).map_err(|e| e.to_string())?;
    let files = read_all(&config.files)?;
    let policy = if files.is_empty() {
        Policy::embedded_default()
    } else {
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        Policy::from_sources(&refs)
    }
    .map_err(|e| e.to_string())?;
    let warnings = policy
        .check_against(&catalog)
        .iter()
        .map(|w| format!("{}:{}:{}: warning: {}", w.file, w.line, w.col, w.message))
        .collect();
    Ok(LoadedPolicy {
        catalog: Arc::new(catalog),
        policy: Arc::new(policy),
        warnings,
    })
}

/// Every file whose change should reload the policy.
pub fn watched_files(config: &PoliciesConfig) -> Vec<PathBuf> {
    config
        .files
        .iter()
        .chain(&config.catalog_files)
        .cloned()
        .collect()
}
