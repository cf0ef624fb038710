//! The agent's state directory: the device key and certificate (0600), the pinned Warden
//! root, what enrollment returned, and the status file `agent run` keeps current.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub const DEVICE_KEY: &str = "device.key.pem";
pub const DEVICE_CERT: &str = "device.crt.pem";
pub const ROOT_CERT: &str = "warden-root.pem";
pub const ENROLLMENT: &str = "enrollment.json";
pub const STATUS: &str = "status.json";
pub const CONFIG: &str = "agent.toml";

/// What enrollment recorded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Enrollment {
    /// `https://host:port` of the gateway's tunnel port.
    pub gateway: String,
    pub device_id: String,
    pub user: String,
    #[serde(default)]
    pub groups: Vec<String>,
    pub enrolled_unix: u64,
}

/// The default state directory: `/var/lib/warden-agent` for root, else
/// `$XDG_STATE_HOME/warden-agent` or `~/.local/state/warden-agent`.
pub fn default_dir() -> PathBuf {
    if std::env::var("USER").as_deref() == Ok("root") {
        return PathBuf::from("/var/lib/warden-agent");
    }
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME") {
        return PathBuf::from(dir).join("warden-agent");
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".local/state/warden-agent"),
        None => PathBuf::from("warden-agent-state"),
    }
}

/// Creates the directory 0700 when missing.
pub fn ensure_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Replaces `path` atomically; `private` files are 0600 from their first byte.
pub fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> io::Result<()> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    let tmp = path.with_file_name(name);
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, if private { 0o600 } else { 0o644 });
    let mut file = options.open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&tmp, path)
}

pub fn read_enrollment(dir: &Path) -> anyhow::Result<Enrollment> {
    let path = dir.join(ENROLLMENT);
    let text = fs::read_to_string(&path).map_err(|e| {
        anyhow::anyhow!(
            "{}: {e}; enroll this device first with `agent enroll`",
            path.display()
        )
    })?;
    serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
