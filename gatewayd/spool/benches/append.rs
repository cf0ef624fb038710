//! Append throughput of the spool: 10,000 records of 600 bytes per `append_batch`, the shape
//! of one event-writer batch spooled while ClickHouse is down. `EveryBatch` is the default
//! policy; `Never` is the baseline measured in the same run (the cost of fsync is the ratio).
//!
//! Runs in a temporary directory under `SPOOL_BENCH_DIR` (default: the system temp dir; make
//! sure it is a real disk, not tmpfs, or fsync costs nothing).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use spool::{FsyncPolicy, Spool, SpoolOptions, WhenFull};

const RECORDS: usize = 10_000;
const RECORD_BYTES: usize = 600;

fn batch() -> Vec<Vec<u8>> {
    (0..RECORDS)
        .map(|i| {
            let mut r = format!("{{\"request_id\":\"{i:032}\",\"host\":\"chat.example.com\"}}")
                .into_bytes();
            r.resize(RECORD_BYTES, b'x');
            r
        })
        .collect()
}

fn append(c: &mut Criterion) {
    let base = std::env::var_os("SPOOL_BENCH_DIR").map(std::path::PathBuf::from);
    let records = batch();
    let mut group = c.benchmark_group("spool_append_10k_x_600B");
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(10));
    for (name, fsync) in [
        ("every_batch", FsyncPolicy::EveryBatch),
        ("never", FsyncPolicy::Never),
    ] {
        let dir = match &base {
            Some(b) => tempfile::tempdir_in(b).unwrap(),
            None => tempfile::tempdir().unwrap(),
        };
        let options = SpoolOptions {
            // Steady state of a full spool: old segments are dropped as new ones are written.
            max_bytes: 512 * 1024 * 1024,
            segment_bytes: 64 * 1024 * 1024,
            fsync,
            when_full: WhenFull::DropOldest,
            ..SpoolOptions::default()
        };
        let mut spool = Spool::open(&dir.path().join("spool"), options).unwrap();
        group.bench_function(name, |b| {
            b.iter(|| spool.append_batch(&records).unwrap());
        });
    }
    group.finish();
}

criterion_group!(benches, append);
criterion_main!(benches);
