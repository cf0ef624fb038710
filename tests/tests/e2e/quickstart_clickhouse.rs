//! "Anything on the machine can reach the quickstart's ClickHouse on loopback — must it trust
//! it?": the ClickHouse `scripts/run-gatewayd.sh` starts (its `quickstart_clickhouse` in
//! `scripts/lib.sh`, run here on free ports) has no passwordless user; the generated
//! passwords are 0600; the writer writes, and the reader reads `warden` and nothing else.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::curl;
use crate::support::tools::{free_port, require};

/// Stops the server the script started (by the pid it wrote).
struct Started(PathBuf);

impl Drop for Started {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.0.join("clickhouse/server.pid")) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

fn query(http: u16, auth: Option<(&str, &Path)>, sql: &str) -> (u16, String) {
    let url = format!("http://127.0.0.1:{http}/");
    let mut args = vec!["--data-binary".to_string(), sql.to_string(), url];
    if let Some((user, file)) = auth {
        let password = std::fs::read_to_string(file).unwrap();
        args.splice(
            0..0,
            ["-u".to_string(), format!("{user}:{}", password.trim())],
        );
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = curl(&args);
    (result.status, result.body_text())
}

#[test]
fn the_quickstart_clickhouse_has_no_passwordless_user_and_a_read_only_reader() {
    require(
        "clickhouse-server",
        "apt-get install -y clickhouse-server clickhouse-client",
    );
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("warden-state");
    std::fs::create_dir_all(&state).unwrap();
    let (http, tcp) = (free_port(), free_port());
    let lib = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/lib.sh");
    let _started = Started(state.clone());
    let status = Command::new("bash")
        .arg("-c")
        .arg(format!(
            ". '{}' && quickstart_clickhouse '{}' {http} {tcp}",
            lib.display(),
            state.display()
        ))
        .status()
        .unwrap();
    assert!(status.success(), "the quickstart ClickHouse did not start");

    let writer = state.join("clickhouse-password");
    let reader = state.join("clickhouse-reader-password");
    for secret in [&writer, &reader, &state.join("clickhouse/users.xml")] {
        let mode = std::fs::metadata(secret).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", secret.display());
    }
    assert!(std::fs::read_to_string(&writer).unwrap().trim().len() >= 24);

    // No credentials, or a wrong password: refused, whoever connects over loopback.
    let (status, text) = query(http, None, "SELECT 1");
    assert_ne!(status, 200, "a passwordless user answered: {text}");
    let wrong = dir.path().join("wrong");
    std::fs::write(&wrong, "guess").unwrap();
    assert_ne!(query(http, Some(("warden", &wrong)), "SELECT 1").0, 200);

    let as_writer = |sql: &str| query(http, Some(("warden", &writer)), sql);
    for sql in [
        "CREATE DATABASE warden",
        "CREATE TABLE warden.t (a UInt8) ENGINE = Memory",
        "CREATE DATABASE hr",
        "CREATE TABLE hr.salaries (amount UInt32) ENGINE = Memory",
        "INSERT INTO warden.t VALUES (1)",
    ] {
        let (status, text) = as_writer(sql);
        assert_eq!(status, 200, "the writer: {sql}: {text}");
    }
    let as_reader = |sql: &str| query(http, Some(("warden_reader", &reader)), sql);
    assert_eq!(as_reader("SELECT count() FROM warden.t").1.trim(), "1");
    for sql in [
        "SELECT * FROM hr.salaries",
        "SELECT * FROM merge('hr', '.*')",
        "INSERT INTO warden.t VALUES (2)",
        "DROP TABLE warden.t",
    ] {
        let (status, text) = as_reader(sql);
        assert_ne!(status, 200, "the reader ran {sql}: {text}");
    }
    assert_eq!(as_writer("SELECT count() FROM warden.t").1.trim(), "1");

    // Run again (as the script does on the next start): the same passwords are kept.
    let before = std::fs::read_to_string(&writer).unwrap();
    let pid = std::fs::read_to_string(state.join("clickhouse/server.pid"))
        .unwrap()
        .trim()
        .to_string();
    let _ = Command::new("kill").arg(&pid).status();
    // Gone means the process has exited (it holds the port and the data directory until then),
    // not only that it stopped answering.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while query(http, None, "SELECT 1").0 != 0
        || std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|stat| !stat.contains(") Z "))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not stop"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let status = Command::new("bash")
        .arg("-c")
        .arg(format!(
            ". '{}' && quickstart_clickhouse '{}' {http} {tcp}",
            lib.display(),
            state.display()
        ))
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(std::fs::read_to_string(&writer).unwrap(), before);
    assert_eq!(as_writer("SELECT count() FROM warden.t").0, 200);
}

/// Ctrl-C in the terminal running `scripts/run-gatewayd.sh` sends SIGINT to its whole process
/// group: gatewayd stops, and the README says the ClickHouse the script started keeps running.
#[test]
fn ctrl_c_on_the_quickstart_stops_gatewayd_but_not_its_clickhouse() {
    require(
        "clickhouse-server",
        "apt-get install -y clickhouse-server clickhouse-client",
    );
    require("setsid", "apt-get install -y util-linux");
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("warden-state");
    std::fs::create_dir_all(&state).unwrap();
    let (http, tcp) = (free_port(), free_port());
    let lib = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/lib.sh");
    let _started = Started(state.clone());
    // The script in its own terminal's foreground group: it starts ClickHouse, then `exec`s
    // the long-running process (here `sleep`, standing in for gatewayd).
    let mut script = Command::new("setsid")
        .arg("bash")
        .arg("-c")
        .arg(format!(
            ". '{}' && quickstart_clickhouse '{}' {http} {tcp} && exec sleep 120",
            lib.display(),
            state.display()
        ))
        .spawn()
        .unwrap();
    let group = script.id();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while curl(&["-m", "1", &format!("http://127.0.0.1:{http}/ping")]).status != 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "ClickHouse did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // Ctrl-C: SIGINT to the foreground process group.
    let status = Command::new("kill")
        .args(["-INT", "--", &format!("-{group}")])
        .status()
        .unwrap();
    assert!(status.success());
    let _ = script.wait();
    std::thread::sleep(std::time::Duration::from_secs(2));
    let ping = curl(&["-m", "3", &format!("http://127.0.0.1:{http}/ping")]);
    assert_eq!(
        ping.status, 200,
        "ClickHouse stopped with the script's Ctrl-C: {}",
        ping.stderr
    );
}
