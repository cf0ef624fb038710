//! Policy files and decisions: ordered rules, first match wins, `do_not_inspect` rules first.
//!
//! A [`Policy`] is parsed from TOML text, validated, then immutable; the daemon swaps whole
//! snapshots on reload and every [`Verdict`] names its rule and the policy version.
//!
//! How the daemon uses it:
//! 1. CONNECT: [`Policy::connect_decision`] → tunnel raw, block page, or intercept.
//! 2. Per request: [`Policy::decide`] with `dlp_profiles_matched: None`. If `blocked`, serve the
//!    block page. If [`Verdict::needs_scan`], scan the body with each of
//!    [`Verdict::profiles_to_scan`] (a `dlp::DlpScanner`), then `decide` again with
//!    the matched profiles: the second verdict is final (`blocked`, or `dlp_matched` with
//!    `on_match` redact / log).
//!
//! No I/O: files are read by the daemon and passed in as text.

mod compile;
mod decide;
mod facts;
mod file;
mod selector;
mod verdict;

pub use facts::{AppFacts, Facts, Posture};
pub use file::PostureValue;
pub use verdict::{Action, ConnectVerdict, OnMatch, Verdict, DEFAULT_AUDIT_BYTES, MAX_AUDIT_BYTES};

use crate::catalog::Catalog;
use crate::source::{SourceError, SourceErrors};
use compile::{AppRef, Rule};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

/// The policy shipped with the gateway (see `default-policy.toml`).
pub const DEFAULT_POLICY: &str = include_str!("../../default-policy.toml");
/// The file name the default policy reports errors and warnings under.
pub const DEFAULT_POLICY_NAME: &str = "default-policy.toml";

/// Everything wrong with a set of policy files, one `file:line:col: message` per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(pub SourceErrors);

impl PolicyError {
    pub fn errors(&self) -> &[SourceError] {
        &self.0 .0
    }
}

/// A validated policy snapshot.
#[derive(Debug)]
pub struct Policy {
    version: Arc<str>,
    default_rule_id: Arc<str>,
    do_not_inspect: Vec<Rule>,
    rules: Vec<Rule>,
    app_refs: Vec<AppRef>,
}

impl Policy {
    /// One policy file.
    pub fn parse(file: &str, text: &str) -> Result<Policy, PolicyError> {
        Self::from_sources(&[(file, text)])
    }

    /// The shipped default policy.
    pub fn embedded_default() -> Result<Policy, PolicyError> {
        Self::parse(DEFAULT_POLICY_NAME, DEFAULT_POLICY)
    }

    /// Several files, their rules concatenated in the order given. The version is the files'
    /// `version` labels joined with `+` when every file has one, otherwise `sha256:` and the
    /// first 16 hex digits of a hash over all names and texts.
    pub fn from_sources(sources: &[(&str, &str)]) -> Result<Policy, PolicyError> {
        let mut errors = Vec::new();
        let mut labels = Vec::new();
        let mut all_labelled = !sources.is_empty();
        let mut do_not_inspect = Vec::new();
        let mut rules = Vec::new();
        let mut app_refs = Vec::new();
        let mut seen: HashMap<Arc<str>, SourceError> = HashMap::new();
        for (file, text) in sources {
            let compiled = compile::compile_file(file, text, &mut errors);
            match compiled.version {
                Some(v) => labels.push(v),
                None => all_labelled = false,
            }
            app_refs.extend(compiled.app_refs);
            for rule in compiled.rules {
                if let Some(first) = seen.get(&rule.id) {
                    let mut e = rule.id_at.clone();
                    e.message = format!(
                        "rule id {:?} is already used at {}:{}:{}",
                        rule.id, first.file, first.line, first.col
                    );
                    errors.push(e);
                    continue;
                }
                seen.insert(rule.id.clone(), rule.id_at.clone());
                if rule.action == Action::DoNotInspect {
                    do_not_inspect.push(rule);
                } else {
                    rules.push(rule);
                }
            }
        }
        if !errors.is_empty() {
            return Err(PolicyError(SourceErrors(errors)));
        }
        let version = if all_labelled {
            labels.join("+")
        } else {
            content_hash(sources)
        };
        Ok(Policy {
            version: version.into(),
            default_rule_id: "default".into(),
            do_not_inspect,
            rules,
            app_refs,
        })
    }

    /// The version label every verdict carries.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Rule ids in evaluation order (`do_not_inspect` rules first).
    pub fn rule_ids(&self) -> impl Iterator<Item = &str> {
        self.do_not_inspect
            .iter()
            .chain(&self.rules)
            .map(|r| &*r.id)
    }

    /// The `description` of a rule, for explaining verdicts.
    pub fn rule_description(&self, rule_id: &str) -> Option<&str> {
        let mut all = self.do_not_inspect.iter().chain(&self.rules);
        all.find(|r| &*r.id == rule_id)
            .and_then(|r| r.description.as_deref())
    }

    /// DLP profiles the policy names (in `dlp` actions, `dlp_profile` selectors and
    /// `monitor_profile`s), so the
    /// daemon can check they exist.
    pub fn dlp_profiles(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for rule in &self.rules {
            let own = match &rule.action {
                Action::Dlp { profile, .. } => Some(&**profile),
                _ => None,
            };
            let unless = rule.unless.iter().flat_map(|u| &u.dlp_profiles);
            for p in rule
                .when
                .dlp_profiles
                .iter()
                .chain(unless)
                .map(|p| &**p)
                .chain(own)
                .chain(rule.monitor_profile.as_deref())
            {
                if !out.contains(&p) {
                    out.push(p);
                }
            }
        }
        out
    }

    /// Warnings (not errors) against a catalog: app ids in `app` selectors and `alternative`
    /// that the catalog does not know, positioned `file:line:col`.
    pub fn check_against(&self, catalog: &Catalog) -> Vec<SourceError> {
        self.app_refs
            .iter()
            .filter(|r| catalog.app(&r.id).is_none())
            .map(|r| r.at.clone())
            .collect()
    }
}

fn content_hash(sources: &[(&str, &str)]) -> String {
    let mut hash = Sha256::new();
    for (file, text) in sources {
        hash.update((file.len() as u64).to_le_bytes());
        hash.update(file.as_bytes());
        hash.update((text.len() as u64).to_le_bytes());
        hash.update(text.as_bytes());
    }
    let digest = hash.finalize();
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

#[cfg(test)]
mod tests;
