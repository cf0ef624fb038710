//! What changed between the configuration in force and a new one, so a reload rebuilds only
//! the parts of the snapshot that depend on it (vector's `ConfigDiff` idea).
//!
//! The policy part (catalog, rules, DLP engine) is rebuilt on every reload: that is what the
//! file watcher's reloads are for, and its files are read fresh each time. The upstream part
//! (pooled client, resolver with the egress policy, root store) keeps its pooled connections
//! unless a section it is built from changed, or one of its extra root files did. It must
//! never keep a part whose inputs changed.

use std::path::PathBuf;
use std::time::SystemTime;

use config::Config;

/// Which parts of the snapshot a reload must build anew.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigDiff {
    /// `[upstream]`, `[timeouts]` or `[egress]` changed, or an `upstream.extra_roots` file.
    pub upstream: bool,
}

impl ConfigDiff {
    /// The parts `new` needs rebuilt, given `old` and the extra root files' stamps when the
    /// upstream part in force was built.
    pub fn between(old: &Config, new: &Config, roots_built_from: &RootStamps) -> Self {
        Self {
            upstream: old.upstream != new.upstream
                || old.timeouts != new.timeouts
                || old.egress != new.egress
                || *roots_built_from != RootStamps::of(&new.upstream.extra_roots),
        }
    }

    /// The rebuilt parts, for the reload's log line.
    pub fn rebuilt(&self) -> &'static str {
        if self.upstream {
            "policy, upstream"
        } else {
            "policy"
        }
    }
}

/// The extra root files and their modification times, to notice a replaced certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootStamps(Vec<(PathBuf, Option<SystemTime>)>);

impl RootStamps {
    pub fn of(paths: &[PathBuf]) -> Self {
        Self(
            paths
                .iter()
                .map(|path| {
                    let stamp = std::fs::metadata(path).and_then(|m| m.modified()).ok();
                    (path.clone(), stamp)
                })
                .collect(),
        )
    }
}
