//! [`DlpEngineBuilder`]: collects profile files and custom detectors, checks their ids, and
//! compiles everything an engine needs once: the custom keywords' automaton, the patterns, the
//! context-word and placeholder tables, and each profile's detector set and thresholds.

use super::anchors::CustomAnchors;
use super::context::ContextWords;
use super::custom::{CustomRegex, Customs, KeywordList};
use super::detector::{Detector, DetectorRef, DetectorSet};
use super::edm::EdmSet;
use super::engine::{slot, CompiledProfile, DlpEngine};
use super::error::{check_custom_id, DlpError};
use super::patterns::Patterns;
use super::placeholder::Placeholders;
use super::profile::{self, SHIPPED_FILE, SHIPPED_PROFILES};
use super::scan::Scanner;
use std::collections::{BTreeMap, HashSet};

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
        let custom_ids = self
            .keyword_lists
            .iter()
            .map(|k| k.id.as_str())
            .chain(self.regexes.iter().map(|r| r.id.as_str()))
            .chain(self.edms.iter().map(EdmSet::id));
        for id in custom_ids {
            check_custom_id(id)?;
            if !ids.insert(id.to_owned()) {
                return Err(DlpError::DuplicateId(id.to_owned()));
            }
        }
        let customs = Customs::new(&self.keyword_lists, &self.regexes, self.edms)?;
        let internal = |e: &dyn std::fmt::Display| DlpError::Internal(e.to_string());
        let scanner = Scanner {
            custom_anchors: CustomAnchors::new(&customs.anchors).map_err(|e| internal(&e))?,
            pats: Patterns::compile().map_err(|e| internal(&e))?,
            ctx: ContextWords::new(),
            ph: Placeholders::new(),
            customs,
        };
        let lookup = |id: &str| -> Option<DetectorRef> {
            Detector::from_id(id).map(DetectorRef::Builtin).or_else(|| {
                scanner
                    .customs
                    .ids
                    .iter()
                    .position(|c| c == id)
                    .map(DetectorRef::Custom)
            })
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
                let d = lookup(id)
                    .ok_or_else(|| DlpError::Internal(format!("detector `{id}` vanished")))?;
                set.insert(d);
                thresholds[slot(d)] = Some(*t);
            }
            profiles.insert(
                name,
                CompiledProfile {
                    profile,
                    set,
                    thresholds,
                },
            );
        }
        Ok(DlpEngine { scanner, profiles })
    }
}

impl Default for DlpEngineBuilder {
    /// The shipped profiles and no custom detectors.
    fn default() -> Self {
        DlpEngineBuilder {
            shipped: true,
            files: Vec::new(),
            keyword_lists: Vec::new(),
            regexes: Vec::new(),
            edms: Vec::new(),
        }
    }
}
