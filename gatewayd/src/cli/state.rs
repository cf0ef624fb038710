//! What the commands that read the state directory share: finding it without creating it
//! (a read run from the wrong directory must say so, never mint a new CA or show an empty
//! registry), who is acting, and times as people read them.

use std::path::{Path, PathBuf};

use config::Config;

/// The state directory of `config` when it exists; otherwise an error naming the absolute
/// path looked at and how to point the command at the right one. Never creates anything.
pub fn existing_state(config: &Config) -> anyhow::Result<&Path> {
    let dir = config.state.dir.as_path();
    if dir.is_dir() {
        return Ok(dir);
    }
    anyhow::bail!(
        "no state at {} (pass --config with the file gatewayd runs with, or run from the \
         directory that holds its state; `gatewayd run` creates it)",
        absolute(dir).display()
    )
}

/// `path` made absolute against the working directory (for messages; nothing is resolved).
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Who runs this command, for audit records: the login name, or the numeric user id when the
/// environment names none (a service, `sudo -i`, a container).
pub fn actor() -> String {
    for var in ["SUDO_USER", "USER", "LOGNAME"] {
        if let Ok(name) = std::env::var(var) {
            if !name.trim().is_empty() {
                return format!("cli:{}", name.trim());
            }
        }
    }
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().next().map(str::to_string))
        });
    match uid {
        Some(uid) => format!("cli:uid {uid}"),
        None => "cli:unknown".to_string(),
    }
}

/// A unix time in seconds as `2026-12-07 04:31:05 UTC`.
pub fn unix_text(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .map(|t| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        })
        .unwrap_or_else(|| secs.to_string())
}

/// A unix time in milliseconds, as [`unix_text`].
pub fn unix_ms_text(ms: u64) -> String {
    unix_text(ms / 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_dates() {
        assert_eq!(unix_text(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(unix_ms_text(1_796_617_865_000), "2026-12-07 04:31:05 UTC");
        assert_eq!(unix_text(u64::MAX), u64::MAX.to_string());
    }

    #[test]
    fn a_missing_state_dir_is_named_and_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::default();
        config.state.dir = dir.path().join("nowhere");
        let error = existing_state(&config).unwrap_err().to_string();
        assert!(
            error.contains("no state at") && error.contains("nowhere"),
            "{error}"
        );
        assert!(!config.state.dir.exists());
    }
}
