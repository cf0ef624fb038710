//! Tenant control in the data path: for apps the organisation configured (`[tenants.<app>]`),
//! the headers the vendor honours are written into intercepted requests to the vendor's hosts
//! (the catalog's `[app.tenant]` hint says which), and each such request is classified as
//! corporate, personal or unknown from the account identifiers it shows.
//!
//! Built once per snapshot from the configuration and the catalog; nothing here changes at
//! request time. What it must never do: let a client's own copy of a vendor header through
//! next to (or instead of) the gateway's; read a request body; keep or log an identifier's
//! value (only the classification leaves this module).

mod account;

use http::header::{HeaderMap, HeaderName, HeaderValue};
use policies::catalog::{AccountAt, TenantValue};
use policies::host::normalize_host;
use policies::host_pattern::HostPattern;
use policies::{Catalog, TenantUse};

use config::TenantsConfig;

/// Why `[tenants]` cannot be used with the catalog in force.
#[derive(Debug, thiserror::Error)]
pub enum TenantConfigError {
    #[error("tenants.{0}: the catalog has no app {0:?}")]
    UnknownApp(String),
    #[error(
        "tenants.{0}: the catalog's app {0:?} has no tenant hint (no header its vendor \
         honours is known); remove the section"
    )]
    NoHint(String),
    #[error("tenants.{app}: none of the values {vendor_headers} carry is set")]
    NothingToSend { app: String, vendor_headers: String },
    #[error("tenants.{app} and tenants.{other} both send headers to {host}")]
    Overlap {
        app: String,
        other: String,
        host: String,
    },
}

/// One configured app's tenant control.
#[derive(Debug)]
pub struct TenantControl {
    pub app_id: String,
    hosts: Vec<HostPattern>,
    /// The headers written into requests, names as the vendor spells them.
    inject: Vec<(HeaderName, HeaderValue)>,
    /// Every header name of the vendor's hint: a client's copy of any of them (or of a
    /// numbered continuation, `anthropic-allowed-org-ids1`) never goes upstream.
    vendor_names: Vec<HeaderName>,
    /// The organisation's ids, lowercase: what counts as corporate.
    corporate: Vec<Box<str>>,
    accounts: Vec<AccountAt>,
}

/// Every configured app's tenant control, for one snapshot.
#[derive(Debug, Default)]
pub struct TenantControls(Vec<TenantControl>);

impl TenantControls {
    /// Joins the configuration with the catalog's hints.
    pub fn build(config: &TenantsConfig, catalog: &Catalog) -> Result<Self, TenantConfigError> {
        let mut controls: Vec<TenantControl> = Vec::new();
        for (app_id, settings) in config {
            let app = catalog
                .app(app_id)
                .ok_or_else(|| TenantConfigError::UnknownApp(app_id.clone()))?;
            let hint = app
                .tenant
                .as_ref()
                .ok_or_else(|| TenantConfigError::NoHint(app_id.clone()))?;
            let mut inject = Vec::new();
            let mut vendor_names = Vec::new();
            for header in &hint.headers {
                // The catalog checked the name is a token; a bundle that slipped one through
                // is left out rather than trusted.
                let Ok(name) = HeaderName::from_bytes(header.name.as_bytes()) else {
                    continue;
                };
                vendor_names.push(name.clone());
                let value = match header.value {
                    TenantValue::Ids if !settings.ids.is_empty() => Some(settings.ids.join(",")),
                    TenantValue::Ids => None,
                    TenantValue::Context => settings.context.clone(),
                    TenantValue::Policy => settings.policy.clone(),
                };
                // Configuration validation allows only header-safe ids; `from_str` is the
                // second check, never a panic.
                if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
                    inject.push((name, value));
                }
            }
            if inject.is_empty() && settings.ids.is_empty() {
                return Err(TenantConfigError::NothingToSend {
                    app: app_id.clone(),
                    vendor_headers: hint
                        .headers
                        .iter()
                        .map(|h| h.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            for other in &controls {
                if let Some(host) = hint
                    .hosts
                    .iter()
                    .find(|h| other.hosts.iter().any(|o| o.as_str() == h.as_str()))
                {
                    return Err(TenantConfigError::Overlap {
                        app: app_id.clone(),
                        other: other.app_id.clone(),
                        host: host.as_str().to_string(),
                    });
                }
            }
            controls.push(TenantControl {
                app_id: app_id.clone(),
                hosts: hint.hosts.clone(),
                inject,
                vendor_names,
                corporate: settings
                    .ids
                    .iter()
                    .chain(&settings.context)
                    .map(|id| id.to_ascii_lowercase().into_boxed_str())
                    .collect(),
                accounts: hint.accounts.clone(),
            });
        }
        Ok(Self(controls))
    }

    /// The control whose vendor hosts include `host`.
    pub fn for_host(&self, host: &str) -> Option<&TenantControl> {
        if self.0.is_empty() {
            return None;
        }
        let host = normalize_host(host).ok()?;
        self.0
            .iter()
            .find(|c| c.hosts.iter().any(|p| p.matches_host(&host)))
    }
}

impl TenantControl {
    /// Whose account the request uses: `personal` as soon as one identifier it carries is
    /// not the organisation's, `corporate` when it carries only the organisation's,
    /// `unknown` when it carries none the hint names.
    pub fn classify(&self, path: &str, query: Option<&str>, headers: &HeaderMap) -> TenantUse {
        let mut seen = false;
        let personal = account::any_id(&self.accounts, path, query, headers, |id| {
            seen = true;
            !self
                .corporate
                .iter()
                .any(|own| own.as_bytes().eq_ignore_ascii_case(id))
        });
        match (personal, seen) {
            (true, _) => TenantUse::Personal,
            (false, true) => TenantUse::Corporate,
            (false, false) => TenantUse::Unknown,
        }
    }

    /// Writes the vendor's headers into an outgoing request, after removing every copy the
    /// client sent (of these names and their numbered continuations), so a client can neither
    /// widen the allow-list nor make the vendor reject a duplicate.
    pub fn inject(&self, headers: &mut HeaderMap) {
        let client_copies: Vec<HeaderName> = headers
            .keys()
            .filter(|name| {
                self.vendor_names.iter().any(|vendor| {
                    name.as_str()
                        .strip_prefix(vendor.as_str())
                        .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_digit()))
                })
            })
            .cloned()
            .collect();
        for name in client_copies {
            headers.remove(&name);
        }
        for (name, value) in &self.inject {
            headers.insert(name.clone(), value.clone());
        }
    }
}

#[cfg(test)]
mod tests;
