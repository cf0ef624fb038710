//! One-time enrollment tokens, `<state>/enroll-tokens.json`: created by `gatewayd devices
//! enroll-token`, shown once, stored only as a SHA-256 digest with the user, groups and expiry
//! they enroll a device for. Enrollment removes the token it used (and any expired ones).

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::registry::now_unix;
use state_files::{constant_time_eq, sha256_hex, write_atomic};

const TOKENS_FILE: &str = "enroll-tokens.json";
const TOKEN_PREFIX: &str = "wde_";

/// A stored token: its digest and what it grants.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredEnrollToken {
    pub sha256: String,
    pub user: String,
    #[serde(default)]
    pub groups: Vec<String>,
    pub created_unix: u64,
    pub expires_unix: u64,
}

/// Who a valid token enrolls a device for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub user: String,
    pub groups: Vec<String>,
}

fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(TOKENS_FILE)
}

fn load(state_dir: &Path) -> Result<Vec<StoredEnrollToken>, String> {
    let path = path(state_dir);
    match fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|e| format!("{}:{}:{}: {e}", path.display(), e.line(), e.column())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

fn save(state_dir: &Path, tokens: &[StoredEnrollToken]) -> Result<(), String> {
    let text = serde_json::to_vec_pretty(tokens).map_err(|e| e.to_string())?;
    let path = path(state_dir);
    write_atomic(&path, &text, true).map_err(|e| format!("{}: {e}", path.display()))
}

/// Creates a token for `user` valid for `ttl_secs`; returns it (never stored in clear).
/// The caller holds the devices lock.
pub fn create(
    state_dir: &Path,
    user: &str,
    groups: &[String],
    ttl_secs: u64,
) -> Result<String, String> {
    if user.trim().is_empty() {
        return Err("the user must not be empty".into());
    }
    let token = state_files::new_secret(TOKEN_PREFIX);
    let now = now_unix();
    let mut tokens = load(state_dir)?;
    tokens.retain(|t| t.expires_unix > now);
    tokens.push(StoredEnrollToken {
        sha256: sha256_hex(&token),
        user: user.trim().to_owned(),
        groups: groups.to_vec(),
        created_unix: now,
        expires_unix: now.saturating_add(ttl_secs),
    });
    save(state_dir, &tokens)?;
    Ok(token)
}

/// Uses up `token`: returns what it grants, or `None` when it is unknown, used or expired.
/// The caller holds the devices lock.
pub fn consume(state_dir: &Path, token: &str) -> Result<Option<Grant>, String> {
    let now = now_unix();
    let digest = sha256_hex(token.trim());
    let mut tokens = load(state_dir)?;
    let before = tokens.len();
    let found = tokens
        .iter()
        .position(|t| constant_time_eq(t.sha256.as_bytes(), digest.as_bytes()));
    let grant = found.and_then(|i| {
        let t = tokens.remove(i);
        (t.expires_unix > now).then_some(Grant {
            user: t.user,
            groups: t.groups,
        })
    });
    tokens.retain(|t| t.expires_unix > now);
    if tokens.len() != before {
        save(state_dir, &tokens)?;
    }
    Ok(grant)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_token_enrolls_once_and_expired_ones_never() {
        let dir = tempfile::tempdir().unwrap();
        let token = create(dir.path(), "alice", &["eng".into()], 60).unwrap();
        assert!(token.starts_with(TOKEN_PREFIX));
        assert!(!fs::read_to_string(path(dir.path()))
            .unwrap()
            .contains(&token));
        let grant = consume(dir.path(), &token).unwrap().unwrap();
        assert_eq!(grant.user, "alice");
        assert_eq!(grant.groups, vec!["eng".to_string()]);
        assert_eq!(consume(dir.path(), &token).unwrap(), None);
        let expired = create(dir.path(), "bob", &[], 0).unwrap();
        assert_eq!(consume(dir.path(), &expired).unwrap(), None);
        assert_eq!(consume(dir.path(), "wde_bogus").unwrap(), None);
    }
}
