//! Noticing that a state file was rewritten: its identity (inode, length, modification time)
//! read with one `stat`. Writes in the state dir are atomic renames, so a rewrite always
//! changes the inode.

use std::path::Path;
use std::time::SystemTime;

/// A file's identity at one moment; `None` when it does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    inode: u64,
    len: u64,
    modified: Option<SystemTime>,
}

impl Stamp {
    pub fn of(path: &Path) -> Option<Self> {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|m| Self {
            inode: m.ino(),
            len: m.len(),
            modified: m.modified().ok(),
        })
    }
}
