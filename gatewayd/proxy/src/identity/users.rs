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
//! Argon2 is deliberately slow and memory-hungry, so this module only does the verifying:
//! how many run at once and who may try is `guard`'s job. A verified `Proxy-Authorization`
//! value is remembered for a minute (by a keyed digest, never in clear, see `verified`); the
//! memory dies with the directory, which is rebuilt whenever the users file changes. A name
//! that is not listed costs the same argon2 run as one that is (a dummy hash with the same
//! parameters), so answers do not reveal which names exist.

use std::collections::HashMap;
use std::path::Path;

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use serde::Deserialize;

use super::verified::{VerifiedCache, TTL as VERIFIED_TTL};
use super::Identity;
use config::ConfigError;
use state_files::{constant_time_eq, sha256_hex};

/// The most memory one password hash may make a verification use (KiB): every hash is checked
/// against it at load, so a typo in the users file cannot make each login allocate gigabytes.
const MAX_M_COST_KIB: u32 = 256 * 1024;

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
    /// What unknown names are verified against (see `dummy_hash`).
    dummy_hash: String,
    verified: VerifiedCache,
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
            let (line, col) = offset.map(|o| config::line_col(text, o)).unwrap_or((1, 1));
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
            if let Some(m_cost) = entry.password_hash.as_deref().and_then(m_cost) {
                if m_cost > MAX_M_COST_KIB {
                    return Err(at(
                        locate,
                        format!(
                            "user {:?}: password_hash asks for {m_cost} KiB per verification; \
                             the most allowed is {MAX_M_COST_KIB} (hash again with `gatewayd users hash-password`)",
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
            dummy_hash: dummy_hash(&users),
            users,
            verified: VerifiedCache::new(VERIFIED_TTL),
        })
    }

    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// The identity a recent verification of exactly this header value established.
    pub fn cached(&self, header: &str) -> Option<Identity> {
        self.verified.get(header)
    }

    /// Remembers a header value that verified (for `VERIFIED_TTL`).
    pub fn remember(&self, header: &str, identity: Identity) {
        self.verified.insert(header, identity);
    }

    /// Checks a bearer token against every user's token hash (cheap: tokens are long random
    /// secrets, so a SHA-256 compared in constant time is enough).
    pub fn verify_token(&self, token: &str) -> Option<Identity> {
        let presented = hex_sha256(token.trim());
        let (name, user) = self.users.iter().find(|(_, u)| {
            u.token_sha256
                .as_deref()
                .is_some_and(|t| constant_time_eq(t.as_bytes(), presented.as_bytes()))
        })?;
        Some(Identity {
            user: name.clone(),
            groups: user.groups.clone(),
            method: "proxy_token",
            device: None,
        })
    }

    /// Checks a password with argon2: blocking and expensive, run it on the blocking pool
    /// behind the verification limit. A name that is not listed (or has no password) is
    /// checked against a dummy hash with the same parameters, so its answer costs the same.
    ///
    /// `scratch` is argon2's working memory, reused from call to call: allocating ~19 MiB per
    /// try on whichever blocking thread runs it leaves freed blocks in many allocator arenas,
    /// which is how a flood once grew the process by gigabytes.
    pub fn verify_password(
        &self,
        name: &str,
        password: &str,
        scratch: &mut Vec<Block>,
    ) -> Option<Identity> {
        let user = self.users.get(name).filter(|u| u.hash.is_some());
        let hash = user
            .and_then(|u| u.hash.as_deref())
            .unwrap_or(&self.dummy_hash);
        let matched = argon2_matches(hash, password.as_bytes(), scratch);
        let user = user.filter(|_| matched)?;
        Some(Identity {
            user: name.to_string(),
            groups: user.groups.clone(),
            method: "proxy_auth",
            device: None,
        })
    }
}

/// Whether `password` hashes to the PHC string `hash`, computed in `scratch`.
fn argon2_matches(hash: &str, password: &[u8], scratch: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    if scratch.len() < blocks {
        scratch.resize(blocks, Block::default());
    }
    let mut output = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, &mut output, &mut scratch[..blocks])
        .is_ok()
        && constant_time_eq(&output, expected.as_bytes())
}

/// What a `Proxy-Authorization` header presents.
#[derive(Debug, PartialEq, Eq)]
pub enum Credentials {
    Bearer(String),
    Basic {
        name: String,
        password: String,
    },
    /// Not a scheme or encoding we accept.
    Malformed,
}

