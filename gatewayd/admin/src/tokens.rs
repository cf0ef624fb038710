//! Admin API tokens: created by `gatewayd admin token create`, shown once, stored only as a
//! SHA-256 hash in `<state>/admin-tokens.json` with an id, a name, a role and an optional
//! expiry. `gatewayd admin token list` shows them (never a secret or a hash), `revoke ID`
//! removes one; the daemon re-reads the file within a second, and a removed or expired
//! token stops working everywhere, including the dashboard sessions it opened.
//!
//! Tokens are 32 random bytes, so a fast hash is enough (no password-style stretching); the
//! comparison is over hashes, in constant time.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use state_files::{constant_time_eq, sha256_hex, write_atomic};

const TOKENS_FILE: &str = "admin-tokens.json";
const TOKEN_PREFIX: &str = "wdn_";

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including approval statuses and policies.
    Admin,
    /// Read-only reports and the log explorer, without audited prompts.
    Analyst,
    /// What an analyst may do, and read audited prompts (`audit_prompt`): on the event page,
    /// over the API and in the log explorer; each prompt read is in the audit trail.
    Investigator,
    /// What an analyst may do, and manage the AI gateway's keys (virtual keys, provider
    /// keys) on the dashboard; no key's value is ever shown back, to this role or any other.
    KeyAdmin,
}

impl Role {
    /// The role as the API, the token file and the command line spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Investigator => "investigator",
            Role::KeyAdmin => "key_admin",
        }
    }

    /// Whether this role may manage the AI gateway's virtual and provider keys.
    pub fn manages_keys(self) -> bool {
        matches!(self, Role::Admin | Role::KeyAdmin)
    }

    /// Whether this role may read audited prompts. Admins may not: they can mint an
    /// investigator token, which the audit trail shows, but reading prompts is a role of its
    /// own.
    pub fn reads_prompts(self) -> bool {
        self == Role::Investigator
    }
}

impl std::str::FromStr for Role {
    type Err = TokenStoreError;
    fn from_str(s: &str) -> Result<Self, TokenStoreError> {
        match s {
            "admin" => Ok(Self::Admin),
            "analyst" => Ok(Self::Analyst),
            "investigator" => Ok(Self::Investigator),
            "key_admin" => Ok(Self::KeyAdmin),
            other => Err(TokenStoreError::UnknownRole(other.to_owned())),
        }
    }
}

