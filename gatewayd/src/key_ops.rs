//! The AI gateway's key operations, written once for `gatewayd keys`, `gatewayd aigw keys`
//! and the dashboard's key pages (through `admin::ai_keys::AiKeys`): each checks its input,
//! changes the store under its lock and records the change in the admin audit trail with
//! the actor who asked (`cli:NAME` or `dashboard:NAME`).
//!
//! Never: put a provider key's value or a virtual key's secret in an error, an audit line
//! or a log line (errors come from `keystore` and `aigw::vkeys`, which hold none).

use std::path::Path;
use std::time::Duration;

use admin::ai_keys::KeyFault;
use aigw::vkeys::{NewKey, VirtualKeys};
use keystore::{KeyInfo, KeyStore, KeyStoreError, MasterKeySource, PROVIDERS};

/// The provider key store of `state`, opened with the master key `master_key` names
/// (`keys.master_key`).
pub fn open_store(state: &Path, master_key: &str) -> Result<KeyStore, KeyFault> {
    let source = MasterKeySource::parse(master_key).map_err(store_fault)?;
    let master = KeyStore::master_for(state, &source).map_err(store_fault)?;
    KeyStore::open(state, master).map_err(store_fault)
}

fn store_fault(error: KeyStoreError) -> KeyFault {
    match error {
        KeyStoreError::NoSuchKey(_) => KeyFault::NotFound(error.to_string()),
        KeyStoreError::Exists(_) | KeyStoreError::Input(_) => KeyFault::Input(error.to_string()),
        other => KeyFault::Internal(other.to_string()),
    }
}

/// Stores a new provider key (`keys add`).
pub fn add_provider_key(
    store: &mut KeyStore,
    state: &Path,
    actor: &str,
    name: &str,
    provider: &str,
    value: &str,
) -> Result<KeyInfo, KeyFault> {
    if !PROVIDERS.contains(&provider) {
        return Err(KeyFault::Input(format!(
            "--provider {provider:?}: one of {}",
            PROVIDERS.join(", ")
        )));
    }
    let info = store.add(name, provider, value).map_err(store_fault)?;
    admin::audit::record(state, actor, "provider_key.add", &describe(&info));
    Ok(info)
}

/// Replaces a provider key's value; the previous one stays usable for `grace` (`keys rotate`).
pub fn rotate_provider_key(
    store: &mut KeyStore,
    state: &Path,
    actor: &str,
    name: &str,
    value: &str,
    grace: Duration,
) -> Result<KeyInfo, KeyFault> {
    let info = store.rotate(name, value, grace).map_err(store_fault)?;
    admin::audit::record(state, actor, "provider_key.rotate", &describe(&info));
    Ok(info)
}

/// Removes a provider key and every version of it (`keys delete`).
pub fn delete_provider_key(
    store: &mut KeyStore,
    state: &Path,
    actor: &str,
    name: &str,
) -> Result<(), KeyFault> {
    store.delete(name).map_err(store_fault)?;
    admin::audit::record(state, actor, "provider_key.delete", &format!("name={name}"));
    Ok(())
}

fn describe(info: &KeyInfo) -> String {
    format!(
        "name={} provider={} version={} fingerprint={}",
        info.name, info.provider, info.version, info.fingerprint
    )
}

/// Creates a virtual key (`aigw keys create`); its id and the key, to be shown once.
pub fn create_virtual_key(
    state: &Path,
    actor: &str,
    new: &NewKey<'_>,
) -> Result<(String, String), KeyFault> {
    let (id, key) = VirtualKeys::create(state, new).map_err(KeyFault::Input)?;
    admin::audit::record(
        state,
        actor,
        "aigw_key.create",
        &format!(
            "id={id} name={} user={} team={} models={}",
            new.name,
            new.user,
            new.team.unwrap_or("-"),
            if new.models.is_empty() {
                "*".to_string()
            } else {
                new.models.join(",")
            }
        ),
    );
    Ok((id, key))
}

/// Revokes a virtual key by id or name (`aigw keys revoke`); returns its name.
pub fn revoke_virtual_key(state: &Path, actor: &str, id: &str) -> Result<String, KeyFault> {
    let name = VirtualKeys::revoke(state, id).map_err(KeyFault::NotFound)?;
    admin::audit::record(
        state,
        actor,
        "aigw_key.revoke",
        &format!("id={id} name={name}"),
    );
    Ok(name)
}
