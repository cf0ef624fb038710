//! The append side of the active segment: an open file and its length.
//!
//! A failed write must never leave half a frame behind for a later append to follow: on error
//! the file is cut back to its last good length before the error is returned.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::SpoolError;
use crate::fsutil::{private_file, sync_dir};
use crate::options::FsyncPolicy;
use crate::segment::file_name;

/// The segment file the spool is appending to.
#[derive(Debug)]
pub(crate) struct SegmentWriter {
    pub path: PathBuf,
    file: File,
    /// Bytes successfully written.
    pub len: u64,
}

impl SegmentWriter {
    /// Creates a new, empty segment `seq` in `dir` (never reuses an existing file).
    pub(crate) fn create(dir: &Path, seq: u64, fsync: FsyncPolicy) -> Result<Self, SpoolError> {
        let path = dir.join(file_name(seq));
        let file = private_file()
            // O_APPEND: after a rolled-back failed write, the next write lands at the new end.
            .append(true)
            .create_new(true)
            .open(&path)
            .map_err(SpoolError::io("create segment", &path))?;
        if fsync != FsyncPolicy::Never {
            sync_dir(dir)?;
        }
        Ok(SegmentWriter { path, file, len: 0 })
    }

    /// Appends whole frames. On error the file is cut back to its previous length (when the
    /// cut itself fails, the caller must stop appending to this segment).
    pub(crate) fn write(&mut self, frames: &[u8]) -> Result<(), WriteFailure> {
        match self.file.write_all(frames) {
            Ok(()) => {
                self.len += frames.len() as u64;
                Ok(())
            }
            Err(source) => {
                let rolled_back = self.file.set_len(self.len).is_ok();
                Err(WriteFailure {
                    error: SpoolError::Io {
                        op: "append to",
                        path: self.path.clone(),
                        source,
                    },
                    rolled_back,
                })
            }
        }
    }

    pub(crate) fn sync(&self) -> Result<(), SpoolError> {
        self.file
            .sync_data()
            .map_err(SpoolError::io("fsync", &self.path))
    }
}

/// A write that failed; `rolled_back` says whether the file is back at its last good length.
pub(crate) struct WriteFailure {
    pub error: SpoolError,
    pub rolled_back: bool,
}