/// Why the token file could not be read or changed; the text is what the command line prints
/// and what the daemon logs (it never holds a token or a hash).
#[derive(Debug, thiserror::Error)]
pub enum TokenStoreError {
    #[error("{path}:{line}:{column}: {source}")]
    Parse {
        path: String,
        line: usize,
        column: usize,
        source: serde_json::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Encode(serde_json::Error),
    #[error("a token needs a --name")]
    NameRequired,
    #[error("a token named {0:?} already exists")]
    NameTaken(String),
    #[error("no token with id {0:?} (see `gatewayd admin token list`)")]
    UnknownId(String),
    #[error("unknown role {0:?}: use admin, analyst, investigator or key_admin")]
    UnknownRole(String),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredToken {
    /// A short public handle (files written before ids existed get one derived from the hash).
    #[serde(default)]
    id: String,
    name: String,
    role: Role,
    sha256: String,
    created_unix_ms: u64,
    /// After this the token is refused; `None` never expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_unix_ms: Option<u64>,
}

impl StoredToken {
    fn live(&self, now_ms: u64) -> bool {
        self.expires_unix_ms.is_none_or(|at| now_ms < at)
    }
}

/// Who presented a valid token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub name: String,
    pub role: Role,
    /// The token's id: sessions opened with it end when it is revoked or expires.
    pub token_id: String,
}

/// What `gatewayd admin token list` shows of a token: no secret, no hash.
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub created_unix_ms: u64,
    pub expires_unix_ms: Option<u64>,
    pub expired: bool,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
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
    pub fn load(state_dir: &Path) -> Result<Self, TokenStoreError> {
        let path = path(state_dir);
        match fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str::<Vec<StoredToken>>(&text)
                .map(|mut tokens| {
                    for token in tokens.iter_mut().filter(|t| t.id.is_empty()) {
                        token.id = token.sha256.chars().take(12).collect();
                    }
                    Self { tokens }
                })
                .map_err(|source| TokenStoreError::Parse {
                    path: path.display().to_string(),
                    line: source.line(),
                    column: source.column(),
                    source,
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(TokenStoreError::Io {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// Creates a token (valid for `ttl`, or until revoked), stores its hash, and returns its id
    /// and the token (shown once, never stored).
    pub fn create(
        state_dir: &Path,
        name: &str,
        role: Role,
        ttl: Option<std::time::Duration>,
    ) -> Result<(String, String), TokenStoreError> {
        if name.trim().is_empty() {
            return Err(TokenStoreError::NameRequired);
        }
        let mut store = Self::load(state_dir)?;
        if store.tokens.iter().any(|t| t.name == name) {
            return Err(TokenStoreError::NameTaken(name.to_owned()));
        }
        let token = state_files::new_secret(TOKEN_PREFIX);
        let id = state_files::new_public_id();
        let created = now_ms();
        store.tokens.push(StoredToken {
            id: id.clone(),
            name: name.to_string(),
            role,
            sha256: sha256_hex(&token),
            created_unix_ms: created,
            expires_unix_ms: ttl.map(|ttl| created.saturating_add(ttl.as_millis() as u64)),
        });
        store.save(state_dir)?;
        Ok((id, token))
    }

    fn save(&self, state_dir: &Path) -> Result<(), TokenStoreError> {
        let text = serde_json::to_string_pretty(&self.tokens).map_err(TokenStoreError::Encode)?;
        let path = path(state_dir);
        write_atomic(&path, text.as_bytes(), true).map_err(|source| TokenStoreError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Removes the token with this id (or, for convenience, this name); returns its name.
    pub fn revoke(state_dir: &Path, id: &str) -> Result<String, TokenStoreError> {
        let mut store = Self::load(state_dir)?;
        let Some(index) = store
            .tokens
            .iter()
            .position(|t| t.id == id)
            .or_else(|| store.tokens.iter().position(|t| t.name == id))
        else {
            return Err(TokenStoreError::UnknownId(id.to_owned()));
        };
        let removed = store.tokens.remove(index);
        store.save(state_dir)?;
        Ok(removed.name)
    }

    /// Every token, without secrets.
    pub fn list(&self) -> Vec<TokenInfo> {
        let now = now_ms();
        self.tokens
            .iter()
            .map(|t| TokenInfo {
                id: t.id.clone(),
                name: t.name.clone(),
                role: t.role,
                created_unix_ms: t.created_unix_ms,
                expires_unix_ms: t.expires_unix_ms,
                expired: !t.live(now),
            })
            .collect()
    }

    /// Whether the token with this id exists and has not expired (a dashboard session lives
    /// only as long as its token).
    pub fn is_live(&self, id: &str) -> bool {
        let now = now_ms();
        self.tokens.iter().any(|t| t.id == id && t.live(now))
    }

    /// The principal of the live token with this id: its name and role as the token file
    /// says now.
    pub fn principal(&self, id: &str) -> Option<Principal> {
        let now = now_ms();
        self.tokens
            .iter()
            .find(|t| t.id == id && t.live(now))
            .map(|t| Principal {
                name: t.name.clone(),
                role: t.role,
                token_id: t.id.clone(),
            })
    }

    /// The principal behind a bearer token, if it is valid and not expired.
    pub fn verify(&self, token: &str) -> Option<Principal> {
        if !token.starts_with(TOKEN_PREFIX) {
            return None;
        }
        let presented = sha256_hex(token);
        let now = now_ms();
        self.tokens
            .iter()
            .find(|t| constant_time_eq(t.sha256.as_bytes(), presented.as_bytes()))
            .filter(|t| t.live(now))
            .map(|t| Principal {
                name: t.name.clone(),
                role: t.role,
                token_id: t.id.clone(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_token_verifies_with_its_role_and_only_its_hash_is_stored() {
        let dir = tempfile::tempdir().unwrap();
        let (id, token) = TokenStore::create(dir.path(), "alice", Role::Analyst, None).unwrap();
        let stored = std::fs::read_to_string(dir.path().join(TOKENS_FILE)).unwrap();
        assert!(!stored.contains(&token));
        let store = TokenStore::load(dir.path()).unwrap();
        assert_eq!(
            store.verify(&token),
            Some(Principal {
                name: "alice".into(),
                role: Role::Analyst,
                token_id: id.clone(),
            })
        );
        assert!(store.is_live(&id));
        assert_eq!(store.verify("wdn_forged"), None);
        assert_eq!(store.verify(""), None);
        assert!(TokenStore::create(dir.path(), "alice", Role::Admin, None).is_err());
        let listed = serde_json::to_string(&store.list()).unwrap();
        assert!(listed.contains(&id) && !listed.contains(&token[4..12]));
        assert!(!listed.contains(&sha256_hex(&token)));

        assert_eq!(TokenStore::revoke(dir.path(), &id).unwrap(), "alice");
        let store = TokenStore::load(dir.path()).unwrap();
        assert_eq!(store.verify(&token), None);
        assert!(!store.is_live(&id));
        assert!(TokenStore::revoke(dir.path(), &id).is_err());
    }

    #[test]
    fn an_expired_token_is_refused_and_old_files_get_ids() {
        let dir = tempfile::tempdir().unwrap();
        let (id, token) = TokenStore::create(
            dir.path(),
            "brief",
            Role::Admin,
            Some(std::time::Duration::ZERO),
        )
        .unwrap();
        let store = TokenStore::load(dir.path()).unwrap();
        assert_eq!(store.verify(&token), None);
        assert!(!store.is_live(&id));
        assert!(store.list()[0].expired);
        std::fs::write(
            dir.path().join(TOKENS_FILE),
            r#"[{"name":"old","role":"admin","sha256":"abcdef0123456789abcdef","created_unix_ms":1}]"#,
        )
        .unwrap();
        let store = TokenStore::load(dir.path()).unwrap();
        assert_eq!(store.list()[0].id, "abcdef012345");
    }
}
