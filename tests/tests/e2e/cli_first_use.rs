//! What a new operator tripped over at the shell (issue 24, bugs 2, 7 and 12): reading
//! commands run from the wrong directory say where they looked instead of minting a CA or
//! showing an empty registry; output piped into `head` ends quietly; `-` is stdin; times and
//! actors read as people write them.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::tools::gatewayd_binary;

fn gatewayd_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(gatewayd_binary())
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn reading_commands_in_the_wrong_directory_name_it_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["ca", "show"][..],
        &["ca", "export"],
        &["devices", "list"],
        &["devices", "revoke", "dev-1"],
        &["apps", "history"],
        &["admin", "token", "list"],
    ] {
        let (code, out, err) = gatewayd_in(dir.path(), args);
        assert_eq!(code, 1, "{args:?}: {out}{err}");
        let expected = format!("no state at {}", dir.path().join("warden-state").display());
        assert!(err.contains(&expected), "{args:?}: {err}");
        assert!(err.contains("--config"), "{args:?} says how: {err}");
        assert!(
            !dir.path().join("warden-state").exists(),
            "{args:?} created a state directory"
        );
    }
    // A state directory without a CA: `ca show` says so and still mints nothing.
    std::fs::create_dir(dir.path().join("warden-state")).unwrap();
    let (code, _, err) = gatewayd_in(dir.path(), &["ca", "show"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no Warden CA in"), "{err}");
    assert!(!dir.path().join("warden-state/ca").exists());
    // `ca init` is the command that creates, and says where, in full.
    let (code, out, err) = gatewayd_in(dir.path(), &["ca", "init"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&dir.path().join("warden-state/ca").display().to_string()),
        "{out}"
    );
}

#[test]
fn output_piped_into_head_ends_quietly_and_dash_is_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.txt");
    let line = "card 4556 7375 8689 9855 and key AKIAIOSFODNN7EXAMPLF\n";
    std::fs::write(&big, line.repeat(20_000)).unwrap();
    // `gatewayd dlp scan --json big.txt | head -1`: the reader leaves after one line.
    let mut child = Command::new(gatewayd_binary())
        .args(["dlp", "scan", "--json", big.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        output.status.code() == Some(0),
        "a closed pipe is not a failure: {:?} {err}",
        output.status
    );

    let mut child = Command::new(gatewayd_binary())
        .args(["dlp", "scan", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"my ssn is 078-05-1121\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(out.contains("us_ssn"), "`-` reads stdin: {out}");
    assert!(!out.contains("078-05-1121"), "findings are masked: {out}");
}

#[test]
fn app_history_shows_dates_and_who_changed_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("warden-state")).unwrap();
    let set = Command::new(gatewayd_binary())
        .args(["apps", "set-status", "chatgpt", "unapproved"])
        .current_dir(dir.path())
        .env_remove("USER")
        .env_remove("LOGNAME")
        .env_remove("SUDO_USER")
        .output()
        .unwrap();
    assert!(set.status.success(), "{set:?}");
    let (code, out, err) = gatewayd_in(dir.path(), &["apps", "history"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("chatgpt") && out.contains("UTC"), "{out}");
    assert!(!out.contains("cli:unknown"), "an actor without USER: {out}");
    assert!(out.contains("cli:uid "), "{out}");
    let (_, json, _) = gatewayd_in(dir.path(), &["apps", "history", "--json"]);
    assert!(
        json.contains("\"at_unix_ms\""),
        "--json keeps machine times: {json}"
    );
}
