//! "I deploy Warden from the files in deploy/": the gatewayd configs shipped for compose and
//! Kubernetes pass `gatewayd check` as written, and compose runs a current ClickHouse.
//!
//! Docker and a cluster are not needed: the files are read as text (the Kubernetes ConfigMap's
//! `gatewayd.toml: |` block scalar is cut out by indentation, not by a YAML parser).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::tools::gatewayd_binary;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(relative: &str) -> String {
    let path = repo_root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `gatewayd check --config path` and fails the test with its output unless it exits 0.
fn assert_check_passes(path: &Path) {
    let output = Command::new(gatewayd_binary())
        .args(["check", "--config"])
        .arg(path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "gatewayd check {} exited {:?}\nstdout: {stdout}\nstderr: {stderr}",
        path.display(),
        output.status.code()
    );
    assert!(stdout.starts_with("ok"), "{stdout}");
}

/// The literal block scalar under `key: |` in a YAML text, with its indentation removed.
fn block_scalar(yaml: &str, key: &str) -> Option<String> {
    let header = format!("{key}: |");
    let mut lines = yaml.lines();
    let key_indent = lines
        .by_ref()
        .find_map(|line| (line.trim() == header).then(|| line.len() - line.trim_start().len()))?;
    let mut block_indent = None;
    let mut out = String::new();
    for line in lines {
        let indent = line.len() - line.trim_start().len();
        if line.trim().is_empty() {
            out.push('\n');
            continue;
        }
        let block = *block_indent.get_or_insert(indent);
        if indent <= key_indent || indent < block {
            break;
        }
        out.push_str(&line[block..]);
        out.push('\n');
    }
    block_indent.map(|_| out.trim_end().to_owned() + "\n")
}

/// The major versions of every `image: clickhouse/clickhouse-server:TAG` line.
fn clickhouse_majors(compose: &str) -> Vec<u32> {
    compose
        .lines()
        .filter_map(|line| {
            let image = line.trim().strip_prefix("image:")?.trim().trim_matches('"');
            let tag = image.strip_prefix("clickhouse/clickhouse-server:")?;
            let major = tag.split(['.', '-']).next()?;
            Some(
                major
                    .parse()
                    .unwrap_or_else(|_| panic!("not a version tag: {image}")),
            )
        })
        .collect()
}

#[test]
fn the_compose_config_passes_check() {
    assert_check_passes(&repo_root().join("deploy/compose/gatewayd.toml"));
}

#[test]
fn the_kubernetes_configmap_config_passes_check() {
    let configmap = read("deploy/kubernetes/configmap.yaml");
    let toml = block_scalar(&configmap, "gatewayd.toml")
        .expect("configmap.yaml has a `gatewayd.toml: |` block");
    assert!(toml.contains("[proxy]"), "{toml}");
    let dir = std::env::temp_dir().join(format!("warden-deploy-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("gatewayd.toml");
    std::fs::write(&path, &toml).unwrap();
    assert_check_passes(&path);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn compose_runs_a_current_clickhouse() {
    let majors = clickhouse_majors(&read("deploy/compose.yaml"));
    assert!(
        !majors.is_empty(),
        "compose.yaml names no clickhouse/clickhouse-server image"
    );
    for major in majors {
        assert!(major >= 24, "ClickHouse {major} is not a current release");
    }
}

#[test]
fn block_scalars_and_image_tags_parse() {
    let yaml = "data:\n  a.toml: |\n    [x]\n\n    k = 1\n  other: 2\n";
    assert_eq!(block_scalar(yaml, "a.toml").unwrap(), "[x]\n\nk = 1\n");
    assert_eq!(block_scalar(yaml, "b.toml"), None);
    let compose =
        "# image: clickhouse/clickhouse-server:1.0\n  image: clickhouse/clickhouse-server:25.8\n";
    assert_eq!(clickhouse_majors(compose), [25]);
}
