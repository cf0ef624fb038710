//! The dashboard's key pages, served by the daemon: `admin::ai_keys::AiKeys` over
//! [`AdminHost`], running the same operations as the command line (`crate::key_ops`) on the
//! state directory and key store of the configuration in force. The running AI gateway
//! notices each change on its next call (it re-reads both files when they change).
//!
//! Never: return a provider key's value (only `KeyInfo`'s names, dates and fingerprint
//! leave the store) or log a virtual key's secret.

use std::time::Duration;

use admin::ai_keys::{AiKeys, CreatedKey, KeyFault, NewVirtualKey, ProviderKeyRow, VirtualKeyRow};
use aigw::vkeys::{NewKey, VirtualKeys};
use keystore::{KeyInfo, PROVIDERS};

use crate::admin_host::AdminHost;
use crate::key_ops;

impl AdminHost {
    fn state_and_master(&self) -> (std::path::PathBuf, String) {
        let snapshot = self.0.snapshot();
        let dir = &snapshot.config.state.dir;
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
        (dir, snapshot.config.keys.master_key.clone())
    }

    fn row(&self, info: KeyInfo) -> ProviderKeyRow {
        let used = self
            .1
            .as_ref()
            .and_then(|ai| ai.provider_keys_last_used().get(&info.name).copied());
        ProviderKeyRow {
            name: info.name,
            provider: info.provider,
            fingerprint: info.fingerprint,
            version: info.version,
            created_unix_ms: info.created_unix_ms,
            rotated_unix_ms: info.rotated_unix_ms,
            last_used_unix_ms: used,
        }
    }
}

impl AiKeys for AdminHost {
    fn virtual_keys(&self) -> Result<Vec<VirtualKeyRow>, KeyFault> {
        let (state, _) = self.state_and_master();
        let keys = VirtualKeys::load(&state).map_err(KeyFault::Internal)?;
        Ok(keys
            .list()
            .into_iter()
            .map(|k| VirtualKeyRow {
                id: k.id,
                name: k.name,
                user: k.user,
                team: k.team,
                models: k.models,
                created_unix_ms: k.created_unix_ms,
                expires_unix_ms: k.expires_unix_ms,
                expired: k.expired,
            })
            .collect())
    }

    fn create_virtual_key(&self, new: &NewVirtualKey, actor: &str) -> Result<CreatedKey, KeyFault> {
        let (state, _) = self.state_and_master();
        crate::key_checks::known_models(&self.0.snapshot().config.aigw, &new.models)?;
        let new = NewKey {
            name: &new.name,
            user: &new.user,
            team: new.team.as_deref(),
            models: new.models.clone(),
            tags: Vec::new(),
            ttl: new.ttl,
        };
        let (id, secret) = key_ops::create_virtual_key(&state, actor, &new)?;
        Ok(CreatedKey { id, secret })
    }

    fn revoke_virtual_key(&self, id: &str, actor: &str) -> Result<String, KeyFault> {
        let (state, _) = self.state_and_master();
        // By id only: a form names the key it listed, never a name that could match another.
        let listed = VirtualKeys::load(&state).map_err(KeyFault::Internal)?;
        if !listed.list().iter().any(|k| k.id == id) {
            return Err(KeyFault::NotFound(format!("no virtual key with id {id:?}")));
        }
        key_ops::revoke_virtual_key(&state, actor, id)
    }

    fn provider_keys(&self) -> Result<Vec<ProviderKeyRow>, KeyFault> {
        let (state, master) = self.state_and_master();
        let store = key_ops::open_store(&state, &master)?;
        Ok(store.list().into_iter().map(|k| self.row(k)).collect())
    }

    fn provider_kinds(&self) -> Vec<String> {
        PROVIDERS.iter().map(|p| p.to_string()).collect()
    }

    fn add_provider_key(
        &self,
        name: &str,
        provider: &str,
        value: &str,
        actor: &str,
    ) -> Result<ProviderKeyRow, KeyFault> {
        let (state, master) = self.state_and_master();
        let mut store = key_ops::open_store(&state, &master)?;
        let info = key_ops::add_provider_key(&mut store, &state, actor, name, provider, value)?;
        Ok(self.row(info))
    }

    fn rotate_provider_key(
        &self,
        name: &str,
        value: &str,
        grace: Duration,
        actor: &str,
    ) -> Result<ProviderKeyRow, KeyFault> {
        let (state, master) = self.state_and_master();
        let mut store = key_ops::open_store(&state, &master)?;
        let info = key_ops::rotate_provider_key(&mut store, &state, actor, name, value, grace)?;
        Ok(self.row(info))
    }

    fn providers_using_key(&self, name: &str) -> Vec<String> {
        crate::key_checks::providers_using(&self.0.snapshot().config.aigw, name)
    }

    fn delete_provider_key(&self, name: &str, actor: &str) -> Result<(), KeyFault> {
        let (state, master) = self.state_and_master();
        let mut store = key_ops::open_store(&state, &master)?;
        key_ops::delete_provider_key(&mut store, &state, actor, name)
    }
}
