//! One segment file of the spool: its name, what is known about its contents, and the scan
//! that recovers it on open (counting records, truncating a torn tail, finding corruption).
//!
//! The scan must never lose a readable record and never trust a length field: it reads
//! frame by frame with the bounded [`FrameReader`].

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::error::{SkipReason, SpoolError};
use crate::frame::{FrameReader, HeaderRead, PayloadRead};
use crate::options::FsyncPolicy;

const SUFFIX: &str = ".seg";
const SEQ_DIGITS: usize = 20;
pub(crate) const READ_BUFFER: usize = 256 * 1024;

/// The file name of segment `seq`: 20 zero-padded digits, so names sort like numbers.
pub(crate) fn file_name(seq: u64) -> String {
    format!("{seq:0width$}{SUFFIX}", width = SEQ_DIGITS)
}

fn parse_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(SUFFIX)?;
    if digits.len() != SEQ_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The segments in `dir`, oldest first.
pub(crate) fn list(dir: &Path) -> Result<Vec<(u64, PathBuf)>, SpoolError> {
    let mut found = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(SpoolError::io("list", dir))?;
    for entry in entries {
        let entry = entry.map_err(SpoolError::io("list", dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.ends_with(SUFFIX) {
            continue;
        }
        match parse_name(name) {
            Some(seq) => found.push((seq, entry.path())),
            None => tracing::warn!(file = name, "ignoring a .seg file with a foreign name"),
        }
    }
    found.sort_unstable_by_key(|(seq, _)| *seq);
    Ok(found)
}

/// What the spool knows about one segment file.
#[derive(Debug, Clone)]
pub(crate) struct SegmentMeta {
    pub seq: u64,
    pub path: PathBuf,
    /// Bytes of the file on disk (what counts against `max_bytes`).
    pub len: u64,
    /// Readable records, all before `readable_end`.
    pub records: u64,
    /// Where readable frames end: `len`, or the offset of the first corrupt frame.
    pub readable_end: u64,
    /// Set when the bytes from `readable_end` on are unreadable.
    pub corrupt: Option<SkipReason>,
    /// False only for the segment the writer is appending to.
    pub sealed: bool,
}

impl SegmentMeta {
    pub(crate) fn new_active(seq: u64, path: PathBuf) -> Self {
        SegmentMeta {
            seq,
            path,
            len: 0,
            records: 0,
            readable_end: 0,
            corrupt: None,
            sealed: false,
        }
    }

    /// Marks everything from `offset` on as unreadable, `records` records remaining before it.
    pub(crate) fn mark_corrupt(&mut self, offset: u64, records: u64, reason: SkipReason) {
        self.readable_end = offset;
        self.records = records;
        self.corrupt = Some(reason);
    }
}

/// The result of scanning a segment on open.
pub(crate) struct Recovered {
    pub meta: SegmentMeta,
    /// Records before `target`, when `target` is a frame boundary in the readable part.
    pub records_before_target: Option<u64>,
}

/// Scans segment `seq` at `path`: counts its readable records, truncates a torn tail (a
/// partial last frame, or a zero-filled tail left by a crash) and finds mid-file corruption.
pub(crate) fn recover(
    seq: u64,
    path: &Path,
    target: Option<u64>,
    fsync: FsyncPolicy,
) -> Result<Recovered, SpoolError> {
    let mut file = crate::fsutil::private_file()
        .read(true)
        .write(true)
        .open(path)
        .map_err(SpoolError::io("open", path))?;
    let len = file.metadata().map_err(SpoolError::io("stat", path))?.len();
    let scan = scan(&file, path, target)?;
    let mut meta = SegmentMeta {
        seq,
        path: path.to_path_buf(),
        len,
        records: scan.records,
        readable_end: scan.end,
        corrupt: None,
        sealed: true,
    };
    match scan.stop {
        Stop::End => {}
        Stop::Torn => truncate_tail(&mut file, &mut meta, fsync, "partial record")?,
        Stop::Corrupt(reason) => {
            if rest_is_zero(&mut file, scan.end).map_err(SpoolError::io("read", path))? {
                truncate_tail(&mut file, &mut meta, fsync, "zero-filled tail")?;
            } else {
                tracing::error!(
                    path = %path.display(),
                    offset = scan.end,
                    reason = %reason,
                    readable_records = scan.records,
                    "spool segment is corrupt; the rest of it will be skipped on replay"
                );
                meta.corrupt = Some(reason);
            }
        }
    }
    Ok(Recovered {
        meta,
        records_before_target: scan.records_before_target,
    })
}

enum Stop {
    End,
    Torn,
    Corrupt(SkipReason),
}

struct Scan {
    records: u64,
    /// Offset just past the last good frame.
    end: u64,
    stop: Stop,
    records_before_target: Option<u64>,
}

fn scan(file: &File, path: &Path, target: Option<u64>) -> Result<Scan, SpoolError> {
    let mut reader = FrameReader::new(BufReader::with_capacity(READ_BUFFER, file), 0);
    let mut buf = Vec::new();
    let mut records = 0u64;
    let mut records_before_target = None;
    let read_err = SpoolError::io("read", path);
    let stop = loop {
        let start = reader.offset();
        if target == Some(start) {
            records_before_target = Some(records);
        }
        let header = match reader.read_header() {
            Ok(h) => h,
            Err(e) => return Err(read_err(e)),
        };
        let header = match header {
            HeaderRead::Frame(h) => h,
            HeaderRead::End => break (Stop::End, start),
            HeaderRead::Torn => break (Stop::Torn, start),
            HeaderRead::Corrupt(reason) => break (Stop::Corrupt(reason), start),
        };
        match reader.read_payload(header, &mut buf) {
            Ok(PayloadRead::Complete) => records += 1,
            Ok(PayloadRead::Torn) => break (Stop::Torn, start),
            Ok(PayloadRead::Corrupt(reason)) => break (Stop::Corrupt(reason), start),
            Err(e) => return Err(read_err(e)),
        }
    };
    let (stop, end) = stop;
    Ok(Scan {
        records,
        end,
        stop,
        records_before_target,
    })
}

fn truncate_tail(
    file: &mut File,
    meta: &mut SegmentMeta,
    fsync: FsyncPolicy,
    what: &str,
) -> Result<(), SpoolError> {
    tracing::warn!(
        path = %meta.path.display(),
        offset = meta.readable_end,
        bytes = meta.len - meta.readable_end,
        what,
        "truncating the torn tail of a spool segment (an interrupted write)"
    );
    file.set_len(meta.readable_end)
        .map_err(SpoolError::io("truncate", &meta.path))?;
    if fsync != FsyncPolicy::Never {
        file.sync_all()
            .map_err(SpoolError::io("fsync", &meta.path))?;
    }
    meta.len = meta.readable_end;
    Ok(())
}

/// Whether every byte from `from` to the end of the file is zero.
fn rest_is_zero(file: &mut File, from: u64) -> std::io::Result<bool> {
    file.seek(SeekFrom::Start(from))?;
    let mut reader = BufReader::with_capacity(READ_BUFFER, file);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => return Ok(true),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk[..n].iter().any(|&b| b != 0) {
            return Ok(false);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn names_sort_numerically_and_parse_back() {
        assert_eq!(file_name(42), "00000000000000000042.seg");
        assert_eq!(parse_name(&file_name(u64::MAX)), Some(u64::MAX));
        assert_eq!(parse_name("42.seg"), None);
        assert_eq!(parse_name("0000000000000000004x.seg"), None);
        assert_eq!(parse_name("ack.cursor"), None);
    }
}
