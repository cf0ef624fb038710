//! The users file for proxy authentication: names, argon2id password hashes, groups.
//!
//! ```toml
//! [[user]]
//! name = "alice"
//! password_hash = "$argon2id$v=19$m=19456,t=2,p=1$..."   # Basic: gatewayd users hash-password
//! token_sha256 = "9f86d0..."                               # Bearer: gatewayd users hash-token
//! groups = ["engineering"]
//! ```
//!
//! A user needs a password hash, a token hash, or both. Bearer tokens are long random
//! secrets, so their SHA-256 is enough; passwords get argon2id.
//!
//! Argon2 is deliberately slow, so a verified `Proxy-Authorization` value is remembered (by
//! its SHA-256, never in clear) in a bounded cache until the directory is reloaded.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::Identity;
use crate::config::ConfigError;
use crate::state_files::{constant_time_eq, sha256_hex};

const VERIFIED_CACHE_LIMIT: usize = 4096;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersFile {
    #[serde(default)]
    user: Vec<UserEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    name: String,
    #[serde(default)]
    password_hash: Option<String>,
    #[serde(default)]
    token_sha256: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
}

struct User {
    hash: Option<String>,
    token_sha256: Option<String>,
    groups: Vec<String>,
}

/// Users who may authenticate to the proxy.
pub struct UserDirectory {
    users: HashMap<String, User>,
    verified: Mutex<HashMap<[u8; 32], Identity>>,
}

impl UserDirectory {
    /// Reads and validates a users file; errors are `file:line:col: message`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::parse(&shown, &text)
    }

    pub fn parse(shown: &str, text: &str) -> Result<Self, ConfigError> {
        let at = |offset: Option<usize>, message: String| {
            let (line, col) = offset
                .map(|o| crate::config::line_col(text, o))
                .unwrap_or((1, 1));
            ConfigError::At {
                path: shown.to_string(),
                line,
                col,
                message,
            }
        };
        let file: UsersFile = toml::from_str(text)
            .map_err(|e| at(e.span().map(|s| s.start), e.message().to_string()))?;
        let mut users = HashMap::new();
        for entry in file.user {
            let locate = text.find(&format!("\"{}\"", entry.name));
            if entry.name.is_empty() || entry.name.contains(':') {
                return Err(at(
                    locate,
                    format!(
                        "user name {:?} must be non-empty and contain no ':'",
                        entry.name
                    ),
                ));
            }
            if entry.password_hash.is_none() && entry.token_sha256.is_none() {
                return Err(at(
                    locate,
                    format!("user {:?} needs password_hash or token_sha256", entry.name),
                ));
            }
            if let Some(token) = &entry.token_sha256 {
                if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(at(
                        locate,
                        format!(
                            "user {:?}: token_sha256 must be 64 hex digits; create it with `gatewayd users hash-token`",
                            entry.name
                        ),
                    ));
                }
            }
            if entry
                .password_hash
                .as_deref()
                .is_some_and(|h| PasswordHash::new(h).is_err())
            {
                return Err(at(
                    locate,
                    format!(
                        "user {:?}: password_hash is not a PHC string; create one with `gatewayd users hash-password`",
                        entry.name
                    ),
                ));
            }
            let name = entry.name.clone();
            if users
                .insert(
                    entry.name,
                    User {
                        hash: entry.password_hash,
                        token_sha256: entry.token_sha256.map(|t| t.to_ascii_lowercase()),
                        groups: entry.groups,
                    },
                )
                .is_some()
            {
                return Err(at(locate, format!("user {name:?} is listed twice")));
            }
        }
        Ok(Self {
            users,
            verified: Mutex::new(HashMap::new()),
        })
    }

    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Checks a `Proxy-Authorization` header value. Runs argon2 on a blocking thread the first
    /// time a given value is seen.
    pub async fn verify(self: &std::sync::Arc<Self>, header: &str) -> Option<Identity> {
        let key: [u8; 32] = Sha256::digest(header.as_bytes()).into();
        if let Some(identity) = self.cached(&key) {
            return Some(identity);
        }
        if let Some(token) = header.trim().strip_prefix("Bearer ") {
            let presented = hex_sha256(token.trim());
            let (name, user) = self.users.iter().find(|(_, u)| {
                u.token_sha256
                    .as_deref()
                    .is_some_and(|t| constant_time_eq(t.as_bytes(), presented.as_bytes()))
            })?;
            return Some(Identity {
                user: name.clone(),
                groups: user.groups.clone(),
                method: "proxy_token",
                device: None,
            });
        }
        let (name, password) = parse_basic(header)?;
        let user = self.users.get(&name)?;
        let hash = user.hash.clone()?;
        let groups = user.groups.clone();
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        if !ok {
            return None;
        }
        let identity = Identity {
            user: name,
            groups,
            method: "proxy_auth",
            device: None,
        };
        let mut verified = self
            .verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if verified.len() >= VERIFIED_CACHE_LIMIT {
            verified.clear();
        }
        verified.insert(key, identity.clone());
        Some(identity)
    }

    fn cached(&self, key: &[u8; 32]) -> Option<Identity> {
        self.verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key)
            .cloned()
    }
}

fn parse_basic(header: &str) -> Option<(String, String)> {
    use base64::Engine;
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (name, password) = text.split_once(':')?;
    Some((name.to_string(), password.to_string()))
}

/// Lowercase hex SHA-256 of a bearer token, as the users file stores it.
pub fn hex_sha256(token: &str) -> String {
    sha256_hex(token)
}

/// An argon2id PHC hash of `password`, for the users file.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn verifies_basic_credentials_and_caches() {
        let hash = hash_password("s3cret").unwrap();
        let text =
            format!("[[user]]\nname = \"alice\"\npassword_hash = \"{hash}\"\ngroups = [\"eng\"]\n");
        let users = Arc::new(UserDirectory::parse("u.toml", &text).unwrap());
        use base64::Engine;
        let good = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("alice:s3cret")
        );
        let bad = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("alice:nope")
        );
        let identity = users.verify(&good).await.unwrap();
        assert_eq!(identity.user, "alice");
        assert_eq!(identity.groups, vec!["eng".to_string()]);
        assert!(users.verify(&good).await.is_some());
        assert!(users.verify(&bad).await.is_none());
        assert!(users.verify("Bearer x").await.is_none());
        let token_text = format!(
            "[[user]]\nname = \"svc\"\ntoken_sha256 = \"{}\"\ngroups = [\"bots\"]\n",
            hex_sha256("tok-123")
        );
        let tokens = Arc::new(UserDirectory::parse("u.toml", &token_text).unwrap());
        let bot = tokens.verify("Bearer tok-123").await.unwrap();
        assert_eq!((bot.user.as_str(), bot.method), ("svc", "proxy_token"));
        assert!(tokens.verify("Bearer tok-124").await.is_none());
        assert!(users.verify("Basic !!!").await.is_none());
    }

    #[test]
    fn bad_files_are_positioned() {
        let err = UserDirectory::parse(
            "u.toml",
            "[[user]]\nname = \"bob\"\npassword_hash = \"plain\"\n",
        )
        .err()
        .unwrap()
        .to_string();
        assert!(err.starts_with("u.toml:2:8: "), "{err}");
        let err = UserDirectory::parse("u.toml", "[[user]]\nnom = 1\n")
            .err()
            .unwrap()
            .to_string();
        assert!(err.starts_with("u.toml:2:1: "), "{err}");
    }
}
