//! Approval statuses of AI apps, and the book that records them with who changed them and when.
//!
//! The book is (de)serialised as JSON text; the daemon owns the file. An app without an entry
//! is `unreviewed`. Nothing here reads clocks or files: callers pass the actor and the time.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// What the security team decided about an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppStatus {
    Approved,
    Unapproved,
    InReview,
    Unreviewed,
}

impl AppStatus {
    pub const ALL: [AppStatus; 4] = [
        AppStatus::Approved,
        AppStatus::Unapproved,
        AppStatus::InReview,
        AppStatus::Unreviewed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AppStatus::Approved => "approved",
            AppStatus::Unapproved => "unapproved",
            AppStatus::InReview => "in_review",
            AppStatus::Unreviewed => "unreviewed",
        }
    }
}

impl fmt::Display for AppStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status name that is not one of the four.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status {0:?}; valid statuses are: approved, unapproved, in_review, unreviewed")]
pub struct UnknownStatus(pub String);

impl FromStr for AppStatus {
    type Err = UnknownStatus;
    /// Accepts the snake_case names, and `in-review` as typed on a command line.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('-', "_");
        AppStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == wanted)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

/// The current status of one app and its last change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusEntry {
    pub status: AppStatus,
    /// Who made the last change (an admin token name, a user).
    pub changed_by: String,
    pub changed_at_unix_ms: u64,
}

/// One change of an app's status: what the admin API returns and the audit log records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    pub app_id: String,
    pub old: AppStatus,
    pub new: AppStatus,
    pub actor: String,
    pub at_unix_ms: u64,
}

/// A status book file that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}:{col}: {message}")]
pub struct StatusBookError {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

/// App id → status. Apps not in the book are `unreviewed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusBook {
    /// Format version of the JSON text.
    #[serde(default = "format_version")]
    version: u32,
    apps: BTreeMap<String, StatusEntry>,
}

fn format_version() -> u32 {
    1
}

impl Default for StatusBook {
    fn default() -> Self {
        Self::new()
    }
}

impl StatusBook {
    pub fn new() -> Self {
        StatusBook {
            version: format_version(),
            apps: BTreeMap::new(),
        }
    }

    /// The status of `app_id` (`unreviewed` when never set).
    pub fn status(&self, app_id: &str) -> AppStatus {
        self.apps
            .get(app_id)
            .map_or(AppStatus::Unreviewed, |e| e.status)
    }

    pub fn entry(&self, app_id: &str) -> Option<&StatusEntry> {
        self.apps.get(app_id)
    }

    /// Every app with a recorded status, sorted by id.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &StatusEntry)> {
        self.apps.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Records a new status and returns the change (also when the status is unchanged, so the
    /// audit trail shows the confirmation).
    pub fn set(
        &mut self,
        app_id: &str,
        status: AppStatus,
        actor: &str,
        at_unix_ms: u64,
    ) -> StatusChange {
        let old = self.status(app_id);
        let entry = StatusEntry {
            status,
            changed_by: actor.to_owned(),
            changed_at_unix_ms: at_unix_ms,
        };
        self.apps.insert(app_id.to_owned(), entry);
        StatusChange {
            app_id: app_id.to_owned(),
            old,
            new: status,
            actor: actor.to_owned(),
            at_unix_ms,
        }
    }

    /// Pretty JSON, stable order (sorted by app id). Errors only if serde_json itself fails,
    /// which the caller must not paper over with an empty file.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// Reads the JSON text of a book; `file` only labels errors.
    pub fn from_json(file: &str, text: &str) -> Result<Self, StatusBookError> {
        serde_json::from_str(text).map_err(|e| StatusBookError {
            file: file.to_owned(),
            line: e.line(),
            col: e.column(),
            message: e
                .to_string()
                .split(" at line ")
                .next()
                .unwrap_or_default()
                .to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_parse_and_print() {
        for s in AppStatus::ALL {
            assert_eq!(s.as_str().parse::<AppStatus>().unwrap(), s);
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
        }
        assert_eq!(
            "In-Review".parse::<AppStatus>().unwrap(),
            AppStatus::InReview
        );
        let err = "blocked".parse::<AppStatus>().unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown status \"blocked\"; valid statuses are: approved, unapproved, in_review, unreviewed"
        );
    }

    #[test]
    fn book_records_changes_and_round_trips() {
        let mut book = StatusBook::new();
        assert_eq!(book.status("chatgpt"), AppStatus::Unreviewed);
        let change = book.set("chatgpt", AppStatus::Approved, "alice", 1_700_000_000_000);
        assert_eq!(
            change,
            StatusChange {
                app_id: "chatgpt".into(),
                old: AppStatus::Unreviewed,
                new: AppStatus::Approved,
                actor: "alice".into(),
                at_unix_ms: 1_700_000_000_000,
            }
        );
        let change = book.set("chatgpt", AppStatus::Unapproved, "bob", 1_700_000_000_001);
        assert_eq!(change.old, AppStatus::Approved);
        let entry = book.entry("chatgpt").unwrap();
        assert_eq!(
            (entry.changed_by.as_str(), entry.changed_at_unix_ms),
            ("bob", 1_700_000_000_001)
        );

        let json = book.to_json().unwrap();
        assert!(json.contains("\"unapproved\""), "{json}");
        let back = StatusBook::from_json("statuses.json", &json).unwrap();
        assert_eq!(back, book);
        assert_eq!(back.entries().count(), 1);
    }

    #[test]
    fn bad_book_text_is_positioned() {
        let text = "{\n  \"version\": 1,\n  \"apps\": {\"x\": {\"status\": \"maybe\",\n\"changed_by\": \"a\", \"changed_at_unix_ms\": 1}}\n}";
        let err = StatusBook::from_json("s.json", text)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("s.json:3:"), "{err}");
        assert!(err.contains("unknown variant `maybe`"), "{err}");
        let err = StatusBook::from_json("s.json", "{\"apps\": {}, \"extra\": 1}").unwrap_err();
        assert!(err.message.contains("unknown field `extra`"), "{err}");
        assert_eq!(
            StatusBook::from_json("s.json", "{\"apps\": {}}").unwrap(),
            StatusBook::new()
        );
    }
}
