//! The state directory's files are readable by the gateway's user only: spend per key, user
//! and team (`aigw-budgets.json`), approval statuses and their history, discovered hosts —
//! files older releases wrote 0644 are made 0600 when the daemon starts, and new writes stay
//! 0600. Only certificates (public by nature) may be readable by others.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::gateway::gatewayd;
use crate::support::{GatewayOptions, GatewayProcess, Origin};

/// Every regular file under `dir` with its mode, as `ls -l` would show it.
fn modes(dir: &Path) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap().filter_map(Result::ok) {
            let meta = entry.path().symlink_metadata().unwrap();
            if meta.is_dir() {
                stack.push(entry.path());
            } else if meta.is_file() {
                let name = entry
                    .path()
                    .strip_prefix(dir)
                    .unwrap()
                    .display()
                    .to_string();
                out.push((name, meta.permissions().mode() & 0o777));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn state_files_are_private_and_old_world_readable_ones_are_fixed_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let mut gw = GatewayProcess::start(&origin, GatewayOptions::default());
    let (code, _, err) = gatewayd(&gw, &["apps", "set-status", "chatgpt", "approved"]);
    assert_eq!(code, 0, "{err}");
    let state = gw.dir.path().join("state");

    // What an older release left behind: the same files, readable by everyone.
    std::fs::write(state.join("aigw-budgets.json"), "[]").unwrap();
    std::fs::write(state.join("discovered-apps.json"), "[]").unwrap();
    for name in [
        "aigw-budgets.json",
        "discovered-apps.json",
        "app-statuses.json",
        "app-status-changes.jsonl",
    ] {
        let path = state.join(name);
        assert!(path.exists(), "{name} was written");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    gw.crash_and_restart();
    let state = gw.dir.path().join("state");
    assert!(gw.log().contains("now 0600"), "{}", gw.log());

    // A change after the restart writes them again, still private.
    let (code, _, err) = gatewayd(&gw, &["apps", "set-status", "chatgpt", "in_review"]);
    assert_eq!(code, 0, "{err}");

    let listing = modes(&state);
    let readable: Vec<_> = listing
        .iter()
        .filter(|(name, mode)| mode & 0o077 != 0 && !name.ends_with(".crt.pem"))
        .collect();
    assert!(
        readable.is_empty(),
        "readable by others: {readable:?}\nall: {listing:#?}"
    );
    for name in [
        "aigw-budgets.json",
        "discovered-apps.json",
        "app-statuses.json",
        "app-status-changes.jsonl",
    ] {
        assert!(
            listing.iter().any(|(n, m)| n == name && *m == 0o600),
            "{name}: {listing:#?}"
        );
    }
}
