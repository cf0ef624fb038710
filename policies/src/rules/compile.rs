//! Turning one policy file's text into validated rules, with `file:line:col` errors.
//!
//! Checks here are local to a file (selector values, action parameters, request-level
//! selectors on `do_not_inspect`); rule-id uniqueness across files and catalog references are
//! checked by the caller. All errors of a file are collected.

use super::file::{ActionKind, RawPolicy, RawRule, RawWhen, Strings};
use super::selector::Selector;
use super::verdict::{Action, OnMatch, DEFAULT_AUDIT_BYTES, MAX_AUDIT_BYTES};
use crate::catalog::Category;
use crate::host_pattern::HostPattern;
use crate::source::{LineIndex, SourceError};
use crate::status::AppStatus;
use std::sync::Arc;
use toml::Spanned;

/// A validated rule.
#[derive(Debug)]
pub(super) struct Rule {
    pub id: Arc<str>,
    pub description: Option<String>,
    pub when: Selector,
    /// The rule does not match when this matches.
    pub unless: Option<Selector>,
    pub action: Action,
    pub message: Option<Arc<str>>,
    pub alternative: Option<Arc<str>>,
    /// DLP monitor mode (`allow` and `audit` rules): scanned, logged, never blocking.
    pub monitor_profile: Option<Arc<str>>,
    /// Where the id was written, for duplicate reports.
    pub id_at: SourceError,
}

/// An app id a rule mentions, kept to warn about ids the catalog does not know.
#[derive(Debug)]
pub(super) struct AppRef {
    pub id: String,
    pub at: SourceError,
}

/// What one file contributed.
pub(super) struct Compiled {
    pub version: Option<String>,
    pub rules: Vec<Rule>,
    pub app_refs: Vec<AppRef>,
}

struct Cx<'t> {
    file: &'t str,
    lines: LineIndex<'t>,
    errors: &'t mut Vec<SourceError>,
    app_refs: Vec<AppRef>,
}

impl Cx<'_> {
    fn at<T>(&self, s: &Spanned<T>, message: impl Into<String>) -> SourceError {
        self.lines.error(self.file, s.span().start, message)
    }

    fn error<T>(&mut self, s: &Spanned<T>, message: impl Into<String>) {
        let e = self.at(s, message);
        self.errors.push(e);
    }

    /// The list of a selector, rejecting an empty one.
    fn list<'s>(&mut self, key: &str, value: &'s Option<Spanned<Strings>>) -> &'s [String] {
        match value {
            Some(v) if v.get_ref().0.is_empty() => {
                self.error(v, format!("`{key}` is an empty list, which would match nothing; remove the key instead"));
                &[]
            }
            Some(v) => &v.get_ref().0,
            None => &[],
        }
    }

    /// Parses every item of a list selector with `parse`, reporting failures at the value.
    fn parsed<T>(
        &mut self,
        key: &str,
        value: &Option<Spanned<Strings>>,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Vec<T> {
        let mut out = Vec::new();
        for item in self.list(key, value) {
            match parse(item) {
                Ok(v) => out.push(v),
                Err(e) => {
                    if let Some(v) = value {
                        self.error(v, e);
                    }
                }
            }
        }
        out
    }
}

pub(super) fn compile_file(file: &str, text: &str, errors: &mut Vec<SourceError>) -> Compiled {
    let raw: RawPolicy = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            errors.push(SourceError::from_toml(file, text, &e));
            return Compiled {
                version: None,
                rules: Vec::new(),
                app_refs: Vec::new(),
            };
        }
    };
    let mut cx = Cx {
        file,
        lines: LineIndex::new(text),
        errors,
        app_refs: Vec::new(),
    };
    if let Some(v) = &raw.version {
        if v.get_ref().trim().is_empty() || v.get_ref().len() > 128 {
            cx.error(v, "`version` must be 1-128 characters");
        }
    }
    let rules = raw
        .rule
        .into_iter()
        .filter_map(|r| compile_rule(&mut cx, r))
        .collect();
    Compiled {
        version: raw.version.map(Spanned::into_inner),
        rules,
        app_refs: cx.app_refs,
    }
}

