//! `<state>/status.json`: what the running agent last knew (gateway, connection state, device,
//! posture), rewritten on every change so `agent status` can show it without talking to the
//! running process.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use crate::posture::Posture;
use crate::state::{now_unix, write_atomic, STATUS};

/// The status file's content.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Status {
    pub pid: u32,
    pub listen: String,
    pub gateway: String,
    pub device_id: String,
    pub user: String,
    /// `connecting`, `connected`, `disconnected`, or `refused` (the gateway revoked this
    /// device or does not know it: the agent stopped trying).
    pub connection: String,
    pub since_unix: u64,
    pub last_error: Option<String>,
    pub posture: Posture,
    pub posture_sent_unix: Option<u64>,
    pub fail_open: bool,
}

/// The status of this process, kept in memory and mirrored to disk.
pub struct StatusFile {
    path: PathBuf,
    status: Mutex<Status>,
}

impl StatusFile {
    pub fn new(state_dir: &Path, initial: Status) -> Self {
        let this = Self {
            path: state_dir.join(STATUS),
            status: Mutex::new(initial),
        };
        this.update(|_| {});
        this
    }

    fn update(&self, change: impl FnOnce(&mut Status)) {
        let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        change(&mut status);
        if let Ok(text) = serde_json::to_vec_pretty(&*status) {
            if let Err(error) = write_atomic(&self.path, &text, false) {
                tracing::warn!(%error, "cannot write the status file");
            }
        }
    }

    fn set_connection(&self, state: &str, error: Option<&str>) {
        self.update(|s| {
            if s.connection != state {
                s.connection = state.into();
                s.since_unix = now_unix();
            }
            if let Some(error) = error {
                s.last_error = Some(error.into());
            }
        });
    }

    pub fn connecting(&self) {
        let connected = self
            .status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .connection
            == "connected";
        if !connected {
            self.set_connection("connecting", None);
        }
    }

    pub fn connected(&self) {
        self.set_connection("connected", None);
    }

    pub fn disconnected(&self, reason: &str) {
        self.set_connection("disconnected", Some(reason));
    }

    pub fn refused(&self, reason: &str) {
        self.set_connection("refused", Some(reason));
    }

    pub fn posture_sent(&self, posture: &Posture) {
        self.update(|s| {
            s.posture = posture.clone();
            s.posture_sent_unix = Some(now_unix());
        });
    }

    pub fn posture(&self) -> Posture {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .posture
            .clone()
    }
}

/// Reads the status file of `state_dir`, and whether the process that wrote it still runs.
pub fn read(state_dir: &Path) -> anyhow::Result<(Status, bool)> {
    let path = state_dir.join(STATUS);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("{}: {e} (is `agent run` running?)", path.display()))?;
    let status: Status =
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let running = Path::new(&format!("/proc/{}", status.pid)).exists();
    Ok((status, running))
}
