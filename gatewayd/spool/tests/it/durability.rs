//! Restarts: what was acked never comes back, what was not always does, under every fsync
//! policy.

use crate::support::{drain, options, records, segment_files};
use spool::{FsyncPolicy, Spool};

#[test]
fn restart_replays_everything_not_acked_exactly_once_per_ack() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(1_000);
    opts.replay_max_records = 6;
    {
        let mut spool = Spool::open(dir.path(), opts.clone()).unwrap();
        spool.append_batch(&records(0..40, 60)).unwrap();
        let batch = spool.replay().unwrap();
        assert_eq!(batch.records, records(0..6, 60));
        spool.ack(batch.cursor).unwrap();
        let batch = spool.replay().unwrap();
        assert_eq!(batch.records, records(6..12, 60));
        spool.ack(batch.cursor).unwrap();
        // Inserted but the process dies before the ack: this batch comes back.
        let batch = spool.replay().unwrap();
        assert_eq!(batch.records, records(12..18, 60));
    }
    {
        let mut spool = Spool::open(dir.path(), opts.clone()).unwrap();
        assert_eq!(spool.stats().records_pending, 28, "counted exactly on open");
        let batch = spool.replay().unwrap();
        assert_eq!(
            batch.records,
            records(12..18, 60),
            "unacked batch replayed again"
        );
        spool.ack(batch.cursor).unwrap();
        spool.append_batch(&records(40..45, 60)).unwrap();
    }
    let mut spool = Spool::open(dir.path(), opts.clone()).unwrap();
    assert_eq!(spool.stats().records_pending, 27);
    assert_eq!(drain(&mut spool), records(18..45, 60));
    drop(spool);

    let mut spool = Spool::open(dir.path(), opts).unwrap();
    assert_eq!(spool.stats().records_pending, 0);
    assert!(
        spool.replay().unwrap().is_empty(),
        "acked records never return"
    );
    assert!(segment_files(dir.path()).is_empty());
}

#[test]
fn sequence_numbers_are_not_reused_after_everything_is_acked() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(1 << 20);
    opts.replay_max_records = 2;
    {
        let mut spool = Spool::open(dir.path(), opts.clone()).unwrap();
        spool.append_batch(&records(0..3, 20)).unwrap();
        let batch = spool.replay().unwrap();
        spool.ack(batch.cursor).unwrap(); // cursor stored mid-segment 1
        let batch = spool.replay().unwrap();
        spool.ack(batch.cursor).unwrap(); // segment 1 deleted
    }
    // A new segment must not be mistaken for the old, partly acked one.
    let mut spool = Spool::open(dir.path(), opts.clone()).unwrap();
    spool.append_batch(&records(10..13, 20)).unwrap();
    drop(spool);
    let mut spool = Spool::open(dir.path(), opts).unwrap();
    assert_eq!(drain(&mut spool), records(10..13, 20));
}

#[test]
fn every_fsync_policy_round_trips_across_a_restart() {
    for fsync in [
        FsyncPolicy::Always,
        FsyncPolicy::EveryBatch,
        FsyncPolicy::Never,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = options(2_000);
        opts.fsync = fsync;
        opts.replay_max_records = 9;
        {
            let mut spool = Spool::open(dir.path(), opts.clone()).unwrap();
            for start in (0..60).step_by(20) {
                spool.append_batch(&records(start..start + 20, 90)).unwrap();
            }
            let batch = spool.replay().unwrap();
            spool.ack(batch.cursor).unwrap();
        }
        let mut spool = Spool::open(dir.path(), opts).unwrap();
        assert_eq!(spool.stats().records_pending, 51, "{fsync:?}");
        assert_eq!(drain(&mut spool), records(9..60, 90), "{fsync:?}");
    }
}

#[test]
fn a_damaged_cursor_file_replays_from_the_oldest_record() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(1 << 20);
    opts.replay_max_records = 3;
    {
        let mut spool = Spool::open(dir.path(), opts.clone()).unwrap();
        spool.append_batch(&records(0..6, 20)).unwrap();
        let batch = spool.replay().unwrap();
        spool.ack(batch.cursor).unwrap();
    }
    std::fs::write(dir.path().join("ack.cursor"), b"garbage").unwrap();
    let mut spool = Spool::open(dir.path(), opts).unwrap();
    // At-least-once: duplicates rather than loss.
    assert_eq!(drain(&mut spool), records(0..6, 20));
}

#[test]
fn a_cursor_off_a_record_boundary_replays_that_segment_from_its_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(1 << 20);
    opts.replay_max_records = 3;
    {
        let mut spool = Spool::open(dir.path(), opts.clone()).unwrap();
        spool.append_batch(&records(0..6, 20)).unwrap();
        let batch = spool.replay().unwrap();
        spool.ack(batch.cursor).unwrap();
    }
    // A well-formed cursor pointing into the middle of a frame (seq 1, offset 5).
    let mut cursor = Vec::new();
    cursor.extend_from_slice(b"WSPACK01");
    cursor.extend_from_slice(&1u64.to_le_bytes());
    cursor.extend_from_slice(&5u64.to_le_bytes());
    cursor.extend_from_slice(&0u64.to_le_bytes());
    let crc = crc32(&cursor);
    cursor.extend_from_slice(&crc.to_le_bytes());
    std::fs::write(dir.path().join("ack.cursor"), cursor).unwrap();

    let mut spool = Spool::open(dir.path(), opts).unwrap();
    assert_eq!(spool.stats().records_pending, 6);
    assert_eq!(drain(&mut spool), records(0..6, 20));
}

/// CRC-32 (IEEE), bitwise: enough to forge a cursor file without a dev-dependency.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