fn compile_rule(cx: &mut Cx<'_>, raw: RawRule) -> Option<Rule> {
    let before = cx.errors.len();
    let id = raw.id.get_ref();
    let id_ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !id_ok {
        cx.error(
            &raw.id,
            format!("rule id {id:?} must be 1-64 characters of [A-Za-z0-9._-]"),
        );
    } else if id == "default" {
        cx.error(
            &raw.id,
            "rule id \"default\" is reserved for the verdict when no rule matches",
        );
    }
    let kind = *raw.action.get_ref();
    let mut when = match &raw.when {
        Some(w) => compile_when(cx, w.get_ref()),
        None => Selector::default(),
    };
    let unless = raw.unless.as_ref().map(|u| {
        let sel = compile_when(cx, u.get_ref());
        if sel.is_empty() {
            cx.error(
                u,
                "`unless` has no selectors, so the rule could never match",
            );
        }
        sel
    });
    let action = compile_action(cx, &raw, kind);
    if kind == ActionKind::BlockUploads {
        // Such a rule matches uploads only; other requests fall through to later rules.
        if let Some(up) = raw.when.as_ref().and_then(|w| w.get_ref().upload.as_ref()) {
            if !*up.get_ref() {
                cx.error(
                    up,
                    "`block_uploads` applies to uploads only; `upload = false` contradicts it",
                );
            }
        }
        when.upload = Some(true);
    }
    if kind == ActionKind::DoNotInspect {
        let mut keys = when.request_level_keys();
        keys.extend(
            unless
                .as_ref()
                .map(Selector::request_level_keys)
                .unwrap_or_default(),
        );
        if !keys.is_empty() {
            let at = raw
                .when
                .as_ref()
                .map_or(raw.id.span().start, |w| w.span().start);
            let msg = format!(
                "`do_not_inspect` is decided before any request is seen; it cannot use {}",
                keys.join(", ")
            );
            cx.errors.push(cx.lines.error(cx.file, at, msg));
        }
    }
    if let Some(alt) = &raw.alternative {
        let at = cx.at(
            alt,
            format!("alternative names unknown app {:?}", alt.get_ref()),
        );
        cx.app_refs.push(AppRef {
            id: alt.get_ref().clone(),
            at,
        });
    }
    let monitor_profile = raw.monitor_profile.as_ref().and_then(|p| {
        let name = p.get_ref().trim();
        if name.is_empty() {
            cx.error(p, "`monitor_profile` must name a DLP profile");
            return None;
        }
        Some(Arc::<str>::from(name))
    });
    let id_at = cx.at(&raw.id, "");
    (cx.errors.len() == before).then(|| Rule {
        monitor_profile,
        id: id.as_str().into(),
        description: raw.description,
        when,
        unless,
        action,
        message: raw.message.map(|m| m.into_inner().into()),
        alternative: raw.alternative.map(|a| a.into_inner().into()),
        id_at,
    })
}

