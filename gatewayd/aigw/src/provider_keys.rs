//! The provider keys a running gateway uses: the key store opened with the master key, and
//! opened again whenever its file changes (`gatewayd keys rotate|delete` take effect on the
//! next call). A value is taken out only at the moment a request is sent, and when each
//! name was last used that way is kept in memory for the key pages (`last_used`).
//!
//! Never: log, return in an error or keep a copy of a value beyond the call that uses it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use keystore::{KeyStore, MasterKeySource, Secret, STORE_FILE};

use crate::error::CallError;
use crate::files::Stamp;

/// The key store, re-opened on change.
#[derive(Debug)]
pub struct ProviderKeys {
    dir: PathBuf,
    source: MasterKeySource,
    current: Mutex<(Option<Stamp>, Option<KeyStore>)>,
    /// Key name → when a call last took its value out (Unix ms), since start.
    used: Mutex<HashMap<String, u64>>,
}

impl ProviderKeys {
    /// Opens the store; a missing or wrong master key is an error now, not at the first call.
    pub fn open(state_dir: &Path, master_key: &str) -> Result<Self, String> {
        let source = MasterKeySource::parse(master_key).map_err(|e| e.to_string())?;
        let stamp = Stamp::of(&state_dir.join(STORE_FILE));
        let store = open(state_dir, &source)?;
        Ok(Self {
            dir: state_dir.to_path_buf(),
            source,
            current: Mutex::new((stamp, Some(store))),
            used: Mutex::new(HashMap::new()),
        })
    }

    /// The current value of the key named `name`, for a call about to be sent: the use is
    /// recorded.
    pub fn secret(&self, name: &str) -> Result<Secret, CallError> {
        let secret = self.value(name, true)?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        if let Ok(mut used) = self.used.lock() {
            used.insert(name.to_string(), now);
        }
        Ok(secret)
    }

    /// Whether the key named `name` can be read now (at start), without counting a use.
    /// The error names the command that adds it: the start's reader is an administrator.
    pub fn check(&self, name: &str) -> Result<(), CallError> {
        self.value(name, false).map(drop)
    }

    /// When each key was last used by a call since start (Unix ms), by name.
    pub fn last_used(&self) -> HashMap<String, u64> {
        self.used.lock().map(|u| u.clone()).unwrap_or_default()
    }

    /// `for_caller`: the error goes to a caller of the gateway, who cannot fix a missing key.
    fn value(&self, name: &str, for_caller: bool) -> Result<Secret, CallError> {
        let now = Stamp::of(&self.dir.join(STORE_FILE));
        let mut current = self
            .current
            .lock()
            .map_err(|_| CallError::Internal("key store lock poisoned".into()))?;
        if current.0 != now {
            let store = open(&self.dir, &self.source)
                .inspect_err(|error| tracing::error!(%error, "provider key store unreadable"))
                .ok();
            *current = (now, store);
        }
        let store = current.1.as_ref().ok_or_else(|| {
            CallError::Internal(
                "the provider key store cannot be opened (see gatewayd's log)".into(),
            )
        })?;
        store.secret(name).map_err(|e| match e {
            keystore::KeyStoreError::NoSuchKey(_) if !for_caller => CallError::Internal(format!(
                "provider key {name:?} is not in the key store (gatewayd keys add {name} --provider ...)"
            )),
            keystore::KeyStoreError::NoSuchKey(_) => {
                // The fix is the administrators' (the log says which command); the caller
                // is told whom to ask, not an admin command they cannot run.
                tracing::error!(
                    key = name,
                    "provider key is not in the key store (gatewayd keys add {name} --provider ...)"
                );
                CallError::Internal(
                    "the provider key is missing; ask the AI gateway's administrators".into(),
                )
            }
            other => CallError::Internal(format!("provider key {name:?}: {other}")),
        })
    }
}

fn open(dir: &Path, source: &MasterKeySource) -> Result<KeyStore, String> {
    let master = KeyStore::master_for(dir, source).map_err(|e| e.to_string())?;
    KeyStore::open(dir, master).map_err(|e| e.to_string())
}
