//! The security team's decisions about discovered hosts, durable in
//! `<state>/discovered-decisions.json`: a host becomes a catalog app (name, category, status;
//! "block" is the status `unapproved`) or is marked "not AI". The daemon (API, dashboard) and
//! the CLI both decide, under the state directory's lock; the file is one of the policy's
//! watched files, so a decision applies on the next reload (at once from the API, within a
//! second from the CLI) without a restart.
//!
//! It never decides about a host the catalog in force already knows: that host's fate is its
//! app's status, changed (and audited) through the status book, so a "not AI" mark cannot
//! quietly unblock a blocked app. A block sets the status before the app exists, so there is
//! no moment where the new app is enforced as merely unreviewed.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use policies::discovery::decision::{
    app_id_for, checked_app_id, checked_host, checked_name, DecisionError, DecisionFault,
    DecisionKind, HostDecision,
};
pub use policies::discovery::decision::{Decided, DecisionRequest};
use policies::{AppStatus, Catalog};
use state_files::{write_atomic, StateLock};

use super::StatusStore;

const FILE: &str = "discovered-decisions.json";

/// Why a decision was not taken.
#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    /// Bad input: the admin's to fix (HTTP 400).
    #[error(transparent)]
    Invalid(#[from] DecisionError),
    #[error("{0}")]
    Unknown(String),
    /// The host or id belongs to something already (HTTP 409).
    #[error("{0}")]
    Conflict(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Status(#[from] super::StatusStoreError),
    /// The decisions file does not parse.
    #[error("{0}")]
    Corrupt(String),
}

impl DecideError {
    /// Whose problem it is.
    pub fn fault(&self) -> DecisionFault {
        match self {
            DecideError::Invalid(_) | DecideError::Unknown(_) => DecisionFault::Invalid,
            DecideError::Conflict(_) => DecisionFault::Conflict,
            DecideError::Io { .. } | DecideError::Status(_) | DecideError::Corrupt(_) => {
                DecisionFault::Internal
            }
        }
    }
}

fn path_of(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

/// The decisions file's path (watched for reloads).
pub fn decisions_file(dir: &Path) -> PathBuf {
    path_of(dir)
}

/// The decisions on file; none when there is no file yet. A file that does not parse is an
/// error: dropping it would silently make blocked hosts unknown again.
pub fn read(dir: &Path) -> Result<Vec<HostDecision>, String> {
    let path = path_of(dir);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Checks `request` against the catalog in force, then records it (and the status, first).
pub fn decide(
    dir: &Path,
    catalog: &Catalog,
    statuses: &StatusStore,
    request: &DecisionRequest,
    actor: &str,
) -> Result<Decided, DecideError> {
    let host = checked_host(&request.host)?;
    if let Some(found) = catalog.match_url(&host, "/") {
        let app = &found.app;
        return Err(DecideError::Conflict(format!(
            "{host} belongs to the catalog app {:?} ({}, status {}): change that app's status \
             instead",
            app.id,
            app.name,
            statuses.book().status(&app.id)
        )));
    }
    let (kind, status) = match request.action.as_str() {
        "catalog" => {
            let status = match request.status.as_deref() {
                None | Some("") => AppStatus::Unreviewed,
                Some(s) => s
                    .parse()
                    .map_err(|e| DecideError::Unknown(format!("{e}")))?,
            };
            (DecisionKind::Catalog, Some(status))
        }
        "block" => (DecisionKind::Catalog, Some(AppStatus::Unapproved)),
        "not_ai" => (DecisionKind::NotAi, None),
        other => {
            return Err(DecideError::Unknown(format!(
                "unknown action {:?}; actions are: catalog, block, not_ai",
                other.chars().take(32).collect::<String>()
            )))
        }
    };
    let mut decision = HostDecision {
        host: host.clone(),
        kind,
        app_id: None,
        name: None,
        category: None,
        decided_by: actor.to_string(),
        decided_at_unix_ms: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0),
    };
    if kind == DecisionKind::Catalog {
        let id = match request.app_id.as_deref().filter(|s| !s.is_empty()) {
            Some(id) => checked_app_id(id)?,
            None => checked_app_id(&app_id_for(&host))?,
        };
        if catalog.app(&id).is_some() {
            return Err(DecideError::Conflict(format!(
                "the catalog already has an app with id {id:?}: choose another id"
            )));
        }
        let name = match request.name.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(name) => checked_name(name)?,
            None => host.clone(),
        };
        let category = match request.category.as_deref().filter(|s| !s.is_empty()) {
            Some(c) => c.parse().map_err(DecisionError::from)?,
            None => policies::catalog::Category::Other,
        };
        decision.app_id = Some(id);
        decision.name = Some(name);
        decision.category = Some(category);
    }
    let lock = || {
        StateLock::acquire(dir).map_err(|source| DecideError::Io {
            path: dir.to_path_buf(),
            source,
        })
    };
    // Checked before the status is set, and again under the lock that covers the write (the
    // status book takes the same lock itself, so it cannot be held across): a decision that
    // loses a race leaves at most a status for an id no catalog app has.
    let held = lock()?;
    unclaimed(&read(dir).map_err(DecideError::Corrupt)?, &decision)?;
    drop(held);
    // The status first: the app must never exist, even for one request, with a weaker status
    // than the one asked for.
    let status_change = match (&decision.app_id, status) {
        (Some(id), Some(status)) => Some(statuses.set(id, status, actor)?),
        _ => None,
    };
    let _held = lock()?;
    let mut all = read(dir).map_err(DecideError::Corrupt)?;
    unclaimed(&all, &decision)?;
    all.push(decision.clone());
    let path = path_of(dir);
    let text =
        serde_json::to_string_pretty(&all).map_err(|e| DecideError::Corrupt(e.to_string()))?;
    write_atomic(&path, text.as_bytes(), true)
        .map_err(|source| DecideError::Io { path, source })?;
    tracing::info!(host, kind = kind.as_str(), actor, "discovered host decided");
    Ok(Decided {
        decision,
        status_change,
    })
}

/// Refuses a decision whose host, or app id, another decision on file has already taken.
fn unclaimed(all: &[HostDecision], decision: &HostDecision) -> Result<(), DecideError> {
    if let Some(before) = all.iter().find(|d| d.host == decision.host) {
        return Err(DecideError::Conflict(format!(
            "{} was already decided ({}) by {}",
            decision.host,
            before.kind.as_str(),
            before.decided_by
        )));
    }
    if let Some(id) = &decision.app_id {
        if all.iter().any(|d| d.app_id.as_ref() == Some(id)) {
            return Err(DecideError::Conflict(format!(
                "another discovered host is already the app {id:?}: choose another id"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(host: &str, action: &str) -> DecisionRequest {
        DecisionRequest {
            host: host.into(),
            action: action.into(),
            ..Default::default()
        }
    }

    #[test]
    fn blocks_set_the_status_first_and_not_ai_cannot_touch_a_catalog_app() {
        let dir = tempfile::tempdir().unwrap();
        let statuses = StatusStore::open(dir.path()).unwrap();
        let catalog = Catalog::embedded().unwrap();
        let done = decide(
            dir.path(),
            &catalog,
            &statuses,
            &request("LLM.Example.net", "block"),
            "t",
        )
        .unwrap();
        assert_eq!(done.decision.app_id.as_deref(), Some("llm-example-net"));
        assert_eq!(
            statuses.book().status("llm-example-net"),
            AppStatus::Unapproved
        );
        assert_eq!(read(dir.path()).unwrap().len(), 1);
        let again = decide(
            dir.path(),
            &catalog,
            &statuses,
            &request("llm.example.net", "not_ai"),
            "t",
        );
        assert!(matches!(again, Err(DecideError::Conflict(_))), "{again:?}");
        let chatgpt = decide(
            dir.path(),
            &catalog,
            &statuses,
            &request("chatgpt.com", "not_ai"),
            "t",
        );
        let Err(DecideError::Conflict(message)) = chatgpt else {
            panic!("{chatgpt:?}")
        };
        assert!(message.contains("chatgpt"), "{message}");
        let bad = decide(
            dir.path(),
            &catalog,
            &statuses,
            &request("x.example", "make-it-so"),
            "t",
        );
        assert!(matches!(bad, Err(DecideError::Unknown(_))));
    }
}