fn compile_action(cx: &mut Cx<'_>, raw: &RawRule, kind: ActionKind) -> Action {
    let allowed: &[&str] = match kind {
        ActionKind::Allow => &["monitor_profile"],
        ActionKind::DoNotInspect => &[],
        ActionKind::Block | ActionKind::BlockUploads | ActionKind::Warn => {
            &["message", "alternative"]
        }
        ActionKind::Isolate => &["message"],
        ActionKind::Dlp => &["profile", "on_match", "message", "alternative"],
        ActionKind::Audit => &["max_prompt_bytes", "monitor_profile"],
        ActionKind::Route => &["dry_run"],
    };
    let present = [
        ("message", raw.message.as_ref().map(|s| s.span())),
        ("alternative", raw.alternative.as_ref().map(|s| s.span())),
        ("profile", raw.profile.as_ref().map(|s| s.span())),
        ("on_match", raw.on_match.as_ref().map(|s| s.span())),
        (
            "max_prompt_bytes",
            raw.max_prompt_bytes.as_ref().map(|s| s.span()),
        ),
        (
            "monitor_profile",
            raw.monitor_profile.as_ref().map(|s| s.span()),
        ),
        ("dry_run", raw.dry_run.as_ref().map(|s| s.span())),
    ];
    for (key, span) in present {
        if let Some(span) = span {
            if !allowed.contains(&key) {
                let msg = format!("`{key}` does not apply to action `{}`", kind.as_str());
                cx.errors.push(cx.lines.error(cx.file, span.start, msg));
            }
        }
    }
    match kind {
        ActionKind::Allow => Action::Allow,
        ActionKind::Block => Action::Block,
        ActionKind::BlockUploads => Action::BlockUploads,
        ActionKind::Isolate => Action::Isolate,
        ActionKind::Warn => Action::Warn,
        ActionKind::DoNotInspect => Action::DoNotInspect,
        ActionKind::Route => Action::Route {
            dry_run: raw.dry_run.as_ref().is_some_and(|d| *d.get_ref()),
        },
        ActionKind::Dlp => {
            let profile = match &raw.profile {
                Some(p) if !p.get_ref().trim().is_empty() => p.get_ref().as_str().into(),
                Some(p) => {
                    cx.error(p, "`profile` must name a DLP profile");
                    "".into()
                }
                None => {
                    cx.error(&raw.action, "action `dlp` needs `profile`");
                    "".into()
                }
            };
            // Fail closed: a finding blocks unless the rule says otherwise.
            let on_match = raw
                .on_match
                .as_ref()
                .map_or(OnMatch::Block, |m| *m.get_ref());
            Action::Dlp { profile, on_match }
        }
        ActionKind::Audit => {
            let bytes = match &raw.max_prompt_bytes {
                None => DEFAULT_AUDIT_BYTES,
                Some(b) => match u32::try_from(*b.get_ref()) {
                    Ok(n) if (1..=MAX_AUDIT_BYTES).contains(&n) => n,
                    _ => {
                        cx.error(b, format!("max_prompt_bytes must be 1..={MAX_AUDIT_BYTES}"));
                        DEFAULT_AUDIT_BYTES
                    }
                },
            };
            Action::Audit {
                max_prompt_bytes: bytes,
            }
        }
    }
}

fn compile_when(cx: &mut Cx<'_>, w: &RawWhen) -> Selector {
    let mut s = Selector::default();
    for id in cx.list("app", &w.app).to_vec() {
        if let Some(v) = &w.app {
            let at = cx.at(
                v,
                format!("rule refers to app {id:?}, which is not in the catalog"),
            );
            cx.app_refs.push(AppRef { id: id.clone(), at });
        }
        s.apps.push(id.into());
    }
    s.categories = cx.parsed("category", &w.category, |c| {
        c.parse::<Category>().map_err(|e| e.to_string())
    });
    s.statuses = cx.parsed("status", &w.status, |v| {
        v.parse::<AppStatus>().map_err(|e| e.to_string())
    });
    s.hosts = cx.parsed("host", &w.host, |h| {
        HostPattern::parse(h).map_err(|e| e.to_string())
    });
    s.users = cx.parsed("user", &w.user, non_empty("user"));
    s.groups = cx.parsed("group", &w.group, non_empty("group"));
    s.countries = cx.parsed("country", &w.country, |c| {
        if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) {
            Ok(c.to_ascii_uppercase().into())
        } else {
            Err(format!(
                "country {c:?} must be an ISO 3166-1 alpha-2 code such as \"DE\""
            ))
        }
    });
    s.methods = cx.parsed("method", &w.method, |m| {
        if !m.is_empty() && m.bytes().all(|b| b.is_ascii_alphabetic()) {
            Ok(m.to_ascii_uppercase().into())
        } else {
            Err(format!(
                "method {m:?} must be an HTTP method such as \"POST\""
            ))
        }
    });
    s.tenants = cx.parsed("tenant", &w.tenant, |t| t.parse::<crate::TenantUse>());
    s.upload = w.upload.as_ref().map(|u| *u.get_ref());
    s.posture_signed = w.posture_signed.as_ref().map(|p| *p.get_ref());
    s.dlp_profiles = cx.parsed("dlp_profile", &w.dlp_profile, |p| {
        non_empty("dlp_profile")(p).map(|b: Box<str>| Arc::from(b))
    });
    if let Some(posture) = &w.posture {
        for (key, value) in posture {
            if key.is_empty() {
                cx.error(value, "posture field names must not be empty");
            }
            s.posture
                .push((key.as_str().into(), value.get_ref().clone()));
        }
    }
    s
}

fn non_empty(key: &'static str) -> impl Fn(&str) -> Result<Box<str>, String> {
    move |v| {
        if v.trim().is_empty() {
            Err(format!("`{key}` values must not be empty"))
        } else {
            Ok(v.into())
        }
    }
}
