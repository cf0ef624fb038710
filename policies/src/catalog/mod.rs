//! The AI application catalog: which hosts belong to which app, and which of an app's
//! endpoints carry prompts or uploads.
//!
//! Built from catalog TOML text (the shipped files are embedded; the daemon passes extra or
//! override files as text), validated as a whole, then immutable. Matching a URL is a couple of
//! hash probes and never allocates for a host already in normal form. No I/O here.

mod index;
mod load;
mod model;
mod path;
mod tenant;

pub use model::{App, Category, HostKind, PromptEndpoint, UnknownCategory, UploadEndpoint};
pub use path::{FieldPath, FieldStep, PathPattern};
pub use tenant::{AccountAt, TenantHeader, TenantHint, TenantValue};

use crate::host::{with_normal_host, HostHash};
use crate::host_pattern::request_path;
use crate::source::{SourceError, SourceErrors};
use index::HostIndex;
use load::Draft;
use std::collections::HashMap;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_catalog.rs"));
}

/// Everything wrong with a set of catalog files, one `file:line:col: message` per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CatalogError(pub SourceErrors);

impl CatalogError {
    pub fn errors(&self) -> &[SourceError] {
        &self.0 .0
    }
}

/// A validated, indexed catalog.
#[derive(Debug, Default)]
pub struct Catalog {
    apps: Vec<App>,
    by_id: HashMap<String, u32, HostHash>,
    hosts: HostIndex,
}

/// A host (and path) that belongs to an app.
#[derive(Debug, Clone, Copy)]
pub struct Match<'c> {
    pub app: &'c App,
    /// Which of the app's host lists the entry came from.
    pub kind: HostKind,
    /// The catalog pattern that matched, as written.
    pub pattern: &'c str,
}

/// A catalog endpoint that a request hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint<'c> {
    /// The request sends a prompt; the text sits at these JSON field paths.
    Prompt(&'c PromptEndpoint),
    /// The request uploads a file.
    Upload(&'c UploadEndpoint),
}

/// A request matched to an app, with the endpoint it hit if any.
#[derive(Debug, Clone, Copy)]
pub struct RequestMatch<'c> {
    pub matched: Match<'c>,
    pub endpoint: Option<Endpoint<'c>>,
}

