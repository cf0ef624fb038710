//! What the gateway did with a transaction, as one closed set of values. The pipeline, the
//! refusals and the log phase pass it around typed; it becomes text only at the edges (the
//! `X-Warden-Action` header, a JSON error's `type`, the event row's `action`, the log line).
//!
//! The texts are part of the event schema and of what clients read: never rename one.

use std::fmt;

use policies::rules::Action;

/// The transaction's outcome: the policy action that decided it, or what the gateway itself
/// did (refused access, failed, spliced a tunnel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Outcome {
    /// No rule stopped it (also a request before any rule has decided).
    #[default]
    Allow,
    /// Refused by a rule, a block list, the egress policy or an inspection that could not run.
    Block,
    /// A `dlp` rule decided (scanned clean, redacted, or blocked on a match).
    Dlp,
    BlockUploads,
    Isolate,
    Audit,
    /// A `warn` rule showed the coaching page in the app's place.
    Warn,
    /// The user continued past a coaching page (the justification is the event's detail).
    Continue,
    /// The user asked the security team for access to an app (recorded, nothing forwarded).
    RequestAccess,
    DoNotInspect,
    /// The gateway could not serve it (upstream unreachable or too slow, a bad target).
    Error,
    /// Access control refused the client (source address, proxy credentials).
    Deny,
    /// A CONNECT tunnel spliced without inspection.
    Bypass,
    /// A `route` rule sent an AI API call through the AI gateway instead of the origin.
    Route,
    /// A `route` rule in dry run: the call went to the origin unchanged; it would have been
    /// routed.
    WouldRoute,
}

impl Outcome {
    /// The text the header, the event row and the log line carry.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Block => "block",
            Self::Dlp => "dlp",
            Self::BlockUploads => "block_uploads",
            Self::Isolate => "isolate",
            Self::Audit => "audit",
            Self::Warn => "warn",
            Self::Continue => "continue",
            Self::RequestAccess => "request_access",
            Self::DoNotInspect => "do_not_inspect",
            Self::Error => "error",
            Self::Deny => "deny",
            Self::Bypass => "bypass",
            Self::Route => "route",
            Self::WouldRoute => "would_route",
        }
    }
}

impl From<&Action> for Outcome {
    fn from(action: &Action) -> Self {
        match action {
            Action::Allow => Self::Allow,
            Action::Block => Self::Block,
            Action::Dlp { .. } => Self::Dlp,
            Action::BlockUploads => Self::BlockUploads,
            Action::Isolate => Self::Isolate,
            Action::Audit { .. } => Self::Audit,
            Action::Warn => Self::Warn,
            Action::DoNotInspect => Self::DoNotInspect,
            Action::Route { dry_run: false } => Self::Route,
            Action::Route { dry_run: true } => Self::WouldRoute,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The policy's own names and the outcome's texts must never drift apart: both end up
    /// in the same event column.
    #[test]
    fn policy_actions_keep_their_names() {
        for action in [
            Action::Allow,
            Action::Block,
            Action::Dlp {
                profile: "pii".into(),
                on_match: policies::rules::OnMatch::Block,
            },
            Action::BlockUploads,
            Action::Isolate,
            Action::Audit {
                max_prompt_bytes: 1,
            },
            Action::Warn,
            Action::DoNotInspect,
            Action::Route { dry_run: false },
            Action::Route { dry_run: true },
        ] {
            assert_eq!(Outcome::from(&action).as_str(), action.name());
        }
    }
}
