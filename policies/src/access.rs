//! Access requests: an employee on a block or coaching page asks the security team for an
//! app. This is the book of requests and its rules (deduplicated per user and app, bounded),
//! as data; the daemon owns the file, the clock and the per-user rate.
//!
//! What it must never do: grow without bound, or let a requester's text decide anything (the
//! reason is shown, escaped, to the security team and nothing else).

use serde::{Deserialize, Serialize};

/// Longest reason kept, in characters.
pub const MAX_REASON_CHARS: usize = 500;
/// Decided requests kept for the record; older decided ones are dropped first.
pub const MAX_DECIDED: usize = 1_000;

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessState {
    Open,
    Approved,
    Denied,
}

impl AccessState {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessState::Open => "open",
            AccessState::Approved => "approved",
            AccessState::Denied => "denied",
        }
    }
}

/// One person's request for one app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessRequest {
    /// Short public id (12 hex digits).
    pub id: String,
    /// The user as the gateway identified them.
    pub user: String,
    /// The enrolled device, when the request came through the agent (else empty).
    pub device: String,
    pub app_id: String,
    pub app_name: String,
    /// What the requester wrote (at most [`MAX_REASON_CHARS`], control characters removed).
    pub reason: String,
    pub requested_at_unix_ms: u64,
    /// The same person asked again for the same app while it was open.
    pub repeats: u32,
    pub last_requested_at_unix_ms: u64,
    pub state: AccessState,
    #[serde(default)]
    pub decided_by: String,
    #[serde(default)]
    pub decided_at_unix_ms: u64,
}

/// What filing a request did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filed {
    /// A new open request.
    New(AccessRequest),
    /// The same person's open request for the app, asked again (the newest reason kept).
    Repeated(AccessRequest),
}

impl Filed {
    pub fn request(&self) -> &AccessRequest {
        match self {
            Filed::New(r) | Filed::Repeated(r) => r,
        }
    }
}

/// Why a request was not filed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileRefused {
    #[error("the security team has {0} open access requests; try again after they decide some")]
    Full(usize),
}

/// Why a decision could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecideRefused {
    #[error("no access request {0:?}")]
    NotFound(String),
    #[error("access request {0:?} was already {1}")]
    AlreadyDecided(String, &'static str),
}

/// Every request kept, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessBook {
    #[serde(default = "format_version")]
    version: u32,
    requests: Vec<AccessRequest>,
}

fn format_version() -> u32 {
    1
}

impl Default for AccessBook {
    fn default() -> Self {
        Self {
            version: format_version(),
            requests: Vec::new(),
        }
    }
}

/// A reason as kept: control characters (newlines included) become spaces, trimmed, cut to
/// [`MAX_REASON_CHARS`].
pub fn clean_reason(text: &str) -> String {
    let spaced: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    spaced.trim().chars().take(MAX_REASON_CHARS).collect()
}

impl AccessBook {
    pub fn requests(&self) -> &[AccessRequest] {
        &self.requests
    }

    pub fn open_count(&self) -> usize {
        self.requests
            .iter()
            .filter(|r| r.state == AccessState::Open)
            .count()
    }

    /// Files `user`'s request for an app: a repeat of their open request for it updates that
    /// one; otherwise a new open request, unless `max_open` are open already.
    #[allow(clippy::too_many_arguments)]
    pub fn file(
        &mut self,
        id: String,
        user: &str,
        device: &str,
        app_id: &str,
        app_name: &str,
        reason: &str,
        now_unix_ms: u64,
        max_open: usize,
    ) -> Result<Filed, FileRefused> {
        let reason = clean_reason(reason);
        if let Some(open) = self
            .requests
            .iter_mut()
            .find(|r| r.state == AccessState::Open && r.user == user && r.app_id == app_id)
        {
            open.repeats = open.repeats.saturating_add(1);
            open.last_requested_at_unix_ms = now_unix_ms;
            if !reason.is_empty() {
                open.reason = reason;
            }
            if !device.is_empty() {
                open.device = device.to_string();
            }
            return Ok(Filed::Repeated(open.clone()));
        }
        let open = self.open_count();
        if open >= max_open {
            return Err(FileRefused::Full(open));
        }
        let request = AccessRequest {
            id,
            user: user.to_string(),
            device: device.to_string(),
            app_id: app_id.to_string(),
            app_name: app_name.to_string(),
            reason,
            requested_at_unix_ms: now_unix_ms,
            repeats: 0,
            last_requested_at_unix_ms: now_unix_ms,
            state: AccessState::Open,
            decided_by: String::new(),
            decided_at_unix_ms: 0,
        };
        self.requests.push(request.clone());
        Ok(Filed::New(request))
    }

