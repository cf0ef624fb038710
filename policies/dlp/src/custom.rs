//! The deployment's own detectors: [`KeywordList`]s (internal project names, matched
//! case-insensitively as whole words), [`CustomRegex`]es (compiled with a size limit, Unicode
//! off when the pattern allows; with `keywords` they join the shared anchor pass and run only
//! in a window around each keyword, without them they run over the whole text) and EDM sets.
//! A custom regex that compiles too big is refused with [`DlpError::RegexTooBig`].

use super::detector::{Detection, DetectorRef, DetectorSet};
use super::edm::EdmSet;
use super::error::DlpError;
use super::finding::Confidence;
use super::scan::Cx;
use super::text::is_word;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;

/// Compiled-size limit of one custom regex (bytes of the compiled program).
pub const CUSTOM_REGEX_SIZE_LIMIT: usize = 256 * 1024;
/// Longest custom regex source accepted.
pub const CUSTOM_REGEX_MAX_LEN: usize = 4096;
/// Most matches one custom detector reports per scan (bounded memory on hostile input).
const MAX_MATCHES: usize = 10_000;

fn medium() -> Confidence {
    Confidence::Medium
}

fn default_window() -> usize {
    256
}

/// Words that are sensitive in this organisation (project code names, customer names).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeywordList {
    pub id: String,
    pub words: Vec<String>,
    #[serde(default = "medium")]
    pub confidence: Confidence,
}

/// A regular expression for data the built-ins do not know (employee ids, ticket secrets).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomRegex {
    pub id: String,
    pub pattern: String,
    #[serde(default = "medium")]
    pub confidence: Confidence,
    /// Literal anchors: when set, the regex runs only within `window` bytes of one.
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default = "default_window")]
    pub window: usize,
}

/// Compiles `pattern` for detector `id` under [`CUSTOM_REGEX_SIZE_LIMIT`].
pub(crate) fn compile(id: &str, pattern: &str) -> Result<Regex, DlpError> {
    if pattern.len() > CUSTOM_REGEX_MAX_LEN {
        return Err(DlpError::RegexTooLong {
            id: id.to_owned(),
            len: pattern.len(),
            max: CUSTOM_REGEX_MAX_LEN,
        });
    }
    let build = |unicode: bool| {
        RegexBuilder::new(pattern)
            .unicode(unicode)
            .size_limit(CUSTOM_REGEX_SIZE_LIMIT)
            .dfa_size_limit(CUSTOM_REGEX_SIZE_LIMIT)
            .nest_limit(64)
            .build()
    };
    build(false).or_else(|_| build(true)).map_err(|e| match e {
        regex::Error::CompiledTooBig(limit) => DlpError::RegexTooBig {
            id: id.to_owned(),
            limit,
        },
        other => DlpError::RegexInvalid {
            id: id.to_owned(),
            message: other.to_string(),
        },
    })
}

#[derive(Debug, Clone)]
struct CompiledRegex {
    detector: usize,
    re: Regex,
    confidence: Confidence,
    window: usize,
    anchored: bool,
}

/// All custom detectors of one engine; their index is their [`DetectorRef::Custom`] number.
#[derive(Debug, Clone, Default)]
pub(crate) struct Customs {
    pub ids: Vec<String>,
    keywords: Option<AhoCorasick>,
    keyword_owner: Vec<(usize, Confidence)>,
    regexes: Vec<CompiledRegex>,
    edms: Vec<(usize, EdmSet)>,
    /// (keyword, regex position) for the shared anchor automaton.
    pub anchors: Vec<(String, usize)>,
}

