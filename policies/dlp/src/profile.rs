//! Profiles: named detector sets with thresholds, read from TOML (`policies/dlp/profiles.toml`
//! is shipped and embedded; a deployment's files add profiles or replace them by name).
//! `include` pulls in other profiles; thresholds say how many findings of what confidence
//! make a profile match. Errors carry `file:line:col`.

use super::finding::Confidence;
use crate::source::SourceError;
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// The shipped profile file.
pub const SHIPPED_PROFILES: &str = include_str!("../profiles.toml");
pub(crate) const SHIPPED_FILE: &str = "policies/dlp/profiles.toml";

/// When one detector's findings make a profile match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold {
    /// Findings below this confidence are not reported under the profile.
    pub min_confidence: Confidence,
    /// This many counted findings of the detector make the profile match.
    pub min_matches: usize,
}

impl Default for Threshold {
    fn default() -> Self {
        Threshold {
            min_confidence: Confidence::Medium,
            min_matches: 1,
        }
    }
}

/// A resolved profile: every detector it runs, with its threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub description: String,
    pub detectors: BTreeMap<String, Threshold>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    #[serde(default)]
    description: String,
    #[serde(default)]
    include: Vec<Spanned<String>>,
    #[serde(default)]
    detectors: Vec<Spanned<String>>,
    min_confidence: Option<Confidence>,
    min_matches: Option<usize>,
    #[serde(default)]
    detector: BTreeMap<Spanned<String>, RawThreshold>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThreshold {
    min_confidence: Option<Confidence>,
    min_matches: Option<usize>,
}

/// One profile as written, with the file it came from for error positions.
struct Source<'a> {
    file: &'a str,
    text: &'a str,
    raw: RawProfile,
}

/// Parses profile files in order (later ones replace earlier profiles of the same name) and
/// resolves includes. `known` says whether a detector id exists.
pub(crate) fn resolve(
    files: &[(&str, &str)],
    known: &dyn Fn(&str) -> bool,
) -> Result<BTreeMap<String, Profile>, SourceError> {
    let mut raw: BTreeMap<String, Source<'_>> = BTreeMap::new();
    for (file, text) in files {
        let parsed: BTreeMap<String, RawProfile> =
            toml::from_str(text).map_err(|e| SourceError::from_toml(file, text, &e))?;
        for (name, p) in parsed {
            raw.insert(name, Source { file, text, raw: p });
        }
    }
    let mut done = BTreeMap::new();
    for name in raw.keys() {
        build(name, &raw, known, &mut done, &mut Vec::new())?;
    }
    Ok(done)
}

fn build(
    name: &str,
    raw: &BTreeMap<String, Source<'_>>,
    known: &dyn Fn(&str) -> bool,
    done: &mut BTreeMap<String, Profile>,
    stack: &mut Vec<String>,
) -> Result<(), SourceError> {
    if done.contains_key(name) {
        return Ok(());
    }
    let Some(src) = raw.get(name) else {
        return Ok(()); // reported by the includer, which knows the position
    };
    let at =
        |s: &Spanned<String>, msg: String| SourceError::at(src.file, src.text, s.span().start, msg);
    stack.push(name.to_owned());
    let mut detectors = BTreeMap::new();
    for inc in &src.raw.include {
        if stack.iter().any(|s| s == inc.get_ref()) {
            return Err(at(
                inc,
                format!(
                    "profile `{name}` includes itself through `{}`",
                    inc.get_ref()
                ),
            ));
        }
        if !raw.contains_key(inc.get_ref()) {
            return Err(at(
                inc,
                format!("unknown profile `{}` in include", inc.get_ref()),
            ));
        }
        build(inc.get_ref(), raw, known, done, stack)?;
        if let Some(p) = done.get(inc.get_ref()) {
            detectors.extend(p.detectors.iter().map(|(k, v)| (k.clone(), *v)));
        }
    }
    let own = Threshold {
        min_confidence: src.raw.min_confidence.unwrap_or(Confidence::Medium),
        min_matches: src.raw.min_matches.unwrap_or(1).max(1),
    };
    for d in &src.raw.detectors {
        if !known(d.get_ref()) {
            return Err(at(d, format!("unknown detector `{}`", d.get_ref())));
        }
        detectors.insert(d.get_ref().clone(), own);
    }
    for (id, t) in &src.raw.detector {
        let Some(slot) = detectors.get_mut(id.get_ref()) else {
            return Err(at(
                id,
                format!("profile `{name}` does not use detector `{}`", id.get_ref()),
            ));
        };
        if let Some(c) = t.min_confidence {
            slot.min_confidence = c;
        }
        if let Some(m) = t.min_matches {
            slot.min_matches = m.max(1);
        }
    }
    stack.pop();
    done.insert(
        name.to_owned(),
        Profile {
            name: name.to_owned(),
            description: src.raw.description.clone(),
            detectors,
        },
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin(id: &str) -> bool {
        crate::Detector::from_id(id).is_some()
    }

    #[test]
    fn shipped_profiles_resolve() {
        let p = resolve(&[(SHIPPED_FILE, SHIPPED_PROFILES)], &builtin).unwrap();
        let names: Vec<&str> = p.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "credentials",
                "default",
                "financial",
                "national_ids",
                "pii",
                "source_code"
            ]
        );
        let d = &p["default"];
        assert_eq!(d.detectors.len(), crate::Detector::ALL.len());
        assert_eq!(d.detectors["email_address"].min_matches, 3);
        assert_eq!(p["pii"].detectors["email_address"].min_matches, 1);
        assert_eq!(d.detectors["jwt"], Threshold::default());
    }

    #[test]
    fn later_files_replace_and_errors_are_positioned() {
        let mine = "[financial]\ndetectors = [\"iban\"]\nmin_confidence = \"high\"\n";
        let p = resolve(
            &[(SHIPPED_FILE, SHIPPED_PROFILES), ("mine.toml", mine)],
            &builtin,
        )
        .unwrap();
        assert_eq!(p["financial"].detectors.len(), 1);
        assert_eq!(
            p["default"].detectors["iban"].min_confidence,
            Confidence::High
        );

        for (text, want) in [
            (
                "[a]\ndetectors = [\"nope\"]\n",
                "mine.toml:2:14: unknown detector `nope`",
            ),
            (
                "[a]\ninclude = [\"b\"]\n",
                "mine.toml:2:12: unknown profile `b` in include",
            ),
            (
                "[a]\ninclude = [\"b\"]\n[b]\ninclude = [\"a\"]\n",
                "includes itself",
            ),
            (
                "[a]\ndetectors = [\"jwt\"]\n[a.detector.iban]\nmin_matches = 2\n",
                "mine.toml:3:13: profile `a` does not use detector `iban`",
            ),
            ("[a]\ndetector = 3\n", "mine.toml:2:"),
            ("[a]\nbogus = 1\n", "unknown field `bogus`"),
        ] {
            let err = resolve(&[("mine.toml", text)], &builtin)
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
    }
}
