//! Reading one catalog file's text into validated apps (SCHEMA.md is the contract).
//!
//! Every problem is reported with `file:line:col`; all problems of a file are collected rather
//! than stopping at the first. Cross-file checks (duplicate ids and hosts) live in `index`.

use super::model::{App, Category, HostKind, PromptEndpoint, UploadEndpoint};
use super::path::{FieldPath, PathPattern};
use crate::host_pattern::HostPattern;
use crate::source::{LineIndex, SourceError};
use serde::Deserialize;
use toml::Spanned;

/// Registrable domains shared by unrelated customers: a wildcard over them would claim other
/// people's traffic for one app.
const SHARED_DOMAINS: &[&str] = &[
    "amazonaws.com",
    "s3.amazonaws.com",
    "cloudfront.net",
    "azureedge.net",
    "azurefd.net",
    "azurewebsites.net",
    "blob.core.windows.net",
    "cloudapp.azure.com",
    "googleapis.com",
    "storage.googleapis.com",
    "googleusercontent.com",
    "appspot.com",
    "web.app",
    "firebaseapp.com",
    "run.app",
    "akamaized.net",
    "akamaihd.net",
    "edgekey.net",
    "fastly.net",
    "cloudflare.net",
    "workers.dev",
    "pages.dev",
    "r2.dev",
    "herokuapp.com",
    "vercel.app",
    "netlify.app",
    "github.io",
    "githubusercontent.com",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    app: Vec<RawApp>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApp {
    id: Spanned<String>,
    name: Spanned<String>,
    vendor: Spanned<String>,
    vendor_country: Spanned<String>,
    category: Category,
    risk: Spanned<i64>,
    risk_reasons: Spanned<Vec<String>>,
    description: Option<Spanned<String>>,
    source: Spanned<String>,
    #[serde(default)]
    hosts: Vec<Spanned<String>>,
    #[serde(default)]
    support_hosts: Vec<Spanned<String>>,
    #[serde(default)]
    api_hosts: Vec<Spanned<String>>,
    #[serde(default)]
    prompt: Vec<RawPrompt>,
    #[serde(default)]
    upload: Vec<RawUpload>,
    tenant: Option<super::tenant::RawTenant>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrompt {
    method: Spanned<String>,
    path: Spanned<String>,
    fields: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUpload {
    method: Spanned<String>,
    host: Option<Spanned<String>>,
    path: Spanned<String>,
}

/// A 1-based position in a catalog file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pos {
    pub line: usize,
    pub col: usize,
}

/// One host entry of an app, kept with its position for duplicate reports.
pub(super) struct HostDraft {
    pub pattern: HostPattern,
    pub kind: HostKind,
    pub at: Pos,
}

/// An app read from a file, not yet checked against other apps.
pub(super) struct Draft {
    pub app: App,
    pub id_at: Pos,
    pub hosts: Vec<HostDraft>,
}

pub(super) struct Reader<'t> {
    file: &'t str,
    lines: LineIndex<'t>,
    pub(super) errors: Vec<SourceError>,
}

impl Reader<'_> {
    fn pos<T>(&self, s: &Spanned<T>) -> Pos {
        let (line, col) = self.lines.line_col(s.span().start);
        Pos { line, col }
    }

    pub(super) fn error<T>(&mut self, at: &Spanned<T>, message: String) {
        self.errors
            .push(self.lines.error(self.file, at.span().start, message));
    }

    fn non_empty(&mut self, field: &str, value: &Spanned<String>) -> String {
        if value.get_ref().trim().is_empty() {
            self.error(value, format!("`{field}` must not be empty"));
        }
        value.get_ref().clone()
    }

    pub(super) fn host(&mut self, raw: &Spanned<String>) -> Option<HostPattern> {
        match HostPattern::parse(raw.get_ref()) {
            Ok(p) if p.is_wildcard() && SHARED_DOMAINS.contains(&p.host()) => {
                let msg = format!(
                    "`*.{}` is shared by unrelated customers; list full host names instead",
                    p.host()
                );
                self.error(raw, msg);
                None
            }
            Ok(p) => Some(p),
            Err(e) => {
                self.error(raw, e.to_string());
                None
            }
        }
    }

    fn path(&mut self, raw: &Spanned<String>) -> Option<PathPattern> {
        PathPattern::parse(raw.get_ref())
            .map_err(|e| self.error(raw, e))
            .ok()
    }
}

/// Reads one catalog file. Returns the apps that validated and every error found.
pub(super) fn read_file(file: &str, text: &str) -> (Vec<Draft>, Vec<SourceError>) {
    let raw: RawFile = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => return (Vec::new(), vec![SourceError::from_toml(file, text, &e)]),
    };
    let mut r = Reader {
        file,
        lines: LineIndex::new(text),
        errors: Vec::new(),
    };
    let mut drafts = Vec::with_capacity(raw.app.len());
    for app in raw.app {
        let before = r.errors.len();
        let draft = read_app(&mut r, app);
        if r.errors.len() == before {
            drafts.push(draft);
        }
    }
    (drafts, r.errors)
}