impl Customs {
    pub fn new(
        lists: &[KeywordList],
        regexes: &[CustomRegex],
        edms: Vec<EdmSet>,
    ) -> Result<Self, DlpError> {
        let mut c = Customs::default();
        let mut words = Vec::new();
        for list in lists {
            let detector = c.push_id(&list.id);
            for w in list
                .words
                .iter()
                .map(|w| w.trim())
                .filter(|w| !w.is_empty())
            {
                words.push(w.to_owned());
                c.keyword_owner.push((detector, list.confidence));
            }
            if !c.keyword_owner.iter().any(|(d, _)| *d == detector) {
                return Err(DlpError::EmptyKeywordList(list.id.clone()));
            }
        }
        if !words.is_empty() {
            let ac = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::LeftmostLongest)
                .build(&words)
                .map_err(|e| DlpError::Internal(e.to_string()))?;
            c.keywords = Some(ac);
        }
        for r in regexes {
            let re = compile(&r.id, &r.pattern)?;
            let detector = c.push_id(&r.id);
            let anchored = !r.keywords.is_empty();
            for k in r.keywords.iter().filter(|k| !k.is_empty()) {
                c.anchors.push((k.clone(), c.regexes.len()));
            }
            c.regexes.push(CompiledRegex {
                detector,
                re,
                confidence: r.confidence,
                window: r.window.min(64 * 1024),
                anchored,
            });
        }
        for e in edms {
            let detector = c.push_id(e.id());
            c.edms.push((detector, e));
        }
        Ok(c)
    }

    fn push_id(&mut self, id: &str) -> usize {
        self.ids.push(id.to_owned());
        self.ids.len() - 1
    }

    /// Whether a regex that needs the anchor pass is in `set`.
    pub fn anchored_in(&self, set: &DetectorSet) -> bool {
        self.regexes
            .iter()
            .any(|r| r.anchored && set.has_custom(r.detector))
    }

    /// Runs regex number `pos` in the window around a keyword hit at `at`.
    pub fn on_anchor(&self, cx: &mut Cx<'_>, pos: usize, at: usize) {
        let Some(r) = self
            .regexes
            .get(pos)
            .filter(|r| cx.set.has_custom(r.detector))
        else {
            return;
        };
        let lo = at.saturating_sub(r.window);
        let hi = at.saturating_add(r.window).min(cx.text.len());
        for m in r.re.find_iter(&cx.text[lo..hi]).take(MAX_MATCHES) {
            push(cx, r.detector, lo + m.start(), lo + m.end(), r.confidence);
        }
    }

    /// Keyword lists, whole-text regexes and EDM sets enabled in `cx.set`.
    pub fn scan_unanchored(&self, cx: &mut Cx<'_>) {
        if !cx.set.any_custom() {
            return;
        }
        let text = cx.text;
        if let Some(ac) = &self.keywords {
            let mut n = 0;
            for m in ac.find_iter(text) {
                let (detector, confidence) = self.keyword_owner[m.pattern().as_usize()];
                let whole = super::text::left_boundary(text, m.start(), is_word)
                    && super::text::right_boundary(text, m.end(), is_word);
                if whole && cx.set.has_custom(detector) && n < MAX_MATCHES {
                    push(cx, detector, m.start(), m.end(), confidence);
                    n += 1;
                }
            }
        }
        for r in self
            .regexes
            .iter()
            .filter(|r| !r.anchored && cx.set.has_custom(r.detector))
        {
            for m in r.re.find_iter(text).take(MAX_MATCHES) {
                push(cx, r.detector, m.start(), m.end(), r.confidence);
            }
        }
        for (detector, edm) in self.edms.iter().filter(|(d, _)| cx.set.has_custom(*d)) {
            for (start, end) in edm.find(text).into_iter().take(MAX_MATCHES) {
                push(cx, *detector, start, end, edm.confidence());
            }
        }
    }
}

/// Records a custom match widened to character boundaries (a byte regex may split one).
fn push(
    cx: &mut Cx<'_>,
    detector: usize,
    mut start: usize,
    mut end: usize,
    confidence: Confidence,
) {
    if start == end {
        return;
    }
    while start > 0 && cx.text.get(start).is_some_and(|b| (*b & 0xC0) == 0x80) {
        start -= 1;
    }
    while cx.text.get(end).is_some_and(|b| (*b & 0xC0) == 0x80) {
        end += 1;
    }
    cx.out.push(Detection {
        detector: DetectorRef::Custom(detector),
        start,
        end,
        confidence,
    });
}
