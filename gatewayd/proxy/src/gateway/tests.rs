//! Reload rebuilds only what changed: the policy part always, the upstream part (pooled
//! client, resolver, root store) only when its configuration did.

use std::path::Path;
use std::sync::Arc;

use super::Snapshot;
use config::load_config;

fn policy(version: &str) -> String {
    format!("version = \"{version}\"\n\n[[rule]]\nid = \"r\"\nwhen = {{ host = \"x.example\" }}\naction = \"block\"\n")
}

fn write_config(dir: &Path, upstream: &str) -> std::path::PathBuf {
    let path = dir.join("gatewayd.toml");
    let text = format!(
        "[state]\ndir = \"{}\"\n\n[policies]\nfiles = [\"policy.toml\"]\n\n[upstream]\n{upstream}\n",
        dir.join("state").display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn load(path: &Path) -> config::Config {
    load_config(Some(path)).unwrap().0
}

#[tokio::test]
async fn a_policy_edit_keeps_the_upstream_pool_and_swaps_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("policy.toml"), policy("one")).unwrap();
    let path = write_config(dir.path(), "pool_max_idle_per_host = 8");
    let first = Snapshot::build(load(&path), 1).unwrap();
    assert_eq!(first.policy.version(), "one");

    std::fs::write(dir.path().join("policy.toml"), policy("two")).unwrap();
    let (second, diff) = first.rebuild(load(&path), 2).unwrap();
    assert!(!diff.upstream, "{diff:?}");
    assert_eq!(diff.rebuilt(), "policy");
    assert_eq!(second.policy.version(), "two");
    assert!(!Arc::ptr_eq(&first.policy, &second.policy));
    assert!(!Arc::ptr_eq(&first.dlp, &second.dlp));
    assert!(
        Arc::ptr_eq(&first.upstream, &second.upstream),
        "a policy-only reload must keep the pooled upstream connections"
    );
}

#[tokio::test]
async fn a_changed_upstream_section_rebuilds_the_upstream_part() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("policy.toml"), policy("one")).unwrap();
    let path = write_config(dir.path(), "pool_max_idle_per_host = 8");
    let first = Snapshot::build(load(&path), 1).unwrap();

    let path = write_config(dir.path(), "pool_max_idle_per_host = 2");
    let (second, diff) = first.rebuild(load(&path), 2).unwrap();
    assert!(diff.upstream);
    assert_eq!(diff.rebuilt(), "policy, upstream");
    assert!(!Arc::ptr_eq(&first.upstream, &second.upstream));
    assert_eq!(second.config.upstream.pool_max_idle_per_host, 2);

    // A changed [timeouts] section is the upstream's too (connect and response-head limits).
    std::fs::write(
        &path,
        std::fs::read_to_string(&path).unwrap() + "\n[timeouts]\nconnect = \"3s\"\n",
    )
    .unwrap();
    let (third, diff) = second.rebuild(load(&path), 3).unwrap();
    assert!(diff.upstream);
    assert!(!Arc::ptr_eq(&second.upstream, &third.upstream));
}

#[tokio::test]
async fn a_refused_rebuild_leaves_nothing_half_built() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("policy.toml"), policy("one")).unwrap();
    let path = write_config(dir.path(), "pool_max_idle_per_host = 8");
    let first = Snapshot::build(load(&path), 1).unwrap();
    std::fs::write(dir.path().join("policy.toml"), "version = ").unwrap();
    let error = first.rebuild(load(&path), 2).err().unwrap();
    assert!(error.to_string().contains("policy.toml"), "{error}");
}
