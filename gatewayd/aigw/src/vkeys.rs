//! Virtual keys: what callers of the AI gateway present (`Authorization: Bearer wvk_...` or
//! `x-api-key`). Created by `gatewayd aigw keys create`, shown once, stored only as a SHA-256
//! hash in `<state>/aigw-keys.json` (0600) with an id, a name, the user and team they stand
//! for, the models they may use and an optional expiry. `revoke` removes one; a running
//! gatewayd notices the file changed on the next call ([`LiveKeys`]) and refuses it at once.
//!
//! Keys are 32 random bytes, so a fast hash is enough; comparison is over hashes, in constant
//! time. Never: store, log or return a key after `create`, or a hash in `list`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use state_files::{constant_time_eq, sha256_hex, write_atomic, StateLock};

use crate::files::Stamp;

/// The file in the state directory.
pub const KEYS_FILE: &str = "aigw-keys.json";
/// What every virtual key starts with.
pub const KEY_PREFIX: &str = "wvk_";
/// The largest keys file read.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredKey {
    id: String,
    name: String,
    user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    team: Option<String>,
    /// Model names or `provider/*`; empty: every configured model.
    #[serde(default)]
    models: Vec<String>,
    /// Labels every call with this key carries into `ai_requests` (a project, a cost centre).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    sha256: String,
    created_unix_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_unix_ms: Option<u64>,
}

impl StoredKey {
    fn live(&self, now_ms: u64) -> bool {
        self.expires_unix_ms.is_none_or(|at| now_ms < at)
    }
}

/// Who a valid virtual key stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub key_id: String,
    pub key_name: String,
    pub user: String,
    pub team: Option<String>,
    pub models: Vec<String>,
    pub tags: Vec<String>,
}

/// What `list` shows of a key: no secret, no hash.
#[derive(Debug, Clone, Serialize)]
pub struct VirtualKeyInfo {
    pub id: String,
    pub name: String,
    pub user: String,
    pub team: Option<String>,
    pub models: Vec<String>,
    pub tags: Vec<String>,
    pub created_unix_ms: u64,
    pub expires_unix_ms: Option<u64>,
    pub expired: bool,
}

/// What `create` asks for.
#[derive(Debug, Clone, Default)]
pub struct NewKey<'a> {
    pub name: &'a str,
    pub user: &'a str,
    pub team: Option<&'a str>,
    pub models: Vec<String>,
    pub tags: Vec<String>,
    pub ttl: Option<std::time::Duration>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn path(dir: &Path) -> PathBuf {
    dir.join(KEYS_FILE)
}

/// The virtual keys as loaded from the state directory.
#[derive(Debug, Default)]
pub struct VirtualKeys {
    keys: Vec<StoredKey>,
}

impl VirtualKeys {
    /// Loads the keys of `state_dir` (none when the file does not exist).
    pub fn load(state_dir: &Path) -> Result<Self, String> {
        let path = path(state_dir);
        let file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::Read::take(file, MAX_FILE_BYTES), &mut text)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str::<Vec<StoredKey>>(&text)
            .map(|keys| Self { keys })
            .map_err(|e| format!("{}:{}:{}: {e}", path.display(), e.line(), e.column()))
    }

    /// Creates a key, stores its hash, and returns its id and the key (shown once).
    pub fn create(state_dir: &Path, new: &NewKey<'_>) -> Result<(String, String), String> {
        for (what, value) in [("--name", new.name), ("--user", new.user)] {
            if value.trim().is_empty() || value.len() > 200 || value.chars().any(char::is_control) {
                return Err(format!("{what} must be 1 to 200 printable characters"));
            }
        }
        if new.tags.len() > 16
            || new
                .tags
                .iter()
                .any(|t| t.is_empty() || t.len() > 64 || !t.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err("--tag: at most 16 tags of 1 to 64 printable ASCII characters".into());
        }
        let _lock = StateLock::acquire(state_dir).map_err(|e| format!("state lock: {e}"))?;
        let mut store = Self::load(state_dir)?;
        if store.keys.iter().any(|k| k.name == new.name) {
            return Err(format!("a virtual key named {:?} already exists", new.name));
        }
        let key = state_files::new_secret(KEY_PREFIX);
        let id = state_files::new_public_id();
        let created = now_ms();
        store.keys.push(StoredKey {
            id: id.clone(),
            name: new.name.to_string(),
            user: new.user.to_string(),
            team: new.team.map(str::to_string),
            models: new.models.clone(),
            tags: new.tags.clone(),
            sha256: sha256_hex(&key),
            created_unix_ms: created,
            expires_unix_ms: new.ttl.map(|ttl| {
                created.saturating_add(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX))
            }),
        });
        store.save(state_dir)?;
        Ok((id, key))
    }

    fn save(&self, state_dir: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(&self.keys).map_err(|e| e.to_string())?;
        let path = path(state_dir);
        write_atomic(&path, text.as_bytes(), true).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Removes the key with this id (or name); returns its name.
    pub fn revoke(state_dir: &Path, id: &str) -> Result<String, String> {
        let _lock = StateLock::acquire(state_dir).map_err(|e| format!("state lock: {e}"))?;
        let mut store = Self::load(state_dir)?;
        let Some(index) = store
            .keys
            .iter()
            .position(|k| k.id == id)
            .or_else(|| store.keys.iter().position(|k| k.name == id))
        else {
            return Err(format!(
                "no virtual key with id {id:?} (see `gatewayd aigw keys list`)"
            ));
        };
        let removed = store.keys.remove(index);
        store.save(state_dir)?;
        Ok(removed.name)
    }

    /// Every key, without secrets.
    pub fn list(&self) -> Vec<VirtualKeyInfo> {
        let now = now_ms();
        self.keys
            .iter()
            .map(|k| VirtualKeyInfo {
                id: k.id.clone(),
                name: k.name.clone(),
                user: k.user.clone(),
                team: k.team.clone(),
                models: k.models.clone(),
                tags: k.tags.clone(),
                created_unix_ms: k.created_unix_ms,
                expires_unix_ms: k.expires_unix_ms,
                expired: !k.live(now),
            })
            .collect()
    }

    /// The caller behind a presented key, if it is valid and not expired.
    pub fn verify(&self, key: &str) -> Option<Caller> {
        if !key.starts_with(KEY_PREFIX) {
            return None;
        }
        let presented = sha256_hex(key);
        let now = now_ms();
        self.keys
            .iter()
            .find(|k| constant_time_eq(k.sha256.as_bytes(), presented.as_bytes()))
            .filter(|k| k.live(now))
            .map(|k| Caller {
                key_id: k.id.clone(),
                key_name: k.name.clone(),
                user: k.user.clone(),
                team: k.team.clone(),
                models: k.models.clone(),
                tags: k.tags.clone(),
            })
    }
}

