//! [`DlpEngine`]: built once from profiles and the deployment's custom detectors, then shared
//! read-only by every request (it is `Send + Sync` and keeps no per-scan state). It turns raw
//! detections into masked [`Finding`]s, applies each profile's thresholds, and implements
//! [`DlpScanner`] for the policy engine.

use super::anchors::Anchors;
use super::context::ContextWords;
use super::custom::{CustomRegex, Customs, KeywordList};
use super::detector::{Detection, Detector, DetectorRef, DetectorSet};
use super::edm::EdmSet;
use super::error::{check_custom_id, DlpError};
use super::finding::{Confidence, Finding};
use super::patterns::Patterns;
use super::placeholder::Placeholders;
use super::profile::{self, Profile, Threshold, SHIPPED_FILE, SHIPPED_PROFILES};
use super::scan::Scanner;
use super::DlpScanner;
use std::collections::{BTreeMap, HashSet};

/// What one profile found in one text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfileResult {
    pub profile: String,
    /// Whether some detector reached its `min_matches`: the policy's `dlp_profile` fact.
    pub matched: bool,
    /// Findings at or above each detector's `min_confidence`, by position.
    pub findings: Vec<Finding>,
    /// Per detector that found anything counted, sorted by id.
    pub counts: Vec<DetectorCount>,
}

/// How often one detector fired under a profile: what an event records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectorCount {
    pub detector: String,
    pub count: usize,
    pub max_confidence: Confidence,
    /// Whether `count` reached the detector's `min_matches`.
    pub matched: bool,
}

#[derive(Debug, Clone)]
struct CompiledProfile {
    profile: Profile,
    set: DetectorSet,
    /// Indexed by [`slot`]: built-ins first, then custom detectors.
    thresholds: Vec<Option<Threshold>>,
}

/// The DLP scanner. See the module docs of [`super`] for how a scan runs.
#[derive(Debug, Clone)]
pub struct DlpEngine {
    scanner: Scanner,
    profiles: BTreeMap<String, CompiledProfile>,
}

/// Collects what an engine is built from.
#[derive(Debug, Clone)]
pub struct DlpEngineBuilder {
    shipped: bool,
    files: Vec<(String, String)>,
    keyword_lists: Vec<KeywordList>,
    regexes: Vec<CustomRegex>,
    edms: Vec<EdmSet>,
}

impl DlpEngineBuilder {
    /// A profile file (TOML text); later files replace earlier profiles of the same name.
    pub fn profiles(mut self, file: impl Into<String>, text: impl Into<String>) -> Self {
        self.files.push((file.into(), text.into()));
        self
    }

    /// Leaves out the shipped profiles (only the given files define profiles).
    pub fn without_shipped_profiles(mut self) -> Self {
        self.shipped = false;
        self
    }

    pub fn keyword_list(mut self, list: KeywordList) -> Self {
        self.keyword_lists.push(list);
        self
    }

    pub fn custom_regex(mut self, regex: CustomRegex) -> Self {
        self.regexes.push(regex);
        self
    }

    pub fn edm_set(mut self, set: EdmSet) -> Self {
        self.edms.push(set);
        self
    }

    pub fn build(self) -> Result<DlpEngine, DlpError> {
        let mut ids = HashSet::new();
        let custom_ids = self.keyword_lists.iter().map(|k| k.id.as_str()).chain(self.regexes.iter().map(|r| r.id.as_str())).chain(self.edms.iter().map(EdmSet::id));
        for id in custom_ids {
            check_custom_id(id)?;
            if !ids.insert(id.to_owned()) {
                return Err(DlpError::DuplicateId(id.to_owned()));
            }
        }
        let customs = Customs::new(&self.keyword_lists, &self.regexes, self.edms)?;
        let internal = |e: &dyn std::fmt::Display| DlpError::Internal(e.to_string());
        let scanner = Scanner {
            anchors: Anchors::new(&customs.anchors).map_err(|e| internal(&e))?,
            pats: Patterns::compile().map_err(|e| internal(&e))?,
            ctx: ContextWords::new().map_err(|e| internal(&e))?,
            ph: Placeholders::new().map_err(|e| internal(&e))?,
            customs,
        };
        let lookup = |id: &str| -> Option<DetectorRef> {
            Detector::from_id(id)
                .map(DetectorRef::Builtin)
                .or_else(|| scanner.customs.ids.iter().position(|c| c == id).map(DetectorRef::Custom))
        };
        let mut files: Vec<(&str, &str)> = Vec::new();
        if self.shipped {
            files.push((SHIPPED_FILE, SHIPPED_PROFILES));
        }
        files.extend(self.files.iter().map(|(f, t)| (f.as_str(), t.as_str())));
        let resolved = profile::resolve(&files, &|id| lookup(id).is_some())?;
        let mut profiles = BTreeMap::new();
        for (name, profile) in resolved {
            let mut set = DetectorSet::default();
            let mut thresholds = vec![None; Detector::ALL.len() + scanner.customs.ids.len()];
            for (id, t) in &profile.detectors {
                let d = lookup(id).ok_or_else(|| DlpError::Internal(format!("detector `{id}` vanished")))?;
                set.insert(d);
                thresholds[slot(d)] = Some(*t);
            }
            profiles.insert(name, CompiledProfile { profile, set, thresholds });
        }
        Ok(DlpEngine { scanner, profiles })
    }
}

