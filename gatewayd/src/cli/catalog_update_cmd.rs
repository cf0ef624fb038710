//! `gatewayd catalog update FILE`, `catalog sign` and `catalog keygen`: installing a signed
//! catalog bundle without a new binary, and making one on the vendor side.
//!
//! `update` verifies the bundle with `policies.catalog_update_keys`, builds the whole catalog
//! from it (with the operator's `catalog_files` and policy on top) before anything is written,
//! refuses a bundle older than the installed one, then installs it atomically in `state.dir`,
//! where the running daemon picks it up within a second. A refused bundle changes nothing.

use std::path::{Path, PathBuf};

use config::Config;
use proxy::catalog_bundle::{self, UpdateKeys};
use proxy::policy_files::{build_catalog, installed_bundle};

/// Installs a signed bundle; returns the exit code (0 installed, 1 refused).
pub fn update(config: &Config, file: &Path) -> anyhow::Result<u8> {
    let refuse = |why: String| {
        eprintln!("gatewayd: catalog bundle {} refused: {why}", file.display());
        eprintln!("gatewayd: the catalog in use is unchanged");
        Ok(1)
    };
    let keys = match UpdateKeys::load(&config.policies.catalog_update_keys) {
        Ok(k) => k,
        Err(e) => return refuse(e),
    };
    let bytes = match catalog_bundle::read_bounded(file) {
        Ok(b) => b,
        Err(e) => return refuse(e),
    };
    let bundle = match keys.verify(&bytes) {
        Ok(b) => b,
        Err(e) => return refuse(e.to_string()),
    };
    // A newer bundle may replace one that no longer verifies (e.g. after a key rotation);
    // only a verified installed bundle can block an older offer.
    let installed = installed_bundle(config).ok().flatten();
    if let Err(e) = catalog_bundle::check_not_older(&bundle, installed.as_ref()) {
        return refuse(e.to_string());
    }
    let catalog = match build_catalog(&config.policies, Some(&bundle)) {
        Ok(c) => c,
        Err(e) => return refuse(format!("its catalog does not validate:\n{e}")),
    };
    let path = match catalog_bundle::install(&config.state.dir, &bytes) {
        Ok(p) => p,
        Err(e) => return refuse(format!("cannot write it: {e}")),
    };
    out!(
        "installed {} (issued at {}): {} apps, {} hosts; a running gateway reloads it within a second",
        path.display(),
        bundle.issued_at,
        catalog.apps().len(),
        catalog.host_count()
    );
    Ok(0)
}

/// Signs catalog files (or every `*.toml` in a folder) into a bundle.
pub fn sign(
    key: &Path,
    out: &Path,
    inputs: &[PathBuf],
    issued_at: Option<i64>,
) -> anyhow::Result<u8> {
    let key_pem =
        std::fs::read_to_string(key).map_err(|e| anyhow::anyhow!("{}: {e}", key.display()))?;
    let mut files = Vec::new();
    for input in inputs {
        let paths = if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            found.sort();
            found
        } else {
            vec![input.clone()]
        };
        for path in paths {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| anyhow::anyhow!("{}: file name is not UTF-8", path.display()))?
                .to_owned();
            let text = std::fs::read_to_string(&path)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            files.push((name, text));
        }
    }
    // Sign only what validates: a vendor never ships a bundle every gateway would refuse.
    let sources: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let catalog = policies::Catalog::from_sources(&sources).map_err(|e| anyhow::anyhow!("{e}"))?;
    let issued_at = issued_at.unwrap_or_else(|| time::OffsetDateTime::now_utc().unix_timestamp());
    let bytes = catalog_bundle::sign(&files, issued_at, &key_pem).map_err(anyhow::Error::msg)?;
    std::fs::write(out, bytes).map_err(|e| anyhow::anyhow!("{}: {e}", out.display()))?;
    out!(
        "signed {} files ({} apps) into {}, issued at {issued_at}",
        files.len(),
        catalog.apps().len(),
        out.display()
    );
    Ok(0)
}

/// Writes a new Ed25519 key pair: `PREFIX.key.pem` (keep secret) and `PREFIX.pub.pem`
/// (goes into `policies.catalog_update_keys`).
pub fn keygen(prefix: &Path) -> anyhow::Result<u8> {
    let (private, public) = catalog_bundle::generate_key().map_err(anyhow::Error::msg)?;
    let key_path = PathBuf::from(format!("{}.key.pem", prefix.display()));
    let pub_path = PathBuf::from(format!("{}.pub.pem", prefix.display()));
    write_private(&key_path, &private)?;
    std::fs::write(&pub_path, public)?;
    out!(
        "wrote {} (secret) and {}",
        key_path.display(),
        pub_path.display()
    );
    Ok(0)
}

fn write_private(path: &Path, pem: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    file.write_all(pem.as_bytes())?;
    Ok(())
}
