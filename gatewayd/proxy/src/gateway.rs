//! The running gateway's shared state: the immutable configuration [`Snapshot`] (swapped
//! atomically on reload; a connection keeps the one it started with), the leaf cache, metrics
//! and the shutdown signal. A reload builds the policy part anew and keeps the upstream part
//! (pooled connections, resolver, root store) unless its configuration changed
//! ([`ConfigDiff`]).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use arc_swap::ArcSwap;
use ca::LeafCache;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::apps::{DiscoveredApps, StatusStore};
use crate::config_diff::{ConfigDiff, RootStamps};
use crate::dlp_engine::DlpEngineError;
use crate::identity::Identity;
use crate::identity::UserDirectory;
use crate::inspect::InspectBudget;
use crate::intercept::TlsTemplate;
use crate::listen::ConnectionLimits;
use crate::policy_files::{load_policy, watched_files, PolicyFilesError};
use crate::telemetry::events::{ConfigReloadRefused, ConfigReloaded, InternalEvent};
use crate::telemetry::Metrics;
use crate::upstream::{Upstream, UpstreamConfigError};
use config::{load_config, Config};
use dlp::DlpEngine;
use events::{EventContext, EventSink};
use policies::host_list::{HostList, HostListError};
use policies::{Catalog, Policy};
use std::net::SocketAddr;

