//! The state directory's files that hold who did what (spend per key, user and team; approval
//! statuses and their history; discovered hosts and the decisions about them) are private
//! (0600), like the keys and tokens. Files written before they were made private (0644 from
//! older releases) are tightened when the daemon starts.
//!
//! It only ever removes permissions, only on the files named here, and never fails the start:
//! a file it cannot change is reported to the caller.

use std::path::{Path, PathBuf};

/// State files that are private although they hold no secret.
pub const PRIVATE_FILES: &[&str] = &[
    "aigw-budgets.json",
    "app-statuses.json",
    "app-status-changes.jsonl",
    "discovered-apps.json",
    "discovered-decisions.json",
    "listen.json",
];

/// Makes each of [`PRIVATE_FILES`] in `state_dir` that group or others may read 0600; returns
/// the files changed and those that could not be.
pub fn tighten(state_dir: &Path) -> (Vec<PathBuf>, Vec<(PathBuf, std::io::Error)>) {
    let (mut changed, mut failed) = (Vec::new(), Vec::new());
    #[cfg(unix)]
    for name in PRIVATE_FILES {
        use std::os::unix::fs::PermissionsExt;
        let path = state_dir.join(name);
        // symlink_metadata: a link planted in the state dir is not followed.
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.is_file() || meta.permissions().mode() & 0o077 == 0 {
            continue;
        }
        match std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)) {
            Ok(()) => changed.push(path),
            Err(error) => failed.push((path, error)),
        }
    }
    #[cfg(not(unix))]
    let _ = state_dir;
    (changed, failed)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn world_readable_state_files_become_private_and_others_are_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let budgets = dir.path().join("aigw-budgets.json");
        let other = dir.path().join("notes.txt");
        for path in [&budgets, &other] {
            std::fs::write(path, "{}").unwrap();
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let (changed, failed) = tighten(dir.path());
        assert_eq!(changed, vec![budgets.clone()]);
        assert!(failed.is_empty());
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&budgets), 0o600);
        assert_eq!(mode(&other), 0o644);
    }
}
