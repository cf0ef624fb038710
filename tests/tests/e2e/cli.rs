//! "I manage Warden from the shell": `gatewayd check` and `gatewayd ca`.

use std::process::Command;

use crate::support::tools::gatewayd_binary;

fn gatewayd(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(gatewayd_binary()).args(args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn check_reports_file_line_col_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[proxy]\nlisten = \"127.0.0.1:3128\"\nlisen = \"x\"\n",
    )
    .unwrap();
    let (code, _, stderr) = gatewayd(&["check", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with(&format!("{}:3:1: ", path.display())),
        "{stderr}"
    );

    std::fs::write(&path, "[proxy]\nlisten = \"0.0.0.0:3128\"\n").unwrap();
    let (code, _, stderr) = gatewayd(&["check", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("open proxy"), "{stderr}");

    std::fs::write(&path, "[upstream]\nextra_roots = [\"missing.pem\"]\n").unwrap();
    let (code, _, stderr) = gatewayd(&["check", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("missing.pem"), "{stderr}");

    std::fs::write(&path, "[proxy]\nlisten = \"127.0.0.1:3128\"\n").unwrap();
    let (code, stdout, stderr) = gatewayd(&["check", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with("ok"));
    assert!(
        stderr.contains("warning: clickhouse.reader_user is not set"),
        "reports running as the writer are said loudly: {stderr}"
    );
    let (code, _, _) = gatewayd(&["check", "--bogus"]);
    assert_eq!(code, 2, "bad usage exits 2");
}

#[test]
fn ca_init_show_and_export() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("g.toml");
    std::fs::write(&config, "[state]\ndir = \"state\"\n").unwrap();
    let config = config.to_str().unwrap();
    let (code, stdout, stderr) = gatewayd(&["ca", "init", "--config", config]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("created Warden CA"));
    let (_, again, _) = gatewayd(&["ca", "init", "--config", config]);
    assert!(again.contains("already present"));
    let (code, show, _) = gatewayd(&["ca", "show", "--config", config]);
    assert_eq!(code, 0);
    assert!(show.contains("Warden Root CA"));
    assert!(show.contains("sha256 fingerprint"));
    let (code, pem, _) = gatewayd(&["ca", "export", "--config", config]);
    assert_eq!(code, 0);
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let der_path = dir.path().join("root.der");
    let (code, _, _) = gatewayd(&[
        "ca",
        "export",
        "--der",
        "--out",
        der_path.to_str().unwrap(),
        "--config",
        config,
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        std::fs::read(&der_path).unwrap()[0],
        0x30,
        "DER starts with a SEQUENCE"
    );
    assert!(!pem.contains("PRIVATE KEY") && !show.contains("PRIVATE KEY"));
}

#[test]
fn dlp_scan_prints_masked_findings_as_json_lines() {
    use std::io::Write;
    let mut child = Command::new(gatewayd_binary())
        .args(["dlp", "scan", "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"our key AKIAQ7RZ4XH2LMNB5TWE, card 4539 1488 0343 6467\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1), "findings exit 1");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let findings: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let detectors: Vec<&str> = findings
        .iter()
        .map(|f| f["detector"].as_str().unwrap())
        .collect();
    assert_eq!(detectors, ["aws_access_key_id", "credit_card"]);
    assert_eq!(findings[0]["start"], 8);
    assert!(!stdout.contains("AKIAQ7RZ4XH2LMNB5TWE") && !stdout.contains("4539 1488 0343 6467"));
    let dir = tempfile::tempdir().unwrap();
    let clean = dir.path().join("clean.txt");
    std::fs::write(&clean, "nothing to see").unwrap();
    let (code, out, _) = gatewayd(&["dlp", "scan", clean.to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (0, ""));
    let (code, _, _) = gatewayd(&["dlp", "scan", "--profile", "nope"]);
    assert_eq!(code, 2);
}
