//! A full spool: `DropOldest` keeps the newest records and says what it dropped, `Refuse`
//! writes nothing and says `Full`.

use crate::support::{drain, frame, options, records};
use spool::{AppendOutcome, Spool, SpoolError, WhenFull};

/// 10 records of 100 bytes per segment, room for 5 segments.
fn small(when_full: WhenFull) -> spool::SpoolOptions {
    let mut opts = options(10 * frame(100));
    opts.max_bytes = 50 * frame(100);
    opts.when_full = when_full;
    opts
}

#[test]
fn drop_oldest_keeps_the_newest_and_reports_what_it_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::open(dir.path(), small(WhenFull::DropOldest)).unwrap();
    let mut dropped = AppendOutcome::default();
    for start in (0..80).step_by(10) {
        let outcome = spool
            .append_batch(&records(start..start + 10, 100))
            .unwrap();
        dropped.dropped_records += outcome.dropped_records;
        dropped.dropped_segments += outcome.dropped_segments;
        assert!(spool.stats().bytes <= 50 * frame(100), "bounded");
    }
    assert_eq!(
        dropped,
        AppendOutcome {
            dropped_records: 30,
            dropped_segments: 3
        }
    );
    assert_eq!(spool.stats().records_pending, 50);
    assert_eq!(
        drain(&mut spool),
        records(30..80, 100),
        "the newest survive"
    );
}

#[test]
fn drop_oldest_counts_only_unacked_records_of_a_partly_acked_segment() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = small(WhenFull::DropOldest);
    opts.replay_max_records = 4;
    let mut spool = Spool::open(dir.path(), opts).unwrap();
    spool.append_batch(&records(0..50, 100)).unwrap();
    let batch = spool.replay().unwrap();
    spool.ack(batch.cursor).unwrap();
    let stale = spool.replay().unwrap(); // records 4..8, not acked yet

    let outcome = spool.append_batch(&records(50..55, 100)).unwrap();
    assert_eq!(
        outcome,
        AppendOutcome {
            dropped_records: 6,
            dropped_segments: 1
        }
    );
    // The caller inserts the stale batch and acks it: its segment is gone, nothing breaks.
    spool.ack(stale.cursor).unwrap();
    assert_eq!(spool.stats().records_pending, 45);
    assert_eq!(drain(&mut spool), records(10..55, 100));
}

#[test]
fn refuse_returns_full_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = small(WhenFull::Refuse);
    opts.replay_max_records = 10;
    let mut spool = Spool::open(dir.path(), opts).unwrap();
    spool.append_batch(&records(0..45, 100)).unwrap();
    let before = spool.stats();
    let err = spool
        .append_batch(&records(45..55, 100))
        .expect_err("does not fit");
    match err {
        SpoolError::Full {
            needed,
            used,
            max_bytes,
        } => {
            assert_eq!(needed, 10 * frame(100));
            assert_eq!(used, 45 * frame(100));
            assert_eq!(max_bytes, 50 * frame(100));
        }
        other => panic!("expected Full, got {other}"),
    }
    assert_eq!(spool.stats(), before, "nothing written");

    // Back-pressure released: once a segment is replayed and acked, the batch fits.
    let batch = spool.replay().unwrap();
    spool.ack(batch.cursor).unwrap();
    spool.append_batch(&records(45..55, 100)).unwrap();
    assert_eq!(drain(&mut spool), records(10..55, 100));
}

#[test]
fn a_batch_larger_than_the_whole_spool_is_refused_under_either_policy() {
    for when_full in [WhenFull::DropOldest, WhenFull::Refuse] {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path(), small(when_full)).unwrap();
        spool.append_batch(&records(0..5, 100)).unwrap();
        let err = spool
            .append_batch(&records(0..51, 100))
            .expect_err("never fits");
        assert!(matches!(err, SpoolError::BatchTooLarge { .. }), "{err}");
        assert_eq!(
            spool.stats().records_pending,
            5,
            "{when_full:?}: nothing dropped"
        );
    }
}
