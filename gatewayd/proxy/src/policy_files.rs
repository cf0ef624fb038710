//! Reading the security team's files — policy and extra catalog entries — and handing their
//! text to the pure `policies` crate, which validates them (`file:line:col` errors). The base
//! catalog is the shipped one, or the signed bundle `gatewayd catalog update` installed in the
//! state directory (verified again on every load: a bundle that no longer verifies is an
//! error, never silently skipped).

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use policies::discovery::decision::{catalog_layer, DecisionKind, HostDecision};

use policies::{Catalog, Policy};

use crate::catalog_bundle::{self, Bundle, UpdateKeys};
use config::{Config, PoliciesConfig};

/// The catalog and policy one snapshot decides with.
pub struct LoadedPolicy {
    pub catalog: Arc<Catalog>,
    pub policy: Arc<Policy>,
    /// Problems that do not stop the policy from working (unknown app ids), as
    /// `file:line:col: message`.
    pub warnings: Vec<String>,
    /// The signed bundle the catalog was built from; `None`: the shipped catalog.
    pub bundle: Option<Bundle>,
    /// The decisions about discovered hosts in force (catalogued ones are in `catalog`).
    pub decisions: Arc<Vec<HostDecision>>,
    /// Hosts marked "not AI": discovery leaves them alone.
    pub not_ai: Arc<HashSet<String>>,
}

/// Why the policy or catalog files cannot be used; the text names the file and, for a
/// syntax or validation error, its `line:col`.
#[derive(Debug, thiserror::Error)]
pub enum PolicyFilesError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// The installed catalog bundle (or its update keys) could not be used.
    #[error("{0}")]
    Bundle(String),
    /// `<state>/discovered-decisions.json` could not be read.
    #[error("{0}")]
    Decisions(String),
    #[error(transparent)]
    Catalog(#[from] policies::CatalogError),
    #[error(transparent)]
    Policy(#[from] policies::PolicyError),
}

fn read_all(paths: &[PathBuf]) -> Result<Vec<(String, String)>, PolicyFilesError> {
    paths
        .iter()
        .map(|path| {
            std::fs::read_to_string(path)
                .map(|text| (path.display().to_string(), text))
                .map_err(|source| PolicyFilesError::Read {
                    path: path.display().to_string(),
                    source,
                })
        })
        .collect()
}

/// The installed catalog bundle, verified with the configured keys; `None` when none is
/// installed. A bundle without keys to check it is refused rather than trusted.
pub fn installed_bundle(config: &Config) -> Result<Option<Bundle>, PolicyFilesError> {
    let path = catalog_bundle::installed_path(&config.state.dir);
    if !path.exists() {
        return Ok(None);
    }
    let keys =
        UpdateKeys::load(&config.policies.catalog_update_keys).map_err(PolicyFilesError::Bundle)?;
    catalog_bundle::load_installed(&config.state.dir, &keys).map_err(PolicyFilesError::Bundle)
}

/// Builds the catalog from `bundle` (or the shipped files) plus the operator's extra files.
pub fn build_catalog(
    policies: &PoliciesConfig,
    bundle: Option<&Bundle>,
) -> Result<Catalog, PolicyFilesError> {
    let extra = read_all(&policies.catalog_files)?;
    let extra_refs: Vec<(&str, &str)> = extra
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    match bundle {
        Some(b) => Catalog::from_layers(&b.sources(), &extra_refs),
        None => Catalog::embedded_with(&extra_refs),
    }
    .map_err(Into::into)
}

/// The catalog with the hosts decided into it as apps added. A decision whose host or id the
/// catalog has come to know since (a catalog update) is left out with a warning: the
/// catalog's own entry wins, and the status book still holds the decided status under the
/// decided id.
fn with_decisions(
    policies: &PoliciesConfig,
    bundle: Option<&Bundle>,
    catalog: Catalog,
    decisions: &[HostDecision],
) -> Result<Catalog, PolicyFilesError> {
    let kept: Vec<HostDecision> = decisions
        .iter()
        .filter(|d| d.kind == DecisionKind::Catalog)
        .filter(|d| {
            let known = catalog.match_url(&d.host, "/").is_some()
                || d.app_id.as_deref().is_some_and(|id| catalog.app(id).is_some());
            if known {
                tracing::warn!(host = %d.host, "a decided host is in the catalog now; the catalog's entry is used");
            }
            !known
        })
        .cloned()
        .collect();
    if kept.is_empty() {
        return Ok(catalog);
    }
    let mut extra = read_all(&policies.catalog_files)?;
    extra.push(("discovered-decisions".into(), catalog_layer(&kept)));
    let refs: Vec<(&str, &str)> = extra
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    match bundle {
        Some(b) => Catalog::from_layers(&b.sources(), &refs),
        None => Catalog::embedded_with(&refs),
    }
    .map_err(Into::into)
}

/// Loads the catalog (installed bundle or shipped, plus extra files, plus the discovered
/// hosts decided into it) and the policy files (or the default policy).
pub fn load_policy(config: &Config) -> Result<LoadedPolicy, PolicyFilesError> {
    let bundle = installed_bundle(config)?;
    let decisions =
        crate::apps::decisions::read(&config.state.dir).map_err(PolicyFilesError::Decisions)?;
    let catalog = build_catalog(&config.policies, bundle.as_ref())?;
    let catalog = with_decisions(&config.policies, bundle.as_ref(), catalog, &decisions)?;
    let not_ai = decisions
        .iter()
        .filter(|d| d.kind == DecisionKind::NotAi)
        .map(|d| d.host.clone())
        .collect();
    let config = &config.policies;
    let files = read_all(&config.files)?;
    let policy = if files.is_empty() {
        Policy::embedded_default()
    } else {
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        Policy::from_sources(&refs)
    }?;
    let warnings = policy
        .check_against(&catalog)
        .iter()
        .map(|w| format!("{}:{}:{}: warning: {}", w.file, w.line, w.col, w.message))
        .collect();
    Ok(LoadedPolicy {
        catalog: Arc::new(catalog),
        policy: Arc::new(policy),
        warnings,
        bundle,
        decisions: Arc::new(decisions),
        not_ai: Arc::new(not_ai),
    })
}

/// Every file whose change should reload the policy, the installed catalog bundle included.
pub fn watched_files(config: &Config) -> Vec<PathBuf> {
    let policies = &config.policies;
    policies
        .files
        .iter()
        .chain(&policies.catalog_files)
        .cloned()
        .chain([
            catalog_bundle::installed_path(&config.state.dir),
            crate::apps::decisions::decisions_file(&config.state.dir),
        ])
        .collect()
}
