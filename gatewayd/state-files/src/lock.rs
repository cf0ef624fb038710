//! A lock file around read-modify-write of the state files both the daemon and the CLI
//! change: the devices files (enrollment; tokens, revocation) and the approval-status book
//! (API and dashboard; `gatewayd apps set-status`). A lock left by a crashed process is
//! taken over after a few seconds rather than blocking enrollment forever.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

const STALE_AFTER: Duration = Duration::from_secs(10);
const WAIT_AT_MOST: Duration = Duration::from_secs(5);

/// Held while a shared state file is read, changed and written; released on drop.
pub struct StateLock {
    path: PathBuf,
}

impl StateLock {
    pub fn acquire(state_dir: &Path) -> io::Result<Self> {
        let path = state_dir.join("devices.lock");
        let deadline = Instant::now() + WAIT_AT_MOST;
        loop {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(_) => return Ok(Self { path }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    let stale = fs::metadata(&path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| SystemTime::now().duration_since(t).ok())
                        .is_some_and(|age| age > STALE_AFTER);
                    if stale {
                        let _ = fs::remove_file(&path);
                        continue;
                    }
                    if Instant::now() > deadline {
                        return Err(io::Error::new(
                            io::ErrorKind::WouldBlock,
                            format!("{} is held by another process", path.display()),
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl Drop for StateLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}
