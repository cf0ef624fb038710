//! The store file, `<state>/provider-keys.json` (0600, written atomically under the state
//! lock): for each named key its provider, dates and versions; each version holds its own
//! data key sealed by the master key and its value sealed by that data key, with the name and
//! version bound as associated data. A check value sealed by the master key tells a wrong
//! master key at once ("does not open"), before anything is decrypted into garbage.
//!
//! Rotation adds a version and keeps the previous one usable for a grace period (requests in
//! flight, replicas that have not reloaded); versions past their grace are dropped on the
//! next write. Nothing here ever returns a value except [`KeyStore::secret`].

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use state_files::{write_atomic, StateLock};
use zeroize::Zeroizing;

use crate::master::MasterKey;
use crate::sealed::{open, seal};
use crate::{KeyStoreError, Secret};

/// The file in the state directory.
pub const STORE_FILE: &str = "provider-keys.json";
const FORMAT: u32 = 1;
const CHECK_AAD: &[u8] = b"warden-keystore v1 master-check";
const CHECK_TEXT: &[u8] = b"warden provider keys";
/// The largest secret stored (a cloud service-account file is a few KiB).
pub const MAX_SECRET_BYTES: usize = 16 * 1024;
/// The largest store file read.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// The providers a key may be for.
pub const PROVIDERS: &[&str] = &[
    "openai",
    "anthropic",
    "gemini",
    "azure-openai",
    "bedrock",
    "openai-compatible",
];

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreFile {
    format: u32,
    /// The id of the master key that wraps the data keys.
    master_id: String,
    master_check: String,
    keys: Vec<StoredKey>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredKey {
    name: String,
    provider: String,
    created_unix_ms: u64,
    rotated_unix_ms: Option<u64>,
    /// Newest last.
    versions: Vec<StoredVersion>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredVersion {
    version: u32,
    fingerprint: String,
    created_unix_ms: u64,
    /// When this (replaced) version stops being usable.
    retire_unix_ms: Option<u64>,
    data_key: String,
    secret: String,
}

/// What `keys list` shows of a key: never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    pub name: String,
    pub provider: String,
    /// `sha256:` and the first 12 hex digits of the current value's SHA-256.
    pub fingerprint: String,
    pub version: u32,
    pub created_unix_ms: u64,
    pub rotated_unix_ms: Option<u64>,
    /// Replaced versions still usable, until their grace ends.
    pub previous_versions_live: usize,
}

/// The provider keys, opened with the master key.
#[derive(Debug)]
pub struct KeyStore {
    path: PathBuf,
    master: MasterKey,
    file: StoreFile,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn secret_aad(name: &str, version: u32) -> Vec<u8> {
    format!("warden-keystore v1 secret\0{name}\0{version}").into_bytes()
}

fn data_key_aad(name: &str, version: u32) -> Vec<u8> {
    format!("warden-keystore v1 data-key\0{name}\0{version}").into_bytes()
}

fn fingerprint(value: &[u8]) -> String {
    let digest = Sha256::digest(value);
    let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// A key name: 1 to 64 of `a-z 0-9 . _ -`, starting with a letter or digit.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        && name.as_bytes()[0].is_ascii_alphanumeric()
}

impl KeyStore {
    /// The master key `source` names, for the store of `state_dir`. When the source holds no
    /// key (an unset variable, a missing file) and the store exists, the error names the id
    /// of the key the store was made with: a new key could never open it, so the hint to
    /// make one (right for a first start) would mislead.
    pub fn master_for(
        state_dir: &Path,
        source: &crate::MasterKeySource,
    ) -> Result<MasterKey, KeyStoreError> {
        MasterKey::load(source).map_err(|error| {
            let KeyStoreError::MasterKey(why) = &error else {
                return error;
            };
            let absent = why.contains("is not set") || why.contains("No such file");
            match read_file(&state_dir.join(STORE_FILE)) {
                Ok(Some(file)) if absent => KeyStoreError::MasterKey(format!(
                    "{source}: no master key there; set it to the master key the provider keys in \
                     {} were stored with (id {}) — a new key cannot open them",
                    state_dir.join(STORE_FILE).display(),
                    file.master_id
                )),
                _ => error,
            }
        })
    }

    /// Opens the store of `state_dir` with `master` (an empty store when there is no file).
    /// A wrong master key, an unreadable or foreign file is an error naming the file.
    pub fn open(state_dir: &Path, master: MasterKey) -> Result<Self, KeyStoreError> {
        let path = state_dir.join(STORE_FILE);
        let file = match read_file(&path)? {
            Some(file) => {
                if file.format != FORMAT {
                    return Err(KeyStoreError::File {
                        path: path.clone(),
                        why: format!("format {} (this gatewayd reads {FORMAT})", file.format),
                    });
                }
                if open(master.bytes(), CHECK_AAD, &file.master_check).is_err() {
                    return Err(KeyStoreError::WrongMasterKey {
                        path,
                        expected: file.master_id,
                        given: master.id(),
                    });
                }
                file
            }
            None => StoreFile {
                format: FORMAT,
                master_id: master.id(),
                master_check: seal(master.bytes(), CHECK_AAD, CHECK_TEXT)?,
                keys: Vec::new(),
            },
        };
        Ok(Self { path, master, file })
    }

    /// Every key, by name.
    pub fn list(&self) -> Vec<KeyInfo> {
        let now = now_ms();
        let mut keys: Vec<KeyInfo> = self.file.keys.iter().filter_map(|k| info(k, now)).collect();
        keys.sort_by(|a, b| a.name.cmp(&b.name));
        keys
    }

    /// The current value of `name`.
    pub fn secret(&self, name: &str) -> Result<Secret, KeyStoreError> {
        let key = self.find(name)?;
        let version = key
            .versions
            .last()
            .ok_or_else(|| KeyStoreError::NoSuchKey(name.to_string()))?;
        self.unseal(name, version)
    }

    fn find(&self, name: &str) -> Result<&StoredKey, KeyStoreError> {
        self.file
            .keys
            .iter()
            .find(|k| k.name == name)
            .ok_or_else(|| KeyStoreError::NoSuchKey(name.to_string()))
    }

    fn unseal(&self, name: &str, version: &StoredVersion) -> Result<Secret, KeyStoreError> {
        let data_key = open(
            self.master.bytes(),
            &data_key_aad(name, version.version),
            &version.data_key,
        )?;
        let data_key: &[u8; 32] = data_key
            .as_slice()
            .try_into()
            .map_err(|_| KeyStoreError::Crypto("data key of the wrong size"))?;
        let value = open(
            data_key,
            &secret_aad(name, version.version),
            &version.secret,
        )?;
        let text = String::from_utf8(value.to_vec())
            .map_err(|_| KeyStoreError::Crypto("stored value is not text"))?;
        Ok(Secret::new(text))
    }

    fn seal_version(
        &self,
        name: &str,
        version: u32,
        value: &str,
    ) -> Result<StoredVersion, KeyStoreError> {
        let mut data_key = Zeroizing::new([0u8; 32]);
        aws_lc_rs::rand::fill(&mut data_key[..])
            .map_err(|_| KeyStoreError::Crypto("no randomness for a data key"))?;
        Ok(StoredVersion {
            version,
            fingerprint: fingerprint(value.as_bytes()),
            created_unix_ms: now_ms(),
            retire_unix_ms: None,
            data_key: seal(
                self.master.bytes(),
                &data_key_aad(name, version),
                &data_key[..],
            )?,
            secret: seal(&data_key, &secret_aad(name, version), value.as_bytes())?,
        })
    }

    /// Stores a new key. Refused when `name` exists (use [`KeyStore::rotate`]).
    pub fn add(
        &mut self,
        name: &str,
        provider: &str,
        value: &str,
    ) -> Result<KeyInfo, KeyStoreError> {
        check_input(name, provider, value)?;
        let _lock = self.lock()?;
        self.reload()?;
        if self.file.keys.iter().any(|k| k.name == name) {
            return Err(KeyStoreError::Exists(name.to_string()));
        }
        let version = self.seal_version(name, 1, value)?;
        let now = now_ms();
        self.file.keys.push(StoredKey {
            name: name.to_string(),
            provider: provider.to_string(),
            created_unix_ms: now,
            rotated_unix_ms: None,
            versions: vec![version],
        });
        self.save()?;
        self.info(name)
    }

    /// Replaces the value of `name`; the previous value stays usable for `grace`.
    pub fn rotate(
        &mut self,
        name: &str,
        value: &str,
        grace: Duration,
    ) -> Result<KeyInfo, KeyStoreError> {
        let _lock = self.lock()?;
        self.reload()?;
        let provider = self.find(name)?.provider.clone();
        check_input(name, &provider, value)?;
        let now = now_ms();
        let next = self
            .find(name)?
            .versions
            .last()
            .map_or(1, |v| v.version + 1);
        let version = self.seal_version(name, next, value)?;
        let grace_ms = u64::try_from(grace.as_millis()).unwrap_or(u64::MAX);
        let key = self
            .file
            .keys
            .iter_mut()
            .find(|k| k.name == name)
            .ok_or_else(|| KeyStoreError::NoSuchKey(name.to_string()))?;
        for old in &mut key.versions {
            old.retire_unix_ms
                .get_or_insert(now.saturating_add(grace_ms));
        }
        key.versions.push(version);
        key.rotated_unix_ms = Some(now);
        self.save()?;
        self.info(name)
    }

    /// Removes `name` and every version of it.
    pub fn delete(&mut self, name: &str) -> Result<(), KeyStoreError> {
        let _lock = self.lock()?;
        self.reload()?;
        let before = self.file.keys.len();
        self.file.keys.retain(|k| k.name != name);
        if self.file.keys.len() == before {
            return Err(KeyStoreError::NoSuchKey(name.to_string()));
        }
        self.save()
    }

    /// Wraps every data key with `new` instead of the current master key; the values
    /// themselves are not re-encrypted. Returns how many data keys were rewrapped.
    pub fn rewrap(&mut self, new: MasterKey) -> Result<usize, KeyStoreError> {
        let _lock = self.lock()?;
        self.reload()?;
        let mut count = 0;
        let mut keys = self.file.keys.clone();
        for key in &mut keys {
            for version in &mut key.versions {
                let aad = data_key_aad(&key.name, version.version);
                let data_key = open(self.master.bytes(), &aad, &version.data_key)?;
                version.data_key = seal(new.bytes(), &aad, &data_key)?;
                count += 1;
            }
        }
        self.file.keys = keys;
        self.file.master_id = new.id();
        self.file.master_check = seal(new.bytes(), CHECK_AAD, CHECK_TEXT)?;
        self.master = new;
        self.save()?;
        Ok(count)
    }

    fn info(&self, name: &str) -> Result<KeyInfo, KeyStoreError> {
        info(self.find(name)?, now_ms()).ok_or_else(|| KeyStoreError::NoSuchKey(name.to_string()))
    }

    fn lock(&self) -> Result<StateLock, KeyStoreError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        StateLock::acquire(dir).map_err(|e| KeyStoreError::File {
            path: dir.to_path_buf(),
            why: format!("state lock: {e}"),
        })
    }

    /// Re-reads the file under the lock: another command may have written it since `open`.
    fn reload(&mut self) -> Result<(), KeyStoreError> {
        if let Some(file) = read_file(&self.path)? {
            if open(self.master.bytes(), CHECK_AAD, &file.master_check).is_err() {
                return Err(KeyStoreError::WrongMasterKey {
                    path: self.path.clone(),
                    expected: file.master_id,
                    given: self.master.id(),
                });
            }
            self.file = file;
        }
        Ok(())
    }

    fn save(&mut self) -> Result<(), KeyStoreError> {
        let now = now_ms();
        for key in &mut self.file.keys {
            let newest = key.versions.last().map(|v| v.version);
            key.versions
                .retain(|v| Some(v.version) == newest || v.retire_unix_ms.is_none_or(|t| t > now));
        }
        let bytes = serde_json::to_vec_pretty(&self.file)
            .map_err(|e| KeyStoreError::Crypto(if e.is_io() { "io" } else { "encoding" }))?;
        write_atomic(&self.path, &bytes, true).map_err(|e| KeyStoreError::File {
            path: self.path.clone(),
            why: e.to_string(),
        })
    }
}

fn info(key: &StoredKey, now: u64) -> Option<KeyInfo> {
    let current = key.versions.last()?;
    Some(KeyInfo {
        name: key.name.clone(),
        provider: key.provider.clone(),
        fingerprint: current.fingerprint.clone(),
        version: current.version,
        created_unix_ms: key.created_unix_ms,
        rotated_unix_ms: key.rotated_unix_ms,
        previous_versions_live: key.versions[..key.versions.len() - 1]
            .iter()
            .filter(|v| v.retire_unix_ms.is_none_or(|t| t > now))
            .count(),
    })
}

fn check_input(name: &str, provider: &str, value: &str) -> Result<(), KeyStoreError> {
    if !valid_name(name) {
        return Err(KeyStoreError::Input(format!(
            "key name {name:?}: 1 to 64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit"
        )));
    }
    if !PROVIDERS.contains(&provider) {
        return Err(KeyStoreError::Input(format!(
            "provider {provider:?}: one of {}",
            PROVIDERS.join(", ")
        )));
    }
    if value.trim().is_empty() {
        return Err(KeyStoreError::Input("the key's value is empty".into()));
    }
    if value.len() > MAX_SECRET_BYTES {
        return Err(KeyStoreError::Input(format!(
            "the key's value is larger than {MAX_SECRET_BYTES} bytes"
        )));
    }
    Ok(())
}

fn read_file(path: &Path) -> Result<Option<StoreFile>, KeyStoreError> {
    use std::io::Read;
    let fail = |why: String| KeyStoreError::File {
        path: path.to_path_buf(),
        why,
    };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(fail(e.to_string())),
    };
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(e.to_string()))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(fail("larger than 16 MiB".into()));
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| fail(format!("not a provider key store: {e}")))
}
