//! Helpers shared by the spool's integration tests.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use spool::{FsyncPolicy, Spool, SpoolOptions, WhenFull};

/// Options for tests: small segments so rolls happen, fsync off unless a test asks.
pub fn options(segment_bytes: u64) -> SpoolOptions {
    SpoolOptions {
        max_bytes: 64 * 1024 * 1024,
        segment_bytes,
        fsync: FsyncPolicy::Never,
        when_full: WhenFull::Refuse,
        replay_max_records: 1_000,
        replay_max_bytes: 1024 * 1024,
    }
}

/// A recognisable record: its number, padded to `len` bytes.
pub fn record(n: u64, len: usize) -> Vec<u8> {
    let mut r = format!("event-{n:08}").into_bytes();
    r.resize(len.max(14), b'.');
    r
}

pub fn records(range: std::ops::Range<u64>, len: usize) -> Vec<Vec<u8>> {
    range.map(|n| record(n, len)).collect()
}

/// Replays and acks until nothing is pending; returns the records in order.
pub fn drain(spool: &mut Spool) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let batch = spool.replay().unwrap();
        assert!(
            batch.skipped.is_empty(),
            "unexpected skip: {:?}",
            batch.skipped
        );
        if batch.is_empty() {
            return out;
        }
        out.extend(batch.records);
        spool.ack(batch.cursor).unwrap();
    }
}

/// The segment files in `dir`, oldest first.
pub fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    files.sort();
    files
}

/// XORs the byte at `offset` of `path` with `mask`.
pub fn flip_byte(path: &Path, offset: u64, mask: u8) {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mut byte = [0u8; 1];
    file.seek(SeekFrom::Start(offset)).unwrap();
    file.read_exact(&mut byte).unwrap();
    byte[0] ^= mask;
    file.seek(SeekFrom::Start(offset)).unwrap();
    file.write_all(&byte).unwrap();
}

/// Overwrites bytes at `offset` of `path`.
pub fn overwrite(path: &Path, offset: u64, bytes: &[u8]) {
    let mut file = OpenOptions::new().write(true).open(path).unwrap();
    file.seek(SeekFrom::Start(offset)).unwrap();
    file.write_all(bytes).unwrap();
}

/// Appends raw bytes to the end of `path`.
pub fn append_raw(path: &Path, bytes: &[u8]) {
    let mut file = OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(bytes).unwrap();
}

/// Bytes one record of `len` payload bytes takes on disk.
pub fn frame(len: usize) -> u64 {
    spool::HEADER_LEN as u64 + len as u64
}
