//! Compiled rule selectors and their evaluation against [`Facts`].
//!
//! Evaluation is three-valued: at CONNECT time the method, upload flag, path and DLP results are
//! unknown, and per request the DLP results are unknown until the body is scanned. A selector
//! that would need an unknown fact answers [`Tri::Maybe`]. Matching never allocates.

use super::facts::Facts;
use super::file::PostureValue;
use crate::catalog::Category;
use crate::host::{normalize_host, NormalHost};
use crate::host_pattern::HostPattern;
use crate::status::AppStatus;
use crate::tenant::TenantUse;
use std::sync::Arc;

/// Outcome of evaluating a selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tri {
    No,
    /// Would match if the unknown facts turn out right.
    Maybe,
    Yes,
}

/// `when` and not `unless`, in three values.
pub(super) fn when_unless(when: &Selector, unless: Option<&Selector>, cx: &Ctx<'_>) -> Tri {
    let w = when.eval(cx);
    if w == Tri::No {
        return Tri::No;
    }
    match (w, unless.map_or(Tri::No, |u| u.eval(cx))) {
        (_, Tri::Yes) => Tri::No,
        (Tri::Yes, Tri::No) => Tri::Yes,
        _ => Tri::Maybe,
    }
}

/// Which facts are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Host-level facts only.
    Connect,
    /// A request: everything but DLP results, which are known when `Some`.
    Request,
}

/// Facts plus the host in normal form, computed once per decision.
pub(super) struct Ctx<'a> {
    pub facts: Facts<'a>,
    pub host: Option<NormalHost<'a>>,
    pub phase: Phase,
}

impl<'a> Ctx<'a> {
    pub fn new(facts: &Facts<'a>, phase: Phase) -> Self {
        Ctx {
            facts: *facts,
            host: normalize_host(facts.host).ok(),
            phase,
        }
    }
}

/// All selectors of one rule. An empty list means "not set" (the compiler rejects empty lists
/// in files, so an empty list never means "match nothing").
#[derive(Debug, Default)]
pub(super) struct Selector {
    pub apps: Vec<Box<str>>,
    pub categories: Vec<Category>,
    pub statuses: Vec<AppStatus>,
    pub hosts: Vec<HostPattern>,
    pub users: Vec<Box<str>>,
    pub groups: Vec<Box<str>>,
    pub posture: Vec<(Box<str>, PostureValue)>,
    /// Whether the posture must (or must not) be MDM-signed.
    pub posture_signed: Option<bool>,
    pub countries: Vec<Box<str>>,
    pub methods: Vec<Box<str>>,
    pub upload: Option<bool>,
    pub dlp_profiles: Vec<Arc<str>>,
    /// Whose account the request uses (tenant control); a request-level fact.
    pub tenants: Vec<TenantUse>,
}

fn any_ci(list: &[Box<str>], value: Option<&str>) -> bool {
    value.is_some_and(|v| list.iter().any(|x| x.eq_ignore_ascii_case(v)))
}

impl Selector {
    pub fn eval(&self, cx: &Ctx<'_>) -> Tri {
        let f = &cx.facts;
        let connect = cx.phase == Phase::Connect;
        let mut maybe = false;
        if !self.apps.is_empty()
            && !f
                .app
                .is_some_and(|a| self.apps.iter().any(|x| **x == *a.id))
        {
            return Tri::No;
        }
        if !self.statuses.is_empty() && !f.app.is_some_and(|a| self.statuses.contains(&a.status)) {
            return Tri::No;
        }
        if !self.categories.is_empty()
            && !f.app.is_some_and(|a| self.categories.contains(&a.category))
        {
            return Tri::No;
        }
        if !self.users.is_empty() && !any_ci(&self.users, f.user) {
            return Tri::No;
        }
        if !self.groups.is_empty() && !f.groups.iter().any(|g| any_ci(&self.groups, Some(g))) {
            return Tri::No;
        }
        if !self.countries.is_empty() && !any_ci(&self.countries, f.country) {
            return Tri::No;
        }
        let posture_ok = self.posture.iter().all(|(key, want)| {
            f.posture.get(&**key).is_some_and(|have| match want {
                PostureValue::Bool(b) => {
                    have.eq_ignore_ascii_case(if *b { "true" } else { "false" })
                }
                PostureValue::Text(t) => have.eq_ignore_ascii_case(t),
            })
        });
        if !posture_ok
            || self
                .posture_signed
                .is_some_and(|want| f.posture_signed != want)
        {
            return Tri::No;
        }
        match self.hosts_tri(cx) {
            Tri::No => return Tri::No,
            Tri::Maybe => maybe = true,
            Tri::Yes => {}
        }
        if !self.methods.is_empty() {
            if connect {
                maybe = true;
            } else if !any_ci(&self.methods, f.method) {
                return Tri::No;
            }
        }
        if let Some(want) = self.upload {
            if connect {
                maybe = true;
            } else if f.upload != want {
                return Tri::No;
            }
        }
        if !self.tenants.is_empty() {
            if connect {
                maybe = true;
            } else if !f.tenant.is_some_and(|t| self.tenants.contains(&t)) {
                return Tri::No;
            }
        }
        if !self.dlp_profiles.is_empty() {
            match (connect, f.dlp_profiles_matched) {
                (false, Some(found)) => {
                    if !found
                        .iter()
                        .any(|p| self.dlp_profiles.iter().any(|x| **x == **p))
                    {
                        return Tri::No;
                    }
                }
                _ => maybe = true,
            }
        }
        if maybe {
            Tri::Maybe
        } else {
            Tri::Yes
        }
    }

    /// Any-of over host patterns; a path-prefixed pattern is `Maybe` while the path is unknown.
    fn hosts_tri(&self, cx: &Ctx<'_>) -> Tri {
        if self.hosts.is_empty() {
            return Tri::Yes;
        }
        let Some(host) = &cx.host else { return Tri::No };
        let path = if cx.phase == Phase::Connect {
            None
        } else {
            cx.facts.path
        };
        let mut result = Tri::No;
        for pattern in &self.hosts {
            if pattern.matches(host, path) {
                return Tri::Yes;
            }
            if path.is_none() && cx.phase == Phase::Connect && pattern.matches_host(host) {
                result = Tri::Maybe;
            }
        }
        result
    }

    /// Whether no selector is set (matches everything).
    pub fn is_empty(&self) -> bool {
        self.apps.is_empty()
            && self.categories.is_empty()
            && self.statuses.is_empty()
            && self.hosts.is_empty()
            && self.users.is_empty()
            && self.groups.is_empty()
            && self.posture.is_empty()
            && self.posture_signed.is_none()
            && self.countries.is_empty()
            && self.methods.is_empty()
            && self.upload.is_none()
            && self.dlp_profiles.is_empty()
            && self.tenants.is_empty()
    }

    /// Selectors that need request facts, for rules that must decide at CONNECT time.
    pub fn request_level_keys(&self) -> Vec<&'static str> {
        let mut keys = Vec::new();
        if !self.methods.is_empty() {
            keys.push("method");
        }
        if self.upload.is_some() {
            keys.push("upload");
        }
        if !self.dlp_profiles.is_empty() {
            keys.push("dlp_profile");
        }
        if !self.tenants.is_empty() {
            keys.push("tenant");
        }
        if self.hosts.iter().any(|h| h.path_prefix().is_some()) {
            keys.push("host (with a path prefix)");
        }
        keys
    }
}