fn read_app(r: &mut Reader<'_>, raw: RawApp) -> Draft {
    let id = raw.id.get_ref();
    let id_ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-');
    if !id_ok {
        r.error(&raw.id, format!("app id {id:?} must be 1-64 characters of [a-z0-9-], not starting or ending with `-`"));
    }
    let name = r.non_empty("name", &raw.name);
    let vendor = r.non_empty("vendor", &raw.vendor);
    let country = raw.vendor_country.get_ref();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        r.error(
            &raw.vendor_country,
            format!("vendor_country {country:?} must be an ISO 3166-1 alpha-2 code such as \"US\""),
        );
    }
    let risk = *raw.risk.get_ref();
    if !(1..=5).contains(&risk) {
        r.error(&raw.risk, format!("risk {risk} is out of range 1..=5"));
    }
    let reasons = raw.risk_reasons.get_ref();
    if reasons.is_empty() || reasons.iter().any(|s| s.trim().is_empty()) {
        r.error(
            &raw.risk_reasons,
            "risk_reasons needs at least one non-empty reason".into(),
        );
    }
    let description = raw.description.map(|d| {
        if d.get_ref().contains('\n') {
            r.error(&d, "description is one line".into());
        }
        d.into_inner()
    });
    if let Err(why) = check_source_url(raw.source.get_ref()) {
        r.error(&raw.source, why);
    }
    if raw.hosts.is_empty() && raw.api_hosts.is_empty() {
        r.error(
            &raw.id,
            format!("app {id:?} needs at least one entry in `hosts` or `api_hosts`"),
        );
    }

    let mut hosts = Vec::new();
    let mut lists: [Vec<HostPattern>; 3] = Default::default();
    let kinds = [
        (HostKind::Usage, &raw.hosts),
        (HostKind::Support, &raw.support_hosts),
        (HostKind::Api, &raw.api_hosts),
    ];
    for (slot, (kind, list)) in lists.iter_mut().zip(kinds) {
        for entry in list {
            if let Some(pattern) = r.host(entry) {
                hosts.push(HostDraft {
                    pattern: pattern.clone(),
                    kind,
                    at: r.pos(entry),
                });
                slot.push(pattern);
            }
        }
    }
    let [usage, support, api] = lists;

    let prompts = raw
        .prompt
        .iter()
        .filter_map(|p| read_prompt(r, p))
        .collect();
    let mut uploads = Vec::new();
    for u in &raw.upload {
        let method = u.method.get_ref();
        if method != "POST" && method != "PUT" {
            r.error(
                &u.method,
                format!("upload method {method:?} must be \"POST\" or \"PUT\""),
            );
        }
        let host = u.host.as_ref().and_then(|h| {
            let pattern = r.host(h)?;
            if pattern.path_prefix().is_some() {
                r.error(h, "an upload host has no path prefix; use `path`".into());
                return None;
            }
            hosts.push(HostDraft {
                pattern: pattern.clone(),
                kind: HostKind::Upload,
                at: r.pos(h),
            });
            Some(pattern)
        });
        if let Some(path) = r.path(&u.path) {
            uploads.push(UploadEndpoint {
                method: method.clone(),
                host,
                path,
            });
        }
    }

    let tenant = raw.tenant.and_then(|t| super::tenant::read(r, t));
    let app = App {
        id: id.clone(),
        name,
        vendor,
        vendor_country: country.clone(),
        category: raw.category,
        risk: u8::try_from(risk.clamp(1, 5)).unwrap_or(5),
        risk_reasons: raw.risk_reasons.into_inner(),
        description,
        hosts: usage,
        support_hosts: support,
        api_hosts: api,
        prompts,
        uploads,
        tenant,
        source: raw.source.into_inner(),
        file: r.file.to_owned(),
    };
    Draft {
        app,
        id_at: r.pos(&raw.id),
        hosts,
    }
}

fn read_prompt(r: &mut Reader<'_>, p: &RawPrompt) -> Option<PromptEndpoint> {
    let method = p.method.get_ref();
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        r.error(
            &p.method,
            format!("method {method:?} must be an uppercase HTTP method such as \"POST\""),
        );
    }
    if p.fields.get_ref().is_empty() {
        r.error(&p.fields, "`fields` needs at least one field path".into());
    }
    let mut fields = Vec::new();
    for f in p.fields.get_ref() {
        match FieldPath::parse(f.get_ref()) {
            Ok(field) => fields.push(field),
            Err(e) => r.error(f, e),
        }
    }
    let path = r.path(&p.path)?;
    Some(PromptEndpoint {
        method: method.clone(),
        path,
        fields,
    })
}

/// A `source` is where a reviewer checks the entry: an `https://` URL with a host name, one
/// line, no spaces.
pub(super) fn check_source_url(url: &str) -> Result<(), String> {
    let fail = |why: &str| Err(format!("source {url:?} {why}"));
    let Some(rest) = url.strip_prefix("https://") else {
        return fail("must be an https:// URL of the vendor's docs or the app's own pages");
    };
    if url.len() > 512
        || url
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return fail("must be one URL of at most 512 characters without spaces");
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_ok = host.contains('.')
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && !host.starts_with(['.', '-'])
        && !host.ends_with(['.', '-']);
    if !host_ok {
        return fail("has no valid host name");
    }
    Ok(())
}