/// The virtual keys a running gateway checks: re-read whenever the file changed, checked on
/// every call (one `stat`), so a revoked key is refused by the next call. A file that cannot
/// be read after a change refuses every key (fail closed) until it can.
#[derive(Debug)]
pub struct LiveKeys {
    dir: PathBuf,
    current: Mutex<(Option<Stamp>, Arc<VirtualKeys>)>,
}

impl LiveKeys {
    pub fn open(state_dir: &Path) -> Result<Self, String> {
        let keys = VirtualKeys::load(state_dir)?;
        Ok(Self {
            dir: state_dir.to_path_buf(),
            current: Mutex::new((Stamp::of(&path(state_dir)), Arc::new(keys))),
        })
    }

    /// The keys in force now.
    pub fn current(&self) -> Arc<VirtualKeys> {
        let now = Stamp::of(&path(&self.dir));
        let Ok(mut current) = self.current.lock() else {
            return Arc::new(VirtualKeys::default());
        };
        if current.0 != now {
            let keys = match VirtualKeys::load(&self.dir) {
                Ok(keys) => keys,
                Err(error) => {
                    tracing::error!(%error, "virtual keys unreadable: refusing every key until fixed");
                    VirtualKeys::default()
                }
            };
            *current = (now, Arc::new(keys));
        }
        current.1.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_key_verifies_and_only_its_hash_is_stored() {
        let dir = tempfile::tempdir().unwrap();
        let new = NewKey {
            name: "ci",
            user: "alice",
            team: Some("data"),
            models: vec!["fast".into(), "anthropic/*".into()],
            tags: vec!["project-x".into()],
            ttl: None,
        };
        let (id, key) = VirtualKeys::create(dir.path(), &new).unwrap();
        let stored = std::fs::read_to_string(dir.path().join(KEYS_FILE)).unwrap();
        assert!(!stored.contains(&key[4..]));
        let live = LiveKeys::open(dir.path()).unwrap();
        let caller = live.current().verify(&key).unwrap();
        assert_eq!(
            (caller.user.as_str(), caller.key_id.as_str()),
            ("alice", id.as_str())
        );
        assert_eq!(caller.models, ["fast", "anthropic/*"]);
        assert_eq!(caller.tags, ["project-x"]);
        assert!(live.current().verify("wvk_forged").is_none());
        assert!(
            VirtualKeys::create(dir.path(), &new).is_err(),
            "names are unique"
        );
        let listed = serde_json::to_string(&live.current().list()).unwrap();
        assert!(listed.contains(&id) && !listed.contains(&sha256_hex(&key)));

        assert_eq!(VirtualKeys::revoke(dir.path(), &id).unwrap(), "ci");
        assert!(live.current().verify(&key).is_none(), "refused at once");
    }

    #[test]
    fn an_expired_or_unreadable_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let new = NewKey {
            name: "brief",
            user: "bob",
            ttl: Some(std::time::Duration::ZERO),
            ..NewKey::default()
        };
        let (_, key) = VirtualKeys::create(dir.path(), &new).unwrap();
        let live = LiveKeys::open(dir.path()).unwrap();
        assert!(live.current().verify(&key).is_none());
        assert!(live.current().list()[0].expired);
        let (_, other) = VirtualKeys::create(
            dir.path(),
            &NewKey {
                name: "b",
                user: "bob",
                ..NewKey::default()
            },
        )
        .unwrap();
        assert!(live.current().verify(&other).is_some());
        std::fs::write(dir.path().join(KEYS_FILE), "{not json").unwrap();
        assert!(live.current().verify(&other).is_none(), "fails closed");
    }
}
