//! The running gateway's shared state: the immutable configuration [`Snapshot`] (swapped
//! atomically on reload; a connection keeps the one it started with), the leaf cache, metrics
//! and the shutdown signal.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use arc_swap::ArcSwap;
use ca::LeafCache;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{load_config, Config};
use crate::hostmatch::HostList;
use crate::identity::UserDirectory;
use crate::intercept::TlsTemplate;
use crate::telemetry::Metrics;
use crate::upstream::Upstream;

/// Everything derived from one version of the configuration, validated and ready to use.
pub struct Snapshot {
    /// Increments with every successful reload; recorded on every transaction.
    pub version: u64,
    pub config: Config,
    pub users: Option<Arc<UserDirectory>>,
    pub upstream: Upstream,
    pub do_not_inspect: HostList,
    pub block: HostList,
    pub tls: TlsTemplate,
}

impl Snapshot {
    /// Builds a snapshot; any error means the configuration cannot be used.
    pub fn build(config: Config, version: u64) -> Result<Self, String> {
        let users = config
            .proxy
            .users_file
            .as_deref()
            .map(UserDirectory::load)
            .transpose()
            .map_err(|e| e.to_string())?
            .map(Arc::new);
        Ok(Self {
            version,
            users,
            upstream: Upstream::from_config(&config)?,
            do_not_inspect: HostList::parse(&config.intercept.do_not_inspect)?,
            block: HostList::parse(&config.intercept.block)?,
            tls: TlsTemplate::new(),
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
    pub metrics: Arc<Metrics>,
    /// Cancelled when the daemon starts shutting down.
    pub shutdown: CancellationToken,
    /// Every connection task, so shutdown can wait for them to drain.
    pub tasks: TaskTracker,
}

impl Gateway {
    pub fn new(snapshot: Snapshot, config_path: Option<PathBuf>, leaves: LeafCache) -> Self {
        Self {
            versions: AtomicU64::new(snapshot.version),
            snapshot: ArcSwap::from_pointee(snapshot),
            config_path,
            leaves,
            metrics: Arc::default(),
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
        }
    }

    /// The current snapshot; hold on to it for the lifetime of a connection.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// Re-reads the config file. A bad file is logged with its position and the last good
    /// snapshot stays in force.
    pub fn reload(&self) -> Result<u64, String> {
        let result = load_config(self.config_path.as_deref())
            .map_err(|e| e.to_string())
            .and_then(|(config, _)| {
                let current = self.snapshot();
                warn_restart_only(&current.config, &config);
                Snapshot::build(config, self.versions.load(Relaxed) + 1)
            });
        match result {
            Ok(snapshot) => {
                let version = snapshot.version;
                self.versions.store(version, Relaxed);
                self.snapshot.store(Arc::new(snapshot));
                self.metrics.config_reloads.fetch_add(1, Relaxed);
                tracing::info!(version, "configuration reloaded");
                Ok(version)
            }
            Err(error) => {
                self.metrics.config_reload_failures.fetch_add(1, Relaxed);
                tracing::error!(%error, "configuration reload refused; keeping the last good configuration");
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
}