impl Catalog {
    /// The catalog files shipped inside the crate, as (file name, text).
    pub fn embedded_sources() -> &'static [(&'static str, &'static str)] {
        embedded::EMBEDDED
    }

    /// The shipped catalog.
    pub fn embedded() -> Result<Catalog, CatalogError> {
        Self::from_layers(embedded::EMBEDDED, &[])
    }

    /// The shipped catalog plus `extra` files; an app in `extra` replaces the shipped app with
    /// the same id, and new ids are added.
    pub fn embedded_with(extra: &[(&str, &str)]) -> Result<Catalog, CatalogError> {
        Self::from_layers(embedded::EMBEDDED, extra)
    }

    /// A catalog from these files only.
    pub fn from_sources(sources: &[(&str, &str)]) -> Result<Catalog, CatalogError> {
        Self::from_layers(sources, &[])
    }

    /// `base` files, then `overrides` whose apps replace base apps with the same id. Ids must be
    /// unique within each layer, hosts unique across the result.
    pub fn from_layers(
        base: &[(&str, &str)],
        overrides: &[(&str, &str)],
    ) -> Result<Catalog, CatalogError> {
        let mut errors = Vec::new();
        let base = read_layer(base, &mut errors);
        let overrides = read_layer(overrides, &mut errors);
        let replaced: HashMap<&str, (), HostHash> =
            overrides.iter().map(|d| (d.app.id.as_str(), ())).collect();
        let mut drafts: Vec<Draft> = base
            .into_iter()
            .filter(|d| !replaced.contains_key(d.app.id.as_str()))
            .collect();
        drafts.extend(overrides);
        let (hosts, dup_errors) = HostIndex::build(&drafts);
        errors.extend(dup_errors);
        if !errors.is_empty() {
            return Err(CatalogError(SourceErrors(errors)));
        }
        let apps: Vec<App> = drafts.into_iter().map(|d| d.app).collect();
        let by_id = apps
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.clone(), u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
        Ok(Catalog { apps, by_id, hosts })
    }

    /// All apps, in file order.
    pub fn apps(&self) -> &[App] {
        &self.apps
    }

    pub fn app(&self, id: &str) -> Option<&App> {
        self.by_id.get(id).and_then(|&i| self.apps.get(i as usize))
    }

    /// Number of host entries indexed.
    pub fn host_count(&self) -> usize {
        self.hosts.len()
    }

    /// The app a host (port already stripped) and request path belong to. Hosts that cannot
    /// be normalised (empty, malformed, too long) match nothing.
    #[inline]
    pub fn match_url(&self, host: &str, path: &str) -> Option<Match<'_>> {
        let raw = host.strip_suffix('.').unwrap_or(host);
        // Index keys are host names in normal form, so a byte-equal hit needs no normalising:
        // the common case (a browser's lowercase host) costs one probe.
        let entry = match self.hosts.exact(raw, path) {
            Some(e) => e,
            None => with_normal_host(host, |h| {
                let exact = if h.changed {
                    self.hosts.exact(h.name, path)
                } else {
                    None
                };
                match exact {
                    Some(e) => Some(e),
                    None if h.is_ip => None,
                    None => self.hosts.wildcard(h.name, h.labels, path),
                }
            })
            .ok()??,
        };
        let app = self.apps.get(entry.app as usize)?;
        Some(Match {
            app,
            kind: entry.kind,
            pattern: &entry.pattern,
        })
    }

    /// [`match_url`](Self::match_url) plus the prompt or upload endpoint `method path` hits.
    pub fn match_request(&self, host: &str, method: &str, path: &str) -> Option<RequestMatch<'_>> {
        let matched = self.match_url(host, path)?;
        Some(RequestMatch {
            matched,
            endpoint: matched.endpoint(method, path),
        })
    }
}

impl<'c> Match<'c> {
    /// The endpoint `method path` hits on this host, if any. Prompt endpoints apply on usage
    /// and API hosts; an upload endpoint applies on the host it names, or when it names none on
    /// usage and API hosts. Prompt endpoints are tried first.
    pub fn endpoint(&self, method: &str, path: &str) -> Option<Endpoint<'c>> {
        let path = request_path(path);
        let on_app_host = matches!(self.kind, HostKind::Usage | HostKind::Api);
        if on_app_host {
            let prompt = self
                .app
                .prompts
                .iter()
                .find(|p| p.method.eq_ignore_ascii_case(method) && p.path.matches(path));
            if let Some(p) = prompt {
                return Some(Endpoint::Prompt(p));
            }
        }
        self.app
            .uploads
            .iter()
            .find(|u| {
                let host_ok = match &u.host {
                    Some(h) => h.as_str() == self.pattern,
                    None => on_app_host,
                };
                host_ok && u.method.eq_ignore_ascii_case(method) && u.path.matches(path)
            })
            .map(Endpoint::Upload)
    }
}

fn read_layer(files: &[(&str, &str)], errors: &mut Vec<SourceError>) -> Vec<Draft> {
    let mut seen: HashMap<String, (String, usize), HostHash> = HashMap::default();
    let mut drafts = Vec::new();
    for (file, text) in files {
        let (file_drafts, file_errors) = load::read_file(file, text);
        errors.extend(file_errors);
        for d in file_drafts {
            if let Some((first_file, first_line)) = seen.get(&d.app.id) {
                errors.push(SourceError {
                    file: (*file).to_owned(),
                    line: d.id_at.line,
                    col: d.id_at.col,
                    message: format!(
                        "app id {:?} is already defined at {first_file}:{first_line}",
                        d.app.id
                    ),
                });
                continue;
            }
            seen.insert(d.app.id.clone(), ((*file).to_owned(), d.id_at.line));
            drafts.push(d);
        }
    }
    drafts
}

#[cfg(test)]
mod tests;
