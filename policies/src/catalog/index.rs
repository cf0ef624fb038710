//! The host index: exact hosts and wildcard suffixes in two hash maps, built once per catalog.
//!
//! A lookup is one hash probe on the normalised host, then one probe per parent domain for
//! wildcard entries (only for parents with as many labels as some wildcard has; skipped for
//! IP literals). It never allocates. Building the index is where
//! duplicate hosts across apps are found and reported with both positions.

use super::load::{Draft, Pos};
use super::model::HostKind;
use crate::host::HostHash;
use crate::host_pattern::request_path;
use crate::source::SourceError;
use std::collections::HashMap;

/// What a host entry points at.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub app: u32,
    pub kind: HostKind,
    /// The pattern as written, e.g. `*.chatgpt.com` or `www.bing.com/chat`.
    pub pattern: Box<str>,
}

/// Everything registered under one host key.
#[derive(Debug, Default)]
struct Slot {
    plain: Option<Entry>,
    /// Path-prefixed entries; boxed because few hosts have any.
    prefixed: Option<Box<Prefixes>>,
}

/// Path-prefixed entries of one host, found by probing the request path cut at each prefix
/// length (longest first) rather than by comparing every prefix.
#[derive(Debug, Default)]
struct Prefixes {
    by_prefix: HashMap<Box<str>, Entry, HostHash>,
    /// Distinct prefix lengths, longest first.
    lengths: Vec<usize>,
}

impl Slot {
    #[inline]
    fn find(&self, path: &str) -> Option<&Entry> {
        if let Some(prefixes) = &self.prefixed {
            let path = request_path(path);
            for &len in &prefixes.lengths {
                if let Some(e) = path.get(..len).and_then(|p| prefixes.by_prefix.get(p)) {
                    return Some(e);
                }
            }
        }
        self.plain.as_ref()
    }

    fn len(&self) -> usize {
        usize::from(self.plain.is_some()) + self.prefixed.as_ref().map_or(0, |p| p.by_prefix.len())
    }
}

#[derive(Debug, Default)]
pub(super) struct HostIndex {
    exact: HashMap<Box<str>, Slot, HostHash>,
    suffix: HashMap<Box<str>, Slot, HostHash>,
    /// Fewest and most labels of any wildcard suffix: parents outside the range are not probed.
    wild_min: usize,
    wild_max: usize,
}

/// Where an entry was declared, for duplicate reports.
struct Origin {
    app: u32,
    at: Pos,
}

impl HostIndex {
    /// Indexes every host of `drafts` (app index = position in `drafts`). Duplicates are
    /// reported against the later declaration, naming the earlier app and its position.
    pub(super) fn build(drafts: &[Draft]) -> (HostIndex, Vec<SourceError>) {
        let mut index = HostIndex::default();
        let mut errors = Vec::new();
        let mut origins: HashMap<&str, Origin, HostHash> = HashMap::default();
        for (app, draft) in drafts.iter().enumerate() {
            let app = u32::try_from(app).unwrap_or(u32::MAX);
            for host in &draft.hosts {
                let text = host.pattern.as_str();
                let here = Origin { app, at: host.at };
                if let Some(first) = origins.get(text) {
                    let same_app_upload = first.app == app && host.kind == HostKind::Upload;
                    if !same_app_upload {
                        errors.push(duplicate(drafts, first, &here, text));
                    }
                    continue;
                }
                origins.insert(text, here);
                let map = if host.pattern.is_wildcard() {
                    &mut index.suffix
                } else {
                    &mut index.exact
                };
                let slot = map.entry(host.pattern.host().into()).or_default();
                let entry = Entry {
                    app,
                    kind: host.kind,
                    pattern: text.into(),
                };
                match host.pattern.path_prefix() {
                    None => slot.plain = Some(entry),
                    Some(prefix) => {
                        let prefixes = slot.prefixed.get_or_insert_with(Box::default);
                        prefixes.by_prefix.insert(prefix.into(), entry);
                        if !prefixes.lengths.contains(&prefix.len()) {
                            prefixes.lengths.push(prefix.len());
                            prefixes.lengths.sort_by_key(|&l| std::cmp::Reverse(l));
                        }
                    }
                }
            }
        }
        let labels = |k: &str| k.bytes().filter(|&b| b == b'.').count() + 1;
        index.wild_min = index.suffix.keys().map(|k| labels(k)).min().unwrap_or(0);
        index.wild_max = index.suffix.keys().map(|k| labels(k)).max().unwrap_or(0);
        (index, errors)
    }

    /// The entry registered for exactly `host` (normal form) and `path`.
    #[inline]
    pub(super) fn exact(&self, host: &str, path: &str) -> Option<&Entry> {
        self.exact.get(host).and_then(|s| s.find(path))
    }

    /// The most specific wildcard entry covering `host` (normal form, not an IP literal, with
    /// `labels` labels) and `path`.
    #[inline]
    pub(super) fn wildcard(&self, host: &str, labels: usize, path: &str) -> Option<&Entry> {
        // Parent domains with `hi` down to `wild_min` labels, most specific first.
        let hi = self.wild_max.min(labels.saturating_sub(1));
        if hi < self.wild_min.max(1) {
            return None;
        }
        let mut rest = host;
        for _ in 0..labels - hi {
            rest = after_dot(rest)?;
        }
        let mut k = hi;
        loop {
            if let Some(e) = self.suffix.get(rest).and_then(|s| s.find(path)) {
                return Some(e);
            }
            if k <= self.wild_min {
                return None;
            }
            rest = after_dot(rest)?;
            k -= 1;
        }
    }

    pub(super) fn len(&self) -> usize {
        let count =
            |m: &HashMap<Box<str>, Slot, HostHash>| m.values().map(Slot::len).sum::<usize>();
        count(&self.exact) + count(&self.suffix)
    }
}

#[inline]
fn after_dot(s: &str) -> Option<&str> {
    let dot = s.bytes().position(|b| b == b'.')?;
    s.get(dot + 1..)
}

fn duplicate(drafts: &[Draft], first: &Origin, here: &Origin, host: &str) -> SourceError {
    // Both origins were made from indices into `drafts`, so the lookups succeed; the
    // fallback keeps this total without a panic path.
    let app_of = |o: &Origin| drafts.get(o.app as usize).map(|d| &d.app);
    let (Some(a), Some(b)) = (app_of(first), app_of(here)) else {
        let message = format!("duplicate host {host:?}");
        return SourceError {
            file: String::new(),
            line: here.at.line,
            col: here.at.col,
            message,
        };
    };
    let message = if first.app == here.app {
        format!(
            "host {host:?} is listed twice in app {:?} (first at line {})",
            b.id, first.at.line
        )
    } else {
        format!(
            "host {host:?} of app {:?} is already claimed by app {:?} ({}:{}:{})",
            b.id, a.id, a.file, first.at.line, first.at.col
        )
    };
    SourceError {
        file: b.file.clone(),
        line: here.at.line,
        col: here.at.col,
        message,
    }
}
