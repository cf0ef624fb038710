//! Appending and replaying in one process: order, batching, rolls, stats, input checks.

use crate::support::{drain, frame, options, record, records, segment_files};
use spool::{Spool, SpoolError, SpoolOptions, MAX_RECORD_BYTES};

#[test]
fn round_trip_returns_every_record_then_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::open(dir.path(), options(1 << 20)).unwrap();
    let first = records(0..3, 40);
    let second = vec![Vec::new(), record(3, 500)];
    spool.append_batch(&first).unwrap();
    spool.append_batch(&second).unwrap();

    let stats = spool.stats();
    assert_eq!(stats.records_pending, 5);
    assert_eq!(stats.segments, 1);
    assert_eq!(stats.bytes, 3 * frame(40) + frame(0) + frame(500));

    let got = drain(&mut spool);
    assert_eq!(got, [first, second].concat());
    assert_eq!(spool.stats().records_pending, 0);
    assert_eq!(spool.stats().segments, 0);
    assert!(
        segment_files(dir.path()).is_empty(),
        "acked segments are deleted"
    );
    assert!(spool.replay().unwrap().is_empty());
}

#[test]
fn order_is_preserved_across_segment_rolls_and_batches() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(10 * frame(100));
    opts.replay_max_records = 7;
    let mut spool = Spool::open(dir.path(), opts).unwrap();
    for start in (0..250).step_by(25) {
        spool
            .append_batch(&records(start..start + 25, 100))
            .unwrap();
    }
    assert_eq!(spool.stats().segments, 25, "rolled every 10 records");
    assert_eq!(segment_files(dir.path()).len(), 25);

    let mut batches = 0;
    let mut got = Vec::new();
    loop {
        let batch = spool.replay().unwrap();
        if batch.is_empty() {
            break;
        }
        assert!(batch.records.len() <= 7);
        batches += 1;
        got.extend(batch.records);
        spool.ack(batch.cursor).unwrap();
        assert_eq!(spool.stats().records_pending, 250 - got.len() as u64);
    }
    assert_eq!(got, records(0..250, 100));
    assert_eq!(batches, 250_usize.div_ceil(7));
}

#[test]
fn replay_byte_budget_bounds_a_batch_but_always_makes_progress() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(1 << 20);
    opts.replay_max_bytes = 250;
    let mut spool = Spool::open(dir.path(), opts).unwrap();
    spool
        .append_batch(&[
            record(0, 100),
            record(1, 100),
            record(2, 1000),
            record(3, 10),
        ])
        .unwrap();
    let sizes: Vec<usize> = std::iter::from_fn(|| {
        let batch = spool.replay().unwrap();
        if batch.is_empty() {
            return None;
        }
        spool.ack(batch.cursor).unwrap();
        Some(batch.records.len())
    })
    .collect();
    assert_eq!(sizes, [2, 1, 1], "the 1000-byte record comes alone");
}

#[test]
fn replay_without_ack_returns_the_same_batch_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(1 << 20);
    opts.replay_max_records = 4;
    let mut spool = Spool::open(dir.path(), opts).unwrap();
    spool.append_batch(&records(0..10, 50)).unwrap();
    let first = spool.replay().unwrap();
    let again = spool.replay().unwrap();
    assert_eq!(first.records, records(0..4, 50));
    assert_eq!(
        again.records, first.records,
        "an insert that failed is retried"
    );
    assert_eq!(
        spool.stats().records_pending,
        10,
        "nothing forgotten before ack"
    );
    spool.ack(again.cursor).unwrap();
    spool.ack(first.cursor).unwrap(); // the same cursor twice is harmless
    assert_eq!(drain(&mut spool), records(4..10, 50));
}

#[test]
fn records_appended_during_replay_go_to_newer_segments_and_come_after() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(1 << 20);
    opts.replay_max_records = 3;
    let mut spool = Spool::open(dir.path(), opts).unwrap();
    spool.append_batch(&records(0..5, 30)).unwrap();
    let files_before = segment_files(dir.path());
    assert_eq!(files_before.len(), 1);

    let batch = spool.replay().unwrap();
    spool.append_batch(&records(5..8, 30)).unwrap();
    let files = segment_files(dir.path());
    assert_eq!(files.len(), 2, "replay sealed the segment it reads");
    assert_eq!(files[0], files_before[0]);
    assert_eq!(batch.records, records(0..3, 30));
    spool.ack(batch.cursor).unwrap();

    assert_eq!(drain(&mut spool), records(3..8, 30));
}

#[test]
fn a_record_larger_than_a_segment_gets_a_segment_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::open(dir.path(), options(200)).unwrap();
    let batch = vec![record(0, 50), record(1, 5_000), record(2, 50)];
    spool.append_batch(&batch).unwrap();
    assert_eq!(spool.stats().segments, 3);
    assert_eq!(drain(&mut spool), batch);
}

#[test]
fn bad_input_is_rejected_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::open(dir.path(), options(1 << 20)).unwrap();
    let too_big = vec![0u8; MAX_RECORD_BYTES as usize + 1];
    let err = spool
        .append_batch(&[record(0, 10), too_big])
        .expect_err("oversized record");
    assert!(matches!(err, SpoolError::RecordTooLarge { .. }), "{err}");
    assert_eq!(spool.stats().records_pending, 0, "all or nothing");

    let none: [&[u8]; 0] = [];
    assert_eq!(spool.append_batch(&none).unwrap(), Default::default());
    assert_eq!(spool.stats().segments, 0);

    let zero_segment = SpoolOptions {
        segment_bytes: 0,
        ..SpoolOptions::default()
    };
    let other = tempfile::tempdir().unwrap();
    let err = Spool::open(other.path(), zero_segment).expect_err("invalid options");
    assert!(matches!(err, SpoolError::InvalidOptions(_)), "{err}");
}

#[test]
fn a_second_spool_on_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), options(1 << 20)).unwrap();
    let err = Spool::open(dir.path(), options(1 << 20)).expect_err("locked");
    assert!(matches!(err, SpoolError::Locked { .. }), "{err}");
    drop(spool);
    Spool::open(dir.path(), options(1 << 20)).expect("lock released on drop");
}

#[cfg(unix)]
#[test]
fn directory_is_0700_and_files_0600() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("state/spool");
    let mut opts = options(1 << 20);
    opts.replay_max_records = 1;
    let mut spool = Spool::open(&dir, opts).unwrap();
    spool.append_batch(&records(0..3, 10)).unwrap();
    let batch = spool.replay().unwrap();
    spool.ack(batch.cursor).unwrap(); // writes the cursor file

    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
        files += 1;
    }
    assert_eq!(files, 3, "segment, lock and cursor");
}

#[test]
fn a_spool_can_move_to_a_blocking_task() {
    fn assert_send<T: Send + 'static>() {}
    assert_send::<Spool>();
    assert_send::<spool::Replay>();
    assert_send::<SpoolError>();
}
