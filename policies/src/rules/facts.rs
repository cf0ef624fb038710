//! What the daemon knows about a connection or request when it asks for a verdict.
//!
//! Borrowed views so that building facts per request costs no allocation; the daemon keeps the
//! owned identity (user, groups, posture) per connection and lends it here.

use crate::catalog::{App, Category};
use crate::status::{AppStatus, StatusBook};
use crate::tenant::TenantUse;
use std::collections::BTreeMap;

/// Device posture reported by the agent: field → value (`disk_encrypted` → `"true"`).
pub type Posture = BTreeMap<String, String>;

static NO_POSTURE: Posture = BTreeMap::new();

/// The catalog app a host belongs to, with its current approval status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppFacts<'a> {
    pub id: &'a str,
    pub category: Category,
    pub status: AppStatus,
}

impl<'a> AppFacts<'a> {
    /// Facts for a catalog app, its status looked up in `book`.
    pub fn new(app: &'a App, book: &StatusBook) -> Self {
        AppFacts {
            id: &app.id,
            category: app.category,
            status: book.status(&app.id),
        }
    }
}

/// Inputs of a decision. At CONNECT time leave `path` and `method` `None`; they and `upload`
/// and `dlp_profiles_matched` are then ignored.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// Host as received (normalised inside; port stripped by the caller).
    pub host: &'a str,
    /// Request path, when known (needed by path-prefixed host patterns).
    pub path: Option<&'a str>,
    /// The catalog app, or `None` for hosts outside the catalog (status selectors then never
    /// match).
    pub app: Option<AppFacts<'a>>,
    pub user: Option<&'a str>,
    pub groups: &'a [String],
    pub posture: &'a Posture,
    /// `posture` is an MDM-signed document the gateway verified, not only what the device
    /// reported.
    pub posture_signed: bool,
    /// ISO 3166-1 alpha-2 code of the client's location.
    pub country: Option<&'a str>,
    pub method: Option<&'a str>,
    /// The request uploads a file (a catalog upload endpoint, or a multipart file part).
    pub upload: bool,
    /// Profiles whose scan found something; `None` until the body has been scanned.
    pub dlp_profiles_matched: Option<&'a [String]>,
    /// The user continued past a coaching page for this app and the pass is live: `warn`
    /// rules do not match, so the rules after them decide.
    pub coached: bool,
    /// Whose account the request uses, for apps with tenant control configured; `None`
    /// elsewhere (a `tenant` selector then never matches).
    pub tenant: Option<TenantUse>,
}

impl<'a> Facts<'a> {
    /// Facts that know only the host.
    pub fn new(host: &'a str) -> Self {
        Facts {
            host,
            path: None,
            app: None,
            user: None,
            groups: &[],
            posture: &NO_POSTURE,
            posture_signed: false,
            country: None,
            method: None,
            upload: false,
            dlp_profiles_matched: None,
            coached: false,
            tenant: None,
        }
    }
}
