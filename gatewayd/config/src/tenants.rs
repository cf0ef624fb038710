//! The `[tenants.<app>]` sections: the organisation's own accounts per catalog app, for tenant
//! control (the headers the vendor honours, and telling corporate from personal use).
//!
//! ```toml
//! [tenants.chatgpt]
//! ids = ["437adf77-4085-4b22-b7b1-de7b6f5ec6c0"]   # workspace ids
//! [tenants.microsoft-365-copilot]
//! ids = ["contoso.com", "contoso.onmicrosoft.com"]
//! context = "72f988bf-86f1-41af-91ab-2d7cd011db47"
//! ```
//!
//! What this module must never do: accept a value that could end a header line or add a list
//! item (CR, LF, `,`, `;`, spaces) — these values are written into requests as headers.

use std::collections::BTreeMap;

use policies::tenant::{is_account_id, MAX_ACCOUNT_ID};
use serde::Deserialize;

/// Ids a single app may list: enough for partner organisations, small enough that every
/// injected header stays well under the vendors' and servers' header limits (64 × 128 bytes).
pub const MAX_TENANT_IDS: usize = 64;

/// The organisation's accounts in one app (keyed by catalog app id in [`TenantsConfig`]).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AppTenant {
    /// The organisation's tenant, workspace or organisation ids, or domains (Google,
    /// Microsoft): what the vendor's allow-list header carries and what counts as corporate
    /// when a request shows its account.
    #[serde(default)]
    pub ids: Vec<String>,
    /// The organisation's own directory id (Microsoft's `Restrict-Access-Context`).
    pub context: Option<String>,
    /// A policy value (Microsoft tenant restrictions v2: `<tenant id>:<policy id>`, or
    /// `restrict-msa`).
    pub policy: Option<String>,
}

/// Tenant control, per catalog app id. Empty: no header is injected, no request is
/// classified, the `tenant` column stays empty.
pub type TenantsConfig = BTreeMap<String, AppTenant>;

/// The rules types cannot say, as (app id, message).
pub(crate) fn validate(tenants: &TenantsConfig) -> Result<(), (String, String)> {
    for (app, t) in tenants {
        let bad = |what: &str, value: &str| {
            // Echo only a short, escaped prefix: the value may be long or hold control bytes.
            let shown: String = value.chars().take(40).collect();
            (
                app.clone(),
                format!(
                    "tenants.{app}.{what} {shown:?}: an id is 1-{MAX_ACCOUNT_ID} characters of \
                     letters, digits and . _ - @ : (no spaces, commas, semicolons or line breaks)"
                ),
            )
        };
        if t.ids.is_empty() && t.context.is_none() && t.policy.is_none() {
            return Err((
                app.clone(),
                format!("tenants.{app} needs `ids` (or `context` / `policy`)"),
            ));
        }
        if t.ids.len() > MAX_TENANT_IDS {
            return Err((
                app.clone(),
                format!("tenants.{app}.ids lists more than {MAX_TENANT_IDS} ids"),
            ));
        }
        for id in &t.ids {
            if !is_account_id(id) {
                return Err(bad("ids", id));
            }
        }
        for (what, value) in [("context", &t.context), ("policy", &t.policy)] {
            if let Some(v) = value {
                if !is_account_id(v) {
                    return Err(bad(what, v));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(t: AppTenant) -> TenantsConfig {
        TenantsConfig::from([("chatgpt".to_string(), t)])
    }

    #[test]
    fn header_breaking_values_are_refused() {
        let ok = AppTenant {
            ids: vec!["437adf77-4085-4b22-b7b1-de7b6f5ec6c0".into()],
            ..Default::default()
        };
        assert!(validate(&one(ok)).is_ok());
        for bad in ["a\r\nx-evil: 1", "a,b", "a b", "", "x;n=3"] {
            let t = AppTenant {
                ids: vec![bad.into()],
                ..Default::default()
            };
            let (_, why) = validate(&one(t)).unwrap_err();
            assert!(!why.contains('\n'), "{why}");
        }
        let policy = AppTenant {
            policy: Some("t\nx".into()),
            ..Default::default()
        };
        assert!(validate(&one(policy)).is_err());
        assert!(validate(&one(AppTenant::default())).is_err());
    }
}
