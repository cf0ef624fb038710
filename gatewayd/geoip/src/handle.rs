//! The database the gateway is using now, replaced when its file changes.
//!
//! Lookups load the current database with one atomic pointer load and never wait for a
//! reload. A reload that fails keeps the last good database: losing geo data must never
//! be the price of a bad download.

use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use arc_swap::ArcSwap;

use crate::error::GeoIpError;
use crate::location::Location;
use crate::reader::{load, GeoIp};

/// A hot-reloadable database; share it behind an `Arc`.
#[derive(Debug)]
pub struct GeoIpHandle {
    path: PathBuf,
    current: ArcSwap<GeoIp>,
    /// What the path looked like at the last reload attempt; also serialises reloads.
    seen: Mutex<Seen>,
}

/// The state of the file at the last poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    File(FileStamp),
    Unreadable,
}

/// Enough of a file's metadata to notice it was rewritten or replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
    /// Device and inode: a rename over the path is a change even when time and size match.
    #[cfg(unix)]
    identity: (u64, u64),
}

impl FileStamp {
    fn of(meta: &fs::Metadata) -> Self {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        Self {
            modified: meta.modified().ok(),
            len: meta.len(),
            #[cfg(unix)]
            identity: (meta.dev(), meta.ino()),
        }
    }
}

impl GeoIpHandle {
    /// Loads the database at `path`; fails when the first load does.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, GeoIpError> {
        let path = path.into();
        let (db, stat) = load(&path)?;
        Ok(Self {
            path,
            current: ArcSwap::from_pointee(db),
            seen: Mutex::new(Seen::File(FileStamp::of(&stat))),
        })
    }

    /// Where `ip` is, according to the current database.
    pub fn lookup(&self, ip: IpAddr) -> Location {
        self.current.load().lookup(ip)
    }

    /// The database in use now (to report its type and build date).
    pub fn current(&self) -> Arc<GeoIp> {
        self.current.load_full()
    }

    /// The file this handle watches.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Polls the file's modification time, size and identity; reloads it when any of them
    /// changed. `Ok(true)` means a new database is now in use.
    ///
    /// When the changed file cannot be loaded (unreadable, invalid), the current database
    /// stays in use and the error is returned, once per change: polling the same broken
    /// file again returns `Ok(false)` until it changes once more.
    pub fn refresh_if_changed(&self) -> Result<bool, GeoIpError> {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let now = match fs::metadata(&self.path) {
            Ok(meta) => Seen::File(FileStamp::of(&meta)),
            Err(source) => {
                let first = *seen != Seen::Unreadable;
                *seen = Seen::Unreadable;
                return if first {
                    Err(GeoIpError::Io {
                        path: self.path.clone(),
                        source,
                    })
                } else {
                    Ok(false)
                };
            }
        };
        if *seen == now {
            return Ok(false);
        }
        match load(&self.path) {
            Ok((db, stat)) => {
                self.current.store(Arc::new(db));
                *seen = Seen::File(FileStamp::of(&stat));
                Ok(true)
            }
            Err(err) => {
                *seen = now;
                Err(err)
            }
        }
    }
}
