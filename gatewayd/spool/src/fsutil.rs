//! Filesystem helpers that keep the spool private and durable: the directory is 0700, every
//! file 0600, and directory entries are fsynced after files appear, move or go away.
//!
//! Events carry user names, hosts and paths: nothing here may ever create a file that another
//! local user can read.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io;
use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

use crate::error::SpoolError;

/// Creates `dir` (and missing parents) as 0700, and narrows an existing one to 0700.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), SpoolError> {
    let mut builder = DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder
        .create(dir)
        .map_err(SpoolError::io("create directory", dir))?;
    #[cfg(unix)]
    {
        let meta = std::fs::metadata(dir).map_err(SpoolError::io("stat directory", dir))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode != 0o700 {
            tracing::warn!(
                path = %dir.display(),
                mode = format_args!("{mode:o}"),
                "spool directory was not private; setting it to 0700"
            );
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(SpoolError::io("chmod directory", dir))?;
        }
    }
    Ok(())
}

/// Open options that create files as 0600.
pub(crate) fn private_file() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    options.mode(0o600);
    options
}

/// Makes the directory's entries (created, renamed, removed files) durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), SpoolError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(SpoolError::io("fsync directory", dir))
}

/// Removes a file; one that is already gone counts as removed.
pub(crate) fn remove_file(path: &Path) -> Result<(), SpoolError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(SpoolError::Io {
            op: "remove",
            path: path.to_path_buf(),
            source: e,
        }),
    }
}

/// Takes the exclusive advisory lock that keeps two spools off one directory. The lock is
/// held as long as the returned file is open.
pub(crate) fn lock_dir(dir: &Path) -> Result<File, SpoolError> {
    let path = dir.join(LOCK_FILE);
    let file = private_file()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(SpoolError::io("open lock file", &path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(SpoolError::Locked {
            path: dir.to_path_buf(),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(SpoolError::Io {
            op: "lock",
            path,
            source: e,
        }),
    }
}

/// Name of the lock file inside the spool directory.
pub(crate) const LOCK_FILE: &str = "spool.lock";
