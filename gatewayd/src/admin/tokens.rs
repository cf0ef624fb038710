//! Admin API tokens: created by `gatewayd admin token create`, shown once, stored only as a
//! SHA-256 hash in `<state>/admin-tokens.json` with a name and a role.
//!
//! Tokens are 32 random bytes, so a fast hash is enough (no password-style stretching); the
//! comparison is over hashes, in constant time.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::state_files::{constant_time_eq, sha256_hex, write_atomic};

const TOKENS_FILE: &str = "admin-tokens.json";
const TOKEN_PREFIX: &str = "wdn_";

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including approval statuses and policies.
    Admin,
    /// Read-only reports and the log explorer.
    Analyst,
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "admin" => Ok(Self::Admin),
            "analyst" => Ok(Self::Analyst),
            other => Err(format!("unknown role {other:?}: use admin or analyst")),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredToken {
    name: String,
    role: Role,
    sha256: String,
    created_unix_ms: u64,
}

/// Who presented a valid token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    pub role: Role,
}

/// The token hashes, as loaded from the state directory.
#[derive(Debug, Default)]
pub struct TokenStore {
    tokens: Vec<StoredToken>,
}

fn path(dir: &Path) -> PathBuf {
    dir.join(TOKENS_FILE)
}

impl TokenStore {
    /// Loads the tokens of `state_dir` (none when the file does not exist).
    pub fn load(state_dir: &Path) -> Result<Self, String> {
        let path = path(state_dir);
        match fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(|tokens| Self { tokens })
                .map_err(|e| format!("{}:{}:{}: {e}", path.display(), e.line(), e.column())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Creates a token, stores its hash, and returns the token (shown once, never stored).
    pub fn create(state_dir: &Path, name: &str, role: Role) -> Result<String, String> {
        if name.trim().is_empty() {
            return Err("a token needs a --name".into());
        }
        let mut store = Self::load(state_dir)?;
        if store.tokens.iter().any(|t| t.name == name) {
            return Err(format!("a token named {name:?} already exists"));
        }
        let secret: [u8; 32] = rand::random();
        let token = format!(
            "{TOKEN_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
        );
        store.tokens.push(StoredToken {
            name: name.to_string(),
            role,
            sha256: sha256_hex(&token),
            created_unix_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
        });
        let text = serde_json::to_string_pretty(&store.tokens).map_err(|e| e.to_string())?;
        let path = path(state_dir);
        write_atomic(&path, text.as_bytes(), true)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(token)
    }

    /// The principal behind a bearer token, if it is valid.
    pub fn verify(&self, token: &str) -> Option<Principal> {
        if !token.starts_with(TOKEN_PREFIX) {
            return None;
        }
        let presented = sha256_hex(token);
        self.tokens
            .iter()
            .find(|t| constant_time_eq(t.sha256.as_bytes(), presented.as_bytes()))
            .map(|t| Principal {
                name: t.name.clone(),
                role: t.role,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_token_verifies_with_its_role_and_only_its_hash_is_stored() {
        let dir = tempfile::tempdir().unwrap();
        let token = TokenStore::create(dir.path(), "alice", Role::Analyst).unwrap();
        let stored = std::fs::read_to_string(dir.path().join(TOKENS_FILE)).unwrap();
        assert!(!stored.contains(&token));
        let store = TokenStore::load(dir.path()).unwrap();
        assert_eq!(
            store.verify(&token),
            Some(Principal {
                name: "alice".into(),
                role: Role::Analyst
            })
        );
        assert_eq!(store.verify("wdn_forged"), None);
        assert_eq!(store.verify(""), None);
        assert!(TokenStore::create(dir.path(), "alice", Role::Admin).is_err());
    }
}
