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

/// Replaces `path` atomically; `private` files are 0600 from their first byte. The temporary
/// file has a random name and is created exclusively (`O_EXCL` refuses anything already there,
/// a planted symlink included), and the directory is synced after the rename.
pub fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(format!(".{:016x}.tmp", rand::random::<u64>()));
    let tmp = dir.join(name);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, if private { 0o600 } else { 0o644 });
    let mut file = options.open(&tmp)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| fs::rename(&tmp, path));
    if let Err(error) = written {
        let _ = fs::remove_file(&tmp);
        return Err(error);
    }
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_planted_symlink_at_the_old_temporary_name_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "untouched").unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join("status.json.tmp")).unwrap();
        let target = dir.path().join("status.json");
        write_atomic(&target, b"{}", true).unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "untouched");
        assert_eq!(fs::read_to_string(&target).unwrap(), "{}");
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let leftovers = fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .count();
        assert_eq!(
            leftovers, 1,
            "only the planted link, no temporary file left"
        );
    }
}
