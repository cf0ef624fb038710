//! The admin plane's one view of the proxy: [`ProxyView`] — the configuration it reads, the
//! catalog, the approval statuses, the discovered apps and decisions about them, and the
//! metrics text. Never the
//! proxy's internals: the daemon implements it over the gateway, so this crate does not
//! depend on the proxy and the proxy does not depend on it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use policies::access::AccessRequest;
use policies::discovery::decision::{Decided, DecisionFault, DecisionRequest, HostDecision};
use policies::discovery::DiscoveredApp;
use policies::status::StatusChange;
use policies::{AppStatus, Catalog, StatusBook};
use schema::ClickHouseConfig;

/// Why the proxy could not do what was asked (shown to the admin as text).
pub type ViewError = Box<dyn std::error::Error + Send + Sync>;

/// What the admin plane reads of the configuration in force now (the `[admin]` section, the
/// state directory, `[clickhouse]`), as plain values.
#[derive(Debug, Clone)]
pub struct Settings {
    pub state_dir: PathBuf,
    pub clickhouse: ClickHouseConfig,
    /// `admin.session_ttl`: how long a dashboard login lasts.
    pub session_ttl: Duration,
    /// `admin.query_timeout`: the log explorer's time limit per query.
    pub query_timeout: Duration,
    /// `admin.query_max_rows`.
    pub query_max_rows: usize,
    /// `admin.query_max_bytes`.
    pub query_max_bytes: usize,
    /// `admin.query_concurrency`.
    pub query_concurrency: usize,
    /// `admin.allowed_hosts`.
    pub allowed_hosts: Vec<String>,
    /// `admin.public_url`.
    pub public_url: Option<String>,
}

/// The proxy, as the admin plane sees it.
pub trait ProxyView: Send + Sync {
    /// The configuration in force now.
    fn settings(&self) -> Settings;
    /// The app catalog in force now.
    fn catalog(&self) -> Arc<Catalog>;
    /// The approval statuses in force now.
    fn status_book(&self) -> Arc<StatusBook>;
    /// Sets an app's approval status for `actor`, durably; the proxy applies it from its next
    /// request.
    fn set_status(
        &self,
        app_id: &str,
        status: AppStatus,
        actor: &str,
    ) -> Result<StatusChange, ViewError>;
    /// Every status change so far, oldest first.
    fn status_changes(&self) -> Result<Vec<StatusChange>, ViewError>;
    /// Hosts outside the catalog that look like AI APIs.
    fn discovered(&self) -> Vec<DiscoveredApp>;
    /// What was decided about discovered hosts, as on file now.
    fn decisions(&self) -> Vec<HostDecision>;
    /// Decides about a discovered host for `actor` (who must be allowed to: the caller checks
    /// the role), durably, and applies it at once; or says whose fault it was not.
    fn decide_discovered(
        &self,
        request: &DecisionRequest,
        actor: &str,
    ) -> Result<Decided, (DecisionFault, String)>;
    /// Whether the policy in force blocks a plain request to app `app_id` (a catalog id, or
    /// the id a discovered host is about to get) when its status is `status`: the dashboard
    /// asks before a change that starts blocking.
    fn status_blocks(&self, app_id: &str, status: AppStatus) -> bool;
    /// The Prometheus text of `/metrics`.
    fn metrics(&self) -> String;
    /// Employees' access requests (from block and coaching pages), oldest first.
    fn access_requests(&self) -> Vec<AccessRequest>;
    /// Marks an open access request approved or denied for `actor`, durably (what approving
    /// changes is `crate::access`'s business).
    fn decide_access_request(
        &self,
        id: &str,
        approve: bool,
        actor: &str,
    ) -> Result<AccessRequest, ViewError>;
    /// The AI gateway's budgets and limits as they stand (one JSON object per counter:
    /// spend, reserved, remaining, reset); `None` when the AI gateway runs none.
    fn ai_budgets(&self) -> Option<serde_json::Value> {
        None
    }
    /// Lines `/healthz` adds after `ok` about parts that run degraded (the AI gateway's
    /// shared Redis unreachable); the process still serves, so the status stays 200.
    fn health_notes(&self) -> Vec<String> {
        Vec::new()
    }
    /// The AI gateway's virtual and provider keys, for the key pages; `None` where this
    /// daemon cannot manage them.
    fn ai_keys(&self) -> Option<&dyn crate::ai_keys::AiKeys> {
        None
    }
    /// Route explain: which deployment would serve `model` for the virtual key `key` (id or
    /// name; none: a key allowed everything), and why; `None` when the AI gateway is off,
    /// `Some(Err)` for an unknown key.
    fn ai_explain(
        &self,
        _model: &str,
        _key: Option<&str>,
    ) -> Option<Result<serde_json::Value, String>> {
        None
    }
}
