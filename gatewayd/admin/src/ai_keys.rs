//! The AI gateway's keys as the admin plane manages them ([`AiKeys`]): virtual keys (list,
//! create — the secret returned once —, revoke) and provider keys (list, add, rotate,
//! delete). The daemon implements it with the very functions `gatewayd aigw keys` and
//! `gatewayd keys` run, audit trail included, so the dashboard and the command line cannot
//! drift apart; this crate never opens the key store itself.
//!
//! What it must never do: carry a provider key's value out (the rows have none), or keep a
//! new virtual key's secret beyond the answer that shows it.

use std::time::Duration;

use serde::Serialize;

/// A virtual key as listed: never its secret or hash.
#[derive(Debug, Clone, Serialize)]
pub struct VirtualKeyRow {
    pub id: String,
    pub name: String,
    pub user: String,
    pub team: Option<String>,
    /// Empty: every configured model.
    pub models: Vec<String>,
    pub created_unix_ms: u64,
    pub expires_unix_ms: Option<u64>,
    pub expired: bool,
}

/// What the create form asks for (validated by the implementation, as on the command line).
#[derive(Debug, Clone, Default)]
pub struct NewVirtualKey {
    pub name: String,
    pub user: String,
    pub team: Option<String>,
    pub models: Vec<String>,
    /// `None`: valid until revoked.
    pub ttl: Option<Duration>,
}

/// A created virtual key: its id and the secret, shown once. `Debug` hides the secret.
pub struct CreatedKey {
    pub id: String,
    pub secret: String,
}

impl std::fmt::Debug for CreatedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A provider key as listed: names, dates and a fingerprint, never the value.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderKeyRow {
    pub name: String,
    pub provider: String,
    /// `sha256:` and a prefix of the current value's digest.
    pub fingerprint: String,
    pub version: u32,
    pub created_unix_ms: u64,
    pub rotated_unix_ms: Option<u64>,
    /// The last call that used it since the daemon started; `None`: not used since.
    pub last_used_unix_ms: Option<u64>,
}

/// Why a key operation failed: whose fault, and text that holds no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyFault {
    /// Bad input (a name taken, a bad provider, an empty value): the form says why.
    Input(String),
    /// No such key.
    NotFound(String),
    /// The store could not be read or written (a missing master key, a disk error).
    Internal(String),
}

impl std::fmt::Display for KeyFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyFault::Input(why) | KeyFault::NotFound(why) | KeyFault::Internal(why) => {
                f.write_str(why)
            }
        }
    }
}

/// The AI gateway's keys, managed for `actor` (the caller checked the role); every change is
/// in the admin audit trail.
pub trait AiKeys: Send + Sync {
    fn virtual_keys(&self) -> Result<Vec<VirtualKeyRow>, KeyFault>;
    fn create_virtual_key(&self, new: &NewVirtualKey, actor: &str) -> Result<CreatedKey, KeyFault>;
    /// Revokes by id; returns the key's name. The gateway refuses it from its next call.
    fn revoke_virtual_key(&self, id: &str, actor: &str) -> Result<String, KeyFault>;
    fn provider_keys(&self) -> Result<Vec<ProviderKeyRow>, KeyFault>;
    /// The provider kinds a key may be stored for.
    fn provider_kinds(&self) -> Vec<String>;
    fn add_provider_key(
        &self,
        name: &str,
        provider: &str,
        value: &str,
        actor: &str,
    ) -> Result<ProviderKeyRow, KeyFault>;
    /// Replaces the value; the previous one stays usable for `grace`.
    fn rotate_provider_key(
        &self,
        name: &str,
        value: &str,
        grace: Duration,
        actor: &str,
    ) -> Result<ProviderKeyRow, KeyFault>;
    /// The configured providers that call with the key named `name` (deleting it stops
    /// them, so the page asks first).
    fn providers_using_key(&self, _name: &str) -> Vec<String> {
        Vec::new()
    }
    fn delete_provider_key(&self, name: &str, actor: &str) -> Result<(), KeyFault>;
}