impl Credentials {
    pub fn parse(header: &str) -> Self {
        if let Some(token) = bearer_token(header) {
            return Self::Bearer(token.to_string());
        }
        match parse_basic(header) {
            Some((name, password)) => Self::Basic { name, password },
            None => Self::Malformed,
        }
    }
}

/// A PHC string in the format of the directory's own hashes (the most common parameters, or
/// the defaults) whose password nobody knows: unknown names are verified against it.
fn dummy_hash(users: &HashMap<String, User>) -> String {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for hash in users.values().filter_map(|u| u.hash.as_deref()) {
        if let Ok(parsed) = PasswordHash::new(hash) {
            let shape = format!(
                "${}${}",
                parsed.algorithm,
                parsed.version.map_or(String::new(), |v| format!("v={v}$"))
            ) + parsed.params.as_str();
            *counts.entry(shape).or_default() += 1;
        }
    }
    let shape = counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
        .map(|(shape, _)| shape)
        .unwrap_or_else(|| {
            let p = argon2::Params::DEFAULT;
            format!(
                "$argon2id$v=19$m={},t={},p={}",
                p.m_cost(),
                p.t_cost(),
                p.p_cost()
            )
        });
    let salt: [u8; 16] = rand::random();
    let output: [u8; 32] = rand::random();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    format!("{shape}${}${}", b64.encode(salt), b64.encode(output))
}

/// The token of an `Authorization` (or `Proxy-Authorization`) value in the Bearer scheme,
/// whose name is case-insensitive (RFC 9110 section 11.1).
pub fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
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

/// The `m` (memory, KiB) parameter of a PHC string, if it has one.
fn m_cost(hash: &str) -> Option<u32> {
    let parsed = PasswordHash::new(hash).ok()?;
    parsed.params.get_decimal("m")
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
    use super::*;

    #[test]
    fn verifies_passwords_tokens_and_unknown_names_alike() {
        let hash = hash_password("s3cret").unwrap();
        let text =
            format!("[[user]]\nname = \"alice\"\npassword_hash = \"{hash}\"\ngroups = [\"eng\"]\n");
        let users = UserDirectory::parse("u.toml", &text).unwrap();
        let scratch = &mut Vec::new();
        let identity = users.verify_password("alice", "s3cret", scratch).unwrap();
        assert_eq!(identity.user, "alice");
        assert_eq!(identity.groups, vec!["eng".to_string()]);
        assert!(users.verify_password("alice", "nope", scratch).is_none());
        assert!(users
            .verify_password("mallory", "s3cret", scratch)
            .is_none());
        // The dummy hash has alice's shape, so an unknown name costs the same argon2 run.
        let shape = |h: &str| h.rsplitn(3, '$').nth(2).unwrap().to_string();
        assert_eq!(shape(&users.dummy_hash), shape(&hash));
        assert_ne!(users.dummy_hash, hash);
        users.remember("Basic x", identity.clone());
        assert_eq!(users.cached("Basic x"), Some(identity));
        assert_eq!(users.cached("Basic y"), None);

        let token_text = format!(
            "[[user]]\nname = \"svc\"\ntoken_sha256 = \"{}\"\ngroups = [\"bots\"]\n",
            hex_sha256("tok-123")
        );
        let tokens = UserDirectory::parse("u.toml", &token_text).unwrap();
        let bot = tokens.verify_token("tok-123").unwrap();
        assert_eq!((bot.user.as_str(), bot.method), ("svc", "proxy_token"));
        assert!(tokens.verify_token("tok-124").is_none());
        assert!(tokens.verify_password("svc", "", scratch).is_none());
        assert!(tokens
            .dummy_hash
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_eq!(Credentials::parse("Basic !!!"), Credentials::Malformed);
        assert_eq!(
            Credentials::parse("Bearer  t "),
            Credentials::Bearer("t".into())
        );
        assert_eq!(
            Credentials::parse("bearer t"),
            Credentials::Bearer("t".into())
        );
    }

    #[test]
    fn hashes_that_ask_for_too_much_memory_are_refused() {
        let text = "[[user]]\nname = \"bob\"\npassword_hash = \"$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g\"\n";
        let err = UserDirectory::parse("u.toml", text)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("KiB per verification"), "{err}");
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