/// Why a configuration cannot become a snapshot; the text is what `gatewayd check` prints and
/// what a refused reload logs.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The users file (`proxy.users_file`).
    #[error(transparent)]
    Users(config::ConfigError),
    #[error(transparent)]
    PolicyFiles(#[from] PolicyFilesError),
    #[error(transparent)]
    Dlp(#[from] DlpEngineError),
    #[error(transparent)]
    Upstream(#[from] UpstreamConfigError),
    /// `intercept.do_not_inspect` or `intercept.block`.
    #[error(transparent)]
    HostList(#[from] HostListError),
    /// `[tenants]` names an app the catalog cannot serve.
    #[error(transparent)]
    Tenants(#[from] crate::tenant::TenantConfigError),
}

/// Why a reload was refused (the last good snapshot stays in force).
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
}

/// Everything derived from one version of the configuration, validated and ready to use.
pub struct Snapshot {
    /// Increments with every successful reload; recorded on every transaction.
    pub version: u64,
    pub config: Config,
    pub users: Option<Arc<UserDirectory>>,
    /// Shared with the next snapshot when a reload leaves its configuration unchanged.
    pub upstream: Arc<Upstream>,
    /// The extra root files as they were when `upstream` was built.
    upstream_roots: RootStamps,
    pub do_not_inspect: HostList,
    pub block: HostList,
    pub tls: TlsTemplate,
    pub catalog: Arc<Catalog>,
    pub policy: Arc<Policy>,
    /// Policy warnings (unknown app ids), logged on every load.
    pub policy_warnings: Vec<String>,
    /// The DLP detectors the policy's `dlp` rules scan with.
    pub dlp: Arc<DlpEngine>,
    /// Decisions about discovered hosts in force (the catalogued ones are in `catalog`).
    pub decisions: Arc<Vec<policies::discovery::decision::HostDecision>>,
    /// Hosts marked "not AI", which discovery leaves alone.
    pub not_ai: Arc<std::collections::HashSet<String>>,
    /// Tenant control: the vendors' headers and account matching for configured apps.
    pub tenants: crate::tenant::TenantControls,
}

impl Snapshot {
    /// Builds a snapshot; any error means the configuration cannot be used.
    pub fn build(config: Config, version: u64) -> Result<Self, SnapshotError> {
        Self::assemble(config, version, None)
    }

    /// The snapshot for `config` after this one: the policy part built anew, the upstream
    /// part kept when [`ConfigDiff`] says nothing it depends on changed.
    pub fn rebuild(
        &self,
        config: Config,
        version: u64,
    ) -> Result<(Self, ConfigDiff), SnapshotError> {
        let diff = ConfigDiff::between(&self.config, &config, &self.upstream_roots);
        let keep = (!diff.upstream).then(|| (self.upstream.clone(), self.upstream_roots.clone()));
        Ok((Self::assemble(config, version, keep)?, diff))
    }

    fn assemble(
        config: Config,
        version: u64,
        upstream: Option<(Arc<Upstream>, RootStamps)>,
    ) -> Result<Self, SnapshotError> {
        let users = config
            .proxy
            .users_file
            .as_deref()
            .map(UserDirectory::load)
            .transpose()
            .map_err(SnapshotError::Users)?
            .map(Arc::new);
        let loaded = load_policy(&config)?;
        let dlp = crate::dlp_engine::build(&loaded.policy)?;
        let tenants = crate::tenant::TenantControls::build(&config.tenants, &loaded.catalog)?;
        let (upstream, upstream_roots) = match upstream {
            Some(kept) => kept,
            None => {
                let roots = RootStamps::of(&config.upstream.extra_roots);
                (Arc::new(Upstream::from_config(&config)?), roots)
            }
        };
        Ok(Self {
            version,
            catalog: loaded.catalog,
            policy: loaded.policy,
            policy_warnings: loaded.warnings,
            decisions: loaded.decisions,
            not_ai: loaded.not_ai,
            dlp,
            users,
            upstream,
            upstream_roots,
            do_not_inspect: HostList::parse(&config.intercept.do_not_inspect)?,
            block: HostList::parse(&config.intercept.block)?,
            tls: TlsTemplate::new(),
            tenants,
            config,
        })
    }
}

/// State shared by every listener and connection.
pub struct Gateway {
    snapshot: ArcSwap<Snapshot>,
    versions: AtomicU64,
    config_path: Option<PathBuf>,
    pub leaves: LeafCache,
    pub statuses: StatusStore,
    pub discovered: DiscoveredApps,
    /// Coaching passes, page tickets and access requests, kept across reloads.
    pub coaching: crate::coaching::Coaching,
    /// Proxy password checking: slots and failure throttling, kept across reloads.
    pub auth: crate::identity::AuthGuard,
    /// Where transaction records go; `None` only in tools that run no writer.
    pub events: Option<EventSink>,
    /// Country and city of client addresses, when `geoip.database` is set; swapped when a
    /// reload names another database (or none).
    pub geoip: arc_swap::ArcSwapOption<geoip::GeoIpHandle>,
    pub metrics: Arc<Metrics>,
    /// Cancelled when the daemon starts shutting down.
    pub shutdown: CancellationToken,
    /// Every connection task, so shutdown can wait for them to drain.
    pub tasks: TaskTracker,
    /// Bytes that bodies buffered for inspection may hold together (sized at start).
    pub inspect_budget: InspectBudget,
    /// Connections per client address and per user on the proxy port.
    pub limits: ConnectionLimits,
    /// The service the gateway serves itself at `aigw.host` (the AI gateway), registered by
    /// the daemon once at start; unset: requests to that name get a clear refusal.
    pub local_service: std::sync::OnceLock<Arc<dyn crate::intercept::local::LocalService>>,
    /// The AI key inventory's fingerprints (the state dir's secret, the organisation's keys),
    /// set by the daemon once at start; unset (tools, tests): keys are not read.
    pub key_fingerprints: std::sync::OnceLock<Arc<crate::inspect::credentials::KeyFingerprints>>,
}

impl Gateway {
    pub fn new(
        snapshot: Snapshot,
        config_path: Option<PathBuf>,
        leaves: LeafCache,
        statuses: StatusStore,
        events: Option<EventSink>,
        geoip: Option<geoip::GeoIpHandle>,
    ) -> Self {
        let discovered = DiscoveredApps::open(&snapshot.config.state.dir);
        let coaching = crate::coaching::Coaching::open(&snapshot.config.state.dir);
        let metrics: Arc<Metrics> = Arc::default();
        let inspect = &snapshot.config.inspect;
        let inspect_budget = InspectBudget::new(
            inspect.max_buffered_bytes,
            inspect.max_buffered_bytes_per_user,
            inspect.budget_wait.0,
            metrics.clone(),
        );
        Self {
            inspect_budget,
            limits: ConnectionLimits::default(),
            local_service: std::sync::OnceLock::new(),
            key_fingerprints: std::sync::OnceLock::new(),
            events,
            geoip: arc_swap::ArcSwapOption::from(geoip.map(Arc::new)),
            statuses,
            discovered,
            coaching,
            auth: Default::default(),
            versions: AtomicU64::new(snapshot.version),
            snapshot: ArcSwap::from_pointee(snapshot),
            config_path,
            leaves,
            metrics,
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
        }
    }

    /// Runs a background loop that holds no connection on the tracked spawner, ended when
    /// shutdown starts so the drain never waits on it.
    pub fn spawn_service<F>(&self, task: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let shutdown = self.shutdown.clone();
        self.tasks.spawn(async move {
            tokio::select! {
                () = task => {}
                () = shutdown.cancelled() => {}
            }
        });
    }

    /// Follows a reload's `geoip.database`: another path opens that database (a bad one is
    /// logged and the loaded one kept), none turns the lookups off.
    fn swap_geoip(&self, wanted: Option<&std::path::Path>) {
        let loaded = self.geoip.load_full();
        match (wanted, loaded.as_deref()) {
            (None, None) => {}
            (None, Some(_)) => {
                self.geoip.store(None);
                tracing::info!("GeoIP turned off (geoip.database unset)");
            }
            (Some(path), Some(current)) if current.path() == path => {}
            (Some(path), _) => match geoip::GeoIpHandle::open(path) {
                Ok(handle) => {
                    self.geoip.store(Some(Arc::new(handle)));
                    tracing::info!(path = %path.display(), "GeoIP database loaded");
                }
                Err(error) => tracing::error!(path = %path.display(), %error,
                    "geoip.database unusable; keeping the GeoIP lookups in force"),
            },
        }
    }

    /// The current snapshot; hold on to it for the lifetime of a connection.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// Who and where, for the events of a connection.
    pub fn event_context(&self, identity: &Identity, client: SocketAddr) -> Arc<EventContext> {
        let ip = client.ip().to_canonical();
        let location = self
            .geoip
            .load()
            .as_ref()
            .map(|g| g.lookup(ip))
            .unwrap_or_default();
        Arc::new(EventContext {
            user: identity.user.clone(),
            groups: identity.groups.clone(),
            src_ip: ip.to_string(),
            country: location.country.unwrap_or_default(),
            city: location.city.unwrap_or_default(),
            device_id: identity
                .device
                .as_ref()
                .map(|d| d.id.clone())
                .unwrap_or_default(),
            device_posture: identity
                .device
                .as_ref()
                .map(|d| d.summary.clone())
                .unwrap_or_default(),
        })
    }

    /// Re-reads the config file. A bad file is logged with its position and the last good
    /// snapshot stays in force.
    pub fn reload(&self) -> Result<u64, ReloadError> {
        let result = load_config(self.config_path.as_deref())
            .map_err(ReloadError::from)
            .and_then(|(config, _)| {
                let current = self.snapshot();
                warn_restart_only(&current.config, &config);
                Ok(current.rebuild(config, self.versions.load(Relaxed) + 1)?)
            });
        match result {
            Ok((snapshot, diff)) => {
                for warning in &snapshot.policy_warnings {
                    tracing::warn!("{warning}");
                }
                let version = snapshot.version;
                self.versions.store(version, Relaxed);
                self.swap_geoip(snapshot.config.geoip.database.as_deref());
                self.snapshot.store(Arc::new(snapshot));
                let now = self.snapshot();
                let (policy, apps) = (&now.policy.version(), now.catalog.apps().len());
                ConfigReloaded {
                    version,
                    rebuilt: diff.rebuilt(),
                    policy,
                    apps,
                }
                .emit(&self.metrics);
                Ok(version)
            }
            Err(error) => {
                ConfigReloadRefused { error: &error }.emit(&self.metrics);
                Err(error)
            }
        }
    }
}

fn warn_restart_only(old: &Config, new: &Config) {
    if old.proxy.listen != new.proxy.listen
        || old.admin.listen != new.admin.listen
        || old.state.dir != new.state.dir
    {
        tracing::warn!("listen addresses and state.dir change only on restart");
    }
    if old.aigw != new.aigw {
        tracing::warn!("[aigw] changes only on restart: the AI gateway keeps its configuration");
    }
    if old.telemetry != new.telemetry {
        tracing::warn!("[telemetry] changes only on restart: trace export keeps its configuration");
    }
}

/// Polls the files that other processes change while the daemon runs — policy and catalog
/// files, the users file, the status book — and applies changes (the admin tokens are the
/// admin plane's: `admin::state::watch_tokens`). A bad policy file is
/// refused (logged with its position) and the last good one stays.
pub async fn watch_files(gateway: Arc<Gateway>) {
    use std::time::{Duration, SystemTime};
    let stamp = |path: &std::path::Path| -> Option<SystemTime> {
        std::fs::metadata(path).and_then(|m| m.modified()).ok()
    };
    // The users file too: a changed password must end the verified-credential memory, which
    // lives and dies with the snapshot's user directory.
    let reloaded_files = |config: &Config| -> Vec<PathBuf> {
        let mut files = watched_files(config);
        files.extend(config.proxy.users_file.clone());
        files
    };
    let initial = reloaded_files(&gateway.snapshot().config);
    let mut policy_stamps: Vec<Option<SystemTime>> = initial.iter().map(|f| stamp(f)).collect();
    loop {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            () = gateway.shutdown.cancelled() => {
                gateway.discovered.flush();
                return;
            }
        }
        let files = reloaded_files(&gateway.snapshot().config);
        let stamps: Vec<_> = files.iter().map(|f| stamp(f)).collect();
        if stamps != policy_stamps {
            tracing::info!("policy or users files changed; reloading");
            let _ = gateway.reload();
        }
        policy_stamps = stamps;
        gateway.discovered.flush();
        if let Some(geo) = gateway.geoip.load_full() {
            // Checking and loading a new database takes a while: keep it off the workers.
            let refreshed =
                tokio::task::spawn_blocking(move || Some(geo.refresh_if_changed())).await;
            match refreshed {
                Ok(Some(Ok(true))) => tracing::info!("GeoIP database reloaded"),
                Ok(Some(Err(error))) => {
                    tracing::error!(%error, "GeoIP database changed but is unusable; keeping the loaded one")
                }
                _ => {}
            }
        }
        if let Err(error) = gateway.statuses.refresh() {
            tracing::error!(%error, "app status book unreadable; keeping the statuses in force");
        }
    }
}

#[cfg(test)]
mod tests;
