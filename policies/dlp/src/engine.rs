//! [`DlpEngine`]: built once (see [`DlpEngineBuilder`]) from profiles and the deployment's
//! custom detectors, then shared read-only by every request (it is `Send + Sync` and keeps no
//! per-scan state). It turns raw detections into masked [`Finding`]s, applies each profile's
//! thresholds, and implements [`DlpScanner`] for the policy engine.

use super::builder::DlpEngineBuilder;
use super::detector::{Detection, Detector, DetectorRef, DetectorSet};
use super::error::DlpError;
use super::finding::{Confidence, Finding};
use super::profile::{Profile, Threshold};
use super::scan::Scanner;
use super::DlpScanner;
use std::borrow::Cow;
use std::collections::BTreeMap;

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
pub(crate) struct CompiledProfile {
    pub profile: Profile,
    pub set: DetectorSet,
    /// Indexed by [`slot`]: built-ins first, then custom detectors.
    pub thresholds: Vec<Option<Threshold>>,
}

/// The DLP scanner. See the module docs of [`super`] for how a scan runs.
#[derive(Debug, Clone)]
pub struct DlpEngine {
    pub(crate) scanner: Scanner,
    pub(crate) profiles: BTreeMap<String, CompiledProfile>,
}

pub(crate) fn unslot(slot: usize) -> DetectorRef {
    match Detector::ALL.get(slot) {
        Some(b) => DetectorRef::Builtin(*b),
        None => DetectorRef::Custom(slot - Detector::ALL.len()),
    }
}

pub(crate) fn slot(d: DetectorRef) -> usize {
    match d {
        DetectorRef::Builtin(b) => b as usize,
        DetectorRef::Custom(i) => Detector::ALL.len() + i,
    }
}

impl DlpEngine {
    pub fn builder() -> DlpEngineBuilder {
        DlpEngineBuilder::default()
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
        r.pop()
            .ok_or_else(|| DlpError::Internal("no result for a known profile".into()))
    }

    /// Scans `text` once for the union of `profiles` and splits the findings per profile.
    pub fn scan_profiles(
        &self,
        profiles: &[&str],
        text: &str,
    ) -> Result<Vec<ProfileResult>, DlpError> {
        let mut compiled = Vec::with_capacity(profiles.len());
        let mut union = DetectorSet::default();
        for name in profiles {
            let p = self
                .profiles
                .get(*name)
                .ok_or_else(|| DlpError::UnknownProfile((*name).to_owned()))?;
            union.union(&p.set);
            compiled.push(p);
        }
        let detections = self
            .scanner
            .scan(text.as_bytes(), &union)
            .map_err(DlpError::Unscannable)?;
        Ok(compiled
            .into_iter()
            .map(|p| self.result(p, &detections, text))
            .collect())
    }

    fn result(&self, p: &CompiledProfile, detections: &[Detection], text: &str) -> ProfileResult {
        // Most detections pass the thresholds: no regrowth on secret-dense text.
        let mut findings = Vec::with_capacity(detections.len());
        // Per slot: (count, highest confidence).
        let mut tally: Vec<(usize, Confidence)> = vec![(0, Confidence::Low); p.thresholds.len()];
        for d in detections {
            let slot = slot(d.detector);
            let Some(t) = p.thresholds.get(slot).copied().flatten() else {
                continue;
            };
            if d.confidence < t.min_confidence {
                continue;
            }
            let entry = &mut tally[slot];
            entry.0 += 1;
            entry.1 = entry.1.max(d.confidence);
            let matched = text.get(d.start..d.end).unwrap_or_default();
            findings.push(Finding::new(
                self.finding_id(d.detector),
                d.start,
                d.end,
                d.confidence,
                matched,
            ));
        }
        let mut counts: Vec<DetectorCount> = tally
            .iter()
            .enumerate()
            .filter(|(_, (n, _))| *n > 0)
            .map(|(slot, (count, max_confidence))| {
                let d = unslot(slot);
                let need = p.thresholds[slot].map_or(1, |t| t.min_matches);
                DetectorCount {
                    detector: self.id(d).to_owned(),
                    count: *count,
                    max_confidence: *max_confidence,
                    matched: *count >= need,
                }
            })
            .collect();
        counts.sort_by(|a, b| a.detector.cmp(&b.detector));
        ProfileResult {
            profile: p.profile.name.clone(),
            matched: counts.iter().any(|c| c.matched),
            findings,
            counts,
        }
    }

    /// The id a finding carries: static for a built-in detector, so no allocation.
    fn finding_id(&self, d: DetectorRef) -> Cow<'static, str> {
        match d {
            DetectorRef::Builtin(b) => Cow::Borrowed(b.id()),
            DetectorRef::Custom(_) => Cow::Owned(self.id(d).to_owned()),
        }
    }

    fn id(&self, d: DetectorRef) -> &str {
        match d {
            DetectorRef::Builtin(b) => b.id(),
            DetectorRef::Custom(i) => self
                .scanner
                .customs
                .ids
                .get(i)
                .map_or("custom", String::as_str),
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
mod tests;
