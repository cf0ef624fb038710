//! The devices registry, `<state>/devices.json`: every enrolled device (id, user, groups,
//! certificate serial, enrolment and revocation times). Written by the daemon on enrollment
//! and by `gatewayd devices revoke`; read by the tunnel port on every new connection and
//! stream, so a revocation applies at once.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use state_files::write_atomic;

const REGISTRY_FILE: &str = "devices.json";

/// One enrolled device.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeviceRecord {
    pub id: String,
    pub user: String,
    #[serde(default)]
    pub groups: Vec<String>,
    /// Lowercase hex serial of the device certificate.
    pub serial: String,
    #[serde(default)]
    pub hostname: String,
    pub enrolled_unix: u64,
    pub cert_not_after_unix: u64,
    #[serde(default)]
    pub revoked_unix: Option<u64>,
}

/// All enrolled devices.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DeviceRegistry {
    pub devices: Vec<DeviceRecord>,
}

pub fn registry_path(state_dir: &Path) -> PathBuf {
    state_dir.join(REGISTRY_FILE)
}

pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl DeviceRegistry {
    /// Reads the registry (empty when the file does not exist).
    pub fn load(state_dir: &Path) -> Result<Self, String> {
        let path = registry_path(state_dir);
        match fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map_err(|e| format!("{}:{}:{}: {e}", path.display(), e.line(), e.column())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    pub fn save(&self, state_dir: &Path) -> Result<(), String> {
        let text = serde_json::to_vec_pretty(self).map_err(|e| e.to_string())?;
        let path = registry_path(state_dir);
        write_atomic(&path, &text, true).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn get(&self, id: &str) -> Option<&DeviceRecord> {
        self.devices.iter().find(|d| d.id == id)
    }

    /// The device a verified certificate belongs to, if it is enrolled with that very
    /// certificate and not revoked.
    pub fn active(&self, id: &str, serial: &str) -> Option<&DeviceRecord> {
        self.get(id)
            .filter(|d| d.serial == serial && d.revoked_unix.is_none())
    }
}

/// The registry as the daemon sees it: re-read whenever the file changes (a `stat` per
/// lookup), and kept when a changed file cannot be read.
pub struct DeviceBook {
    state_dir: PathBuf,
    cached: Mutex<(Option<FileStamp>, Arc<DeviceRegistry>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp(SystemTime, u64, u64);

fn stamp(path: &Path) -> Option<FileStamp> {
    let meta = fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some(FileStamp(meta.modified().ok()?, meta.len(), inode))
}

impl DeviceBook {
    pub fn open(state_dir: &Path) -> Self {
        let book = Self {
            state_dir: state_dir.to_path_buf(),
            cached: Mutex::new((None, Arc::default())),
        };
        book.current();
        book
    }

    /// The registry now.
    pub fn current(&self) -> Arc<DeviceRegistry> {
        let now = stamp(&registry_path(&self.state_dir));
        let mut cached = self.cached.lock().unwrap_or_else(PoisonError::into_inner);
        if cached.0 != now || now.is_none() && !cached.1.devices.is_empty() {
            match DeviceRegistry::load(&self.state_dir) {
                Ok(registry) => *cached = (now, Arc::new(registry)),
                Err(error) => {
                    tracing::error!(%error, "devices registry unreadable; keeping the loaded one")
                }
            }
        }
        cached.1.clone()
    }
}
