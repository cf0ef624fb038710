//! What a rule does ([`Action`]) and what a decision returns ([`Verdict`], [`ConnectVerdict`]).
//!
//! Verdicts are owned values built from reference-counted parts, so cloning one per request is
//! a few counter increments; every verdict names its rule and the policy version.

pub use super::file::OnMatch;
use std::sync::Arc;

/// Default cap on prompt bytes an `audit` rule records.
pub const DEFAULT_AUDIT_BYTES: u32 = 32 * 1024;
/// Largest `max_prompt_bytes` a policy may ask for.
pub const MAX_AUDIT_BYTES: u32 = 1024 * 1024;

/// What a matching rule does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Allow,
    /// Block with the rule's `message` and `alternative` on the block page.
    Block,
    /// Scan the body with `profile`; on findings do `on_match`.
    Dlp {
        profile: Arc<str>,
        on_match: OnMatch,
    },
    /// Block uploads. Such a rule only ever matches upload requests: other requests fall
    /// through to the rules after it.
    BlockUploads,
    /// View-only: safe methods pass, anything that sends data (and uploads) is blocked.
    Isolate,
    /// Allow, and record up to `max_prompt_bytes` of the prompt.
    Audit {
        max_prompt_bytes: u32,
    },
    /// Coaching: show a page that explains the risk and lets the user continue. A user who
    /// continued holds a pass for the app ([`super::Facts::coached`]); for them the rule does
    /// not match and the rules after it decide.
    Warn,
    /// Tunnel the raw bytes; never decrypt.
    DoNotInspect,
    /// An AI API call that bypasses the AI gateway is sent through it instead, with the
    /// organisation's provider key and the caller's proxy identity. With `dry_run` the call
    /// goes to the origin unchanged and the event records that it would have been routed.
    Route {
        dry_run: bool,
    },
}

impl Action {
    /// The action's name as written in policy files and recorded in events.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Block => "block",
            Action::Dlp { .. } => "dlp",
            Action::BlockUploads => "block_uploads",
            Action::Isolate => "isolate",
            Action::Audit { .. } => "audit",
            Action::Warn => "warn",
            Action::DoNotInspect => "do_not_inspect",
            // A dry run's events say what it would have done, not `route`.
            Action::Route { dry_run: false } => "route",
            Action::Route { dry_run: true } => "would_route",
        }
    }
}

/// The decision for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The rule that decided, or `default` when none matched.
    pub rule_id: Arc<str>,
    pub policy_version: Arc<str>,
    pub action: Action,
    /// The request must be blocked now: `block`, `block_uploads`, `isolate` of a non-safe
    /// method, `dlp` with `on_match = "block"` whose profile matched, or `warn` (the coaching
    /// page stands in for the app until the user continues).
    pub blocked: bool,
    /// For `dlp`: its profile is among the facts' matched profiles.
    pub dlp_matched: bool,
    /// Shown on the block page.
    pub message: Option<Arc<str>>,
    /// The sanctioned app to use instead (a catalog app id).
    pub alternative: Option<Arc<str>>,
    /// Profiles of earlier rules that could match once the body is scanned. When not empty,
    /// scan with these (and the `dlp` action's profile) and decide again with the results.
    pub pending_dlp_profiles: Vec<Arc<str>>,
    /// DLP in monitor mode: scan with this profile and record the findings, never block on
    /// them (an `allow` or `audit` rule's `monitor_profile`).
    pub monitor_profile: Option<Arc<str>>,
    /// The `warn` rule that would have decided had the user not held a coaching pass.
    pub coached_past: Option<Arc<str>>,
    /// The deciding rule selects on whose account the request uses (`tenant`): its block
    /// page says the app is allowed only with the organisation's accounts.
    pub on_tenant: bool,
}

impl Verdict {
    /// Every profile the daemon should scan the body with before deciding again.
    pub fn profiles_to_scan(&self) -> impl Iterator<Item = &str> {
        let own = match &self.action {
            Action::Dlp { profile, .. } => Some(&**profile),
            _ => None,
        };
        self.pending_dlp_profiles.iter().map(|p| &**p).chain(own)
    }

    /// Whether the body must be scanned before the verdict is final.
    pub fn needs_scan(&self) -> bool {
        matches!(self.action, Action::Dlp { .. }) || !self.pending_dlp_profiles.is_empty()
    }
}

/// The decision at CONNECT time, from host-level facts only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectVerdict {
    /// Intercept TLS and decide per request.
    Inspect,
    /// Tunnel without decrypting; the verdict names the rule.
    DoNotInspect(Verdict),
    /// Every request on this connection would be blocked by this verdict's rule.
    Block(Verdict),
}
