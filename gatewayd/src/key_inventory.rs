//! The daemon's side of the AI key inventory: the fingerprint secret opened (or created) in
//! the state directory at start, and the organisation's own keys — the AI gateway's key
//! store — fingerprinted at start and on every reload, so keys the proxy sees can be told
//! apart as org-managed. The store's values are held only while they are fingerprinted.
//!
//! Never: log a key's value, or fail the start because the key store cannot be read (the
//! inventory then marks no key org-managed and says why in the log).

use std::path::Path;
use std::sync::Arc;

use config::Config;
use proxy::inspect::credentials::KeyFingerprints;

/// Opens the fingerprint secret of `state_dir`; a corrupt file stops the start.
pub fn open(config: &Config, state_dir: &Path) -> anyhow::Result<Arc<KeyFingerprints>> {
    let fingerprints = KeyFingerprints::open(state_dir)?;
    refresh(&fingerprints, config, state_dir);
    Ok(Arc::new(fingerprints))
}

/// Fingerprints the key store's current keys as the organisation's own.
pub fn refresh(fingerprints: &KeyFingerprints, config: &Config, state_dir: &Path) {
    if !state_dir.join(keystore::STORE_FILE).exists() {
        fingerprints.set_org_keys([]);
        return;
    }
    let store = keystore::MasterKeySource::parse(&config.keys.master_key)
        .and_then(|source| keystore::MasterKey::load(&source))
        .and_then(|master| keystore::KeyStore::open(state_dir, master));
    let store = match store {
        Ok(store) => store,
        Err(error) => {
            tracing::warn!(%error, "AI key inventory: the provider key store cannot be read; \
                no key seen in traffic is marked org-managed");
            return;
        }
    };
    let secrets: Vec<keystore::Secret> = store
        .list()
        .iter()
        .filter_map(|info| store.secret(&info.name).ok())
        .collect();
    fingerprints.set_org_keys(secrets.iter().map(|s| s.expose()));
    tracing::info!(
        org_keys = secrets.len(),
        "AI key inventory: org-managed keys fingerprinted"
    );
}