    /// Approves or denies an open request.
    pub fn decide(
        &mut self,
        id: &str,
        approve: bool,
        actor: &str,
        now_unix_ms: u64,
    ) -> Result<AccessRequest, DecideRefused> {
        let request = self
            .requests
            .iter_mut()
            .find(|r| r.id == id)
            .ok_or_else(|| DecideRefused::NotFound(id.to_string()))?;
        if request.state != AccessState::Open {
            return Err(DecideRefused::AlreadyDecided(
                id.to_string(),
                request.state.as_str(),
            ));
        }
        request.state = if approve {
            AccessState::Approved
        } else {
            AccessState::Denied
        };
        request.decided_by = actor.to_string();
        request.decided_at_unix_ms = now_unix_ms;
        let decided = request.clone();
        self.trim_decided();
        Ok(decided)
    }

    /// Keeps at most [`MAX_DECIDED`] decided requests, dropping the oldest.
    fn trim_decided(&mut self) {
        let decided = self
            .requests
            .iter()
            .filter(|r| r.state != AccessState::Open)
            .count();
        let mut extra = decided.saturating_sub(MAX_DECIDED);
        self.requests.retain(|r| {
            if extra > 0 && r.state != AccessState::Open {
                extra -= 1;
                return false;
            }
            true
        });
    }

    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(
        book: &mut AccessBook,
        user: &str,
        app: &str,
        reason: &str,
    ) -> Result<Filed, FileRefused> {
        let id = format!("id{}", book.requests().len());
        book.file(id, user, "", app, app, reason, 1_000, 3)
    }

    #[test]
    fn repeats_are_one_request_and_the_open_ones_are_bounded() {
        let mut book = AccessBook::default();
        assert!(matches!(
            file(&mut book, "alice", "claude", "research"),
            Ok(Filed::New(_))
        ));
        let again = file(&mut book, "alice", "claude", "").unwrap();
        assert!(matches!(again, Filed::Repeated(_)));
        assert_eq!(again.request().repeats, 1);
        assert_eq!(
            again.request().reason,
            "research",
            "an empty repeat keeps the reason"
        );
        file(&mut book, "bob", "claude", "").unwrap();
        file(&mut book, "alice", "gemini", "").unwrap();
        assert_eq!(
            file(&mut book, "carol", "claude", ""),
            Err(FileRefused::Full(3))
        );
        // A repeat still lands when the book is full: it adds nothing.
        assert!(file(&mut book, "bob", "claude", "x").is_ok());
        let first = book.requests()[0].id.clone();
        book.decide(&first, true, "admin", 2_000).unwrap();
        assert!(matches!(
            book.decide(&first, false, "admin", 3_000),
            Err(DecideRefused::AlreadyDecided(_, "approved"))
        ));
        assert!(file(&mut book, "carol", "claude", "").is_ok(), "room again");
        let text = book.to_json().unwrap();
        assert_eq!(AccessBook::from_json(&text).unwrap(), book);
    }

    #[test]
    fn reasons_are_one_line_and_bounded() {
        assert_eq!(clean_reason(" a\nb\u{7}c "), "a b c");
        assert_eq!(
            clean_reason(&"é".repeat(2000)).chars().count(),
            MAX_REASON_CHARS
        );
    }
}
