//! The admin audit trail: every login, logout, refused login, status change and log-explorer
//! query, one JSON line each in `<state>/admin-audit.jsonl`, and in the log.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The trail's file in the state directory (SIEM export follows it).
pub const AUDIT_FILE: &str = "admin-audit.jsonl";
/// The longest detail kept (a long query is cut).
const MAX_DETAIL: usize = 4096;

/// One recorded admin action.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuditEntry {
    pub ts_unix_ms: u64,
    /// `token:NAME` or `dashboard:NAME`.
    pub actor: String,
    pub action: String,
    pub detail: String,
}

static WRITE: Mutex<()> = Mutex::new(());

/// Appends an entry; a failure to write is logged loudly, never silently dropped.
pub fn record(state_dir: &Path, actor: &str, action: &str, detail: &str) {
    let mut detail_kept: String = detail.chars().take(MAX_DETAIL).collect();
    if detail_kept.len() < detail.len() {
        detail_kept.push('…');
    }
    let detail = detail_kept;
    let entry = AuditEntry {
        ts_unix_ms: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0),
        actor: actor.to_string(),
        action: action.to_string(),
        detail,
    };
    tracing::info!(actor, action, detail = %entry.detail, "admin action");
    let Ok(mut line) = serde_json::to_string(&entry) else {
        return;
    };
    line.push('\n');
    let _guard = WRITE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let path = state_dir.join(AUDIT_FILE);
    // Private: the trail holds analysts' queries and what investigators looked for.
    let written = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&path)
        .and_then(|mut file| {
            if file.metadata()?.permissions().mode() & 0o077 != 0 {
                file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            }
            file.write_all(line.as_bytes())
        });
    if let Err(error) = written {
        tracing::error!(%error, path = %path.display(), "cannot write the admin audit trail");
    }
}

/// The last `limit` entries, newest first.
pub fn recent(state_dir: &Path, limit: usize) -> std::io::Result<Vec<AuditEntry>> {
    let text = match std::fs::read_to_string(state_dir.join(AUDIT_FILE)) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(text
        .lines()
        .rev()
        .filter_map(|line| serde_json::from_str(line).ok())
        .take(limit)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_appended_and_read_back_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        record(dir.path(), "token:alice", "login", "dashboard");
        record(dir.path(), "token:alice", "query", "SELECT 1");
        let entries = recent(dir.path(), 10).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].action, "query");
        assert_eq!(entries[1].actor, "token:alice");
    }
}