fn slot(d: DetectorRef) -> usize {
    match d {
        DetectorRef::Builtin(b) => b as usize,
        DetectorRef::Custom(i) => Detector::ALL.len() + i,
    }
}

impl DlpEngine {
    pub fn builder() -> DlpEngineBuilder {
        DlpEngineBuilder { shipped: true, files: Vec::new(), keyword_lists: Vec::new(), regexes: Vec::new(), edms: Vec::new() }
    }

    /// The engine with the shipped profiles and no custom detectors.
    pub fn shipped() -> Result<Self, DlpError> {
        Self::builder().build()
    }

    pub fn profile_names(&self) -> impl Iterator<Item = &str> {
        self.profiles.keys().map(String::as_str)
    }

    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.get(name).map(|p| &p.profile)
    }

    pub fn has_profile(&self, name: &str) -> bool {
        self.profiles.contains_key(name)
    }

    /// Scans `text` with one profile.
    pub fn scan_profile(&self, profile: &str, text: &str) -> Result<ProfileResult, DlpError> {
        let mut r = self.scan_profiles(&[profile], text)?;
        r.pop().ok_or_else(|| DlpError::Internal("no result for a known profile".into()))
    }

    /// Scans `text` once for the union of `profiles` and splits the findings per profile.
    pub fn scan_profiles(&self, profiles: &[&str], text: &str) -> Result<Vec<ProfileResult>, DlpError> {
        let mut compiled = Vec::with_capacity(profiles.len());
        let mut union = DetectorSet::default();
        for name in profiles {
            let p = self.profiles.get(*name).ok_or_else(|| DlpError::UnknownProfile((*name).to_owned()))?;
            union.union(&p.set);
            compiled.push(p);
        }
        let detections = self.scanner.scan(text.as_bytes(), &union);
        Ok(compiled.into_iter().map(|p| self.result(p, &detections, text)).collect())
    }

    fn result(&self, p: &CompiledProfile, detections: &[Detection], text: &str) -> ProfileResult {
        let mut findings = Vec::new();
        let mut counts: BTreeMap<&str, (DetectorRef, usize, Confidence)> = BTreeMap::new();
        for d in detections {
            let Some(t) = p.thresholds.get(slot(d.detector)).copied().flatten() else {
                continue;
            };
            if d.confidence < t.min_confidence {
                continue;
            }
            let id = self.id(d.detector);
            let entry = counts.entry(id).or_insert((d.detector, 0, d.confidence));
            entry.1 += 1;
            entry.2 = entry.2.max(d.confidence);
            let matched = text.get(d.start..d.end).unwrap_or_default();
            findings.push(Finding::new(id, d.start, d.end, d.confidence, matched));
        }
        let counts: Vec<DetectorCount> = counts
            .into_iter()
            .map(|(id, (d, count, max_confidence))| {
                let need = p.thresholds[slot(d)].map_or(1, |t| t.min_matches);
                DetectorCount { detector: id.to_owned(), count, max_confidence, matched: count >= need }
            })
            .collect();
        ProfileResult { profile: p.profile.name.clone(), matched: counts.iter().any(|c| c.matched), findings, counts }
    }

    fn id(&self, d: DetectorRef) -> &str {
        match d {
            DetectorRef::Builtin(b) => b.id(),
            DetectorRef::Custom(i) => self.scanner.customs.ids.get(i).map_or("custom", String::as_str),
        }
    }
}

impl DlpScanner for DlpEngine {
    /// The findings of `profile` when it matched; nothing when it did not or does not exist
    /// (`gatewayd check` rejects policies naming unknown profiles, see [`DlpEngine::has_profile`]).
    fn scan(&self, profile: &str, text: &str) -> Vec<Finding> {
        match self.scan_profile(profile, text) {
            Ok(r) if r.matched => r.findings,
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
