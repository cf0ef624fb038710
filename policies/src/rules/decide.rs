//! Evaluation: `do_not_inspect` rules first, then the ordered rules, first match wins.
//!
//! Both entry points are pure, allocation-free on the common path (a verdict clones a few
//! `Arc`s), and total: every input yields a verdict, the default one when nothing matches.

use super::compile::Rule;
use super::facts::Facts;
use super::selector::{when_unless, Ctx, Phase, Tri};
use super::verdict::{Action, ConnectVerdict, OnMatch, Verdict};
use super::Policy;
use std::sync::Arc;

/// Methods that only read: what `isolate` lets through.
const SAFE_METHODS: [&str; 3] = ["GET", "HEAD", "OPTIONS"];

impl Rule {
    fn eval(&self, cx: &Ctx<'_>) -> Tri {
        when_unless(&self.when, self.unless.as_ref(), cx)
    }

    /// A user holding a coaching pass for the app has seen the warning and chosen to go on:
    /// the `warn` rule steps aside and the rules after it (DLP, audit) still apply.
    fn stepped_aside(&self, facts: &Facts<'_>) -> bool {
        self.action == Action::Warn && facts.coached
    }
}

impl Policy {
    /// The verdict for one request. With `dlp_profiles_matched: None`, rules that select on DLP
    /// profiles cannot be evaluated yet: if one could still match before the deciding rule, its
    /// profiles are listed in [`Verdict::pending_dlp_profiles`] and the caller scans the body
    /// and decides again with the results.
    pub fn decide(&self, facts: &Facts<'_>) -> Verdict {
        let cx = Ctx::new(facts, Phase::Request);
        if let Some(rule) = self.first_do_not_inspect(&cx) {
            return self.verdict(rule, facts, Vec::new());
        }
        let mut pending: Vec<Arc<str>> = Vec::new();
        let mut coached_past: Option<Arc<str>> = None;
        for rule in &self.rules {
            match rule.eval(&cx) {
                Tri::Yes | Tri::Maybe if rule.stepped_aside(facts) => {
                    coached_past.get_or_insert_with(|| rule.id.clone());
                }
                Tri::Yes => {
                    let mut verdict = self.verdict(rule, facts, pending);
                    verdict.coached_past = coached_past;
                    return verdict;
                }
                Tri::Maybe => {
                    let unless = rule.unless.iter().flat_map(|u| &u.dlp_profiles);
                    for p in rule.when.dlp_profiles.iter().chain(unless) {
                        if !pending.contains(p) {
                            pending.push(p.clone());
                        }
                    }
                }
                Tri::No => {}
            }
        }
        let mut verdict = self.default_verdict(pending);
        verdict.coached_past = coached_past;
        verdict
    }

    /// The decision at CONNECT time from host-level facts (host, app, user, groups, posture,
    /// country); request facts in `facts` are ignored. A rule that needs request facts and
    /// could match makes the answer [`ConnectVerdict::Inspect`], so per-request decisions
    /// stay exact.
    pub fn connect_decision(&self, facts: &Facts<'_>) -> ConnectVerdict {
        let cx = Ctx::new(facts, Phase::Connect);
        if let Some(rule) = self.first_do_not_inspect(&cx) {
            return ConnectVerdict::DoNotInspect(self.verdict(rule, facts, Vec::new()));
        }
        for rule in &self.rules {
            match rule.eval(&cx) {
                Tri::Yes if rule.action == Action::Block => {
                    return ConnectVerdict::Block(self.verdict(rule, facts, Vec::new()));
                }
                Tri::Yes | Tri::Maybe => return ConnectVerdict::Inspect,
                Tri::No => {}
            }
        }
        ConnectVerdict::Inspect
    }

    /// The `do_not_inspect` check alone: the rule that says to tunnel this host untouched.
    pub fn do_not_inspect(&self, facts: &Facts<'_>) -> Option<Verdict> {
        let cx = Ctx::new(facts, Phase::Connect);
        self.first_do_not_inspect(&cx)
            .map(|rule| self.verdict(rule, facts, Vec::new()))
    }

    fn first_do_not_inspect(&self, cx: &Ctx<'_>) -> Option<&Rule> {
        // Compilation guarantees these rules use host-level selectors only, so `Maybe` cannot
        // occur; treating it as no match keeps inspection on (the safe side).
        self.do_not_inspect.iter().find(|r| r.eval(cx) == Tri::Yes)
    }

    fn verdict(&self, rule: &Rule, facts: &Facts<'_>, pending: Vec<Arc<str>>) -> Verdict {
        let mut dlp_matched = false;
        let blocked = match &rule.action {
            Action::Block | Action::BlockUploads | Action::Warn => true,
            Action::Isolate => {
                facts.upload
                    || !facts
                        .method
                        .is_some_and(|m| SAFE_METHODS.iter().any(|s| s.eq_ignore_ascii_case(m)))
            }
            Action::Dlp { profile, on_match } => {
                dlp_matched = facts
                    .dlp_profiles_matched
                    .is_some_and(|found| found.iter().any(|p| **p == **profile));
                dlp_matched && *on_match == OnMatch::Block
            }
            Action::Allow | Action::Audit { .. } | Action::DoNotInspect | Action::Route { .. } => {
                false
            }
        };
        Verdict {
            rule_id: rule.id.clone(),
            policy_version: self.version.clone(),
            action: rule.action.clone(),
            blocked,
            dlp_matched,
            message: rule.message.clone(),
            alternative: rule.alternative.clone(),
            pending_dlp_profiles: pending,
            monitor_profile: rule.monitor_profile.clone(),
            coached_past: None,
            on_tenant: !rule.when.tenants.is_empty(),
        }
    }

    fn default_verdict(&self, pending: Vec<Arc<str>>) -> Verdict {
        Verdict {
            rule_id: self.default_rule_id.clone(),
            policy_version: self.version.clone(),
            action: Action::Allow,
            blocked: false,
            dlp_matched: false,
            message: None,
            alternative: None,
            pending_dlp_profiles: pending,
            monitor_profile: None,
            coached_past: None,
            on_tenant: false,
        }
    }
}
