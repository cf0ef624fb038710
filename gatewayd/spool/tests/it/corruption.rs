//! Damaged segments: torn tails are truncated on open, corruption inside a segment skips the
//! rest of that segment with an error and the remaining segments are replayed.

use crate::support::{
    append_raw, drain, flip_byte, frame, options, overwrite, records, segment_files,
};
use spool::{SkipReason, Spool, HEADER_LEN, MAGIC_V1, MAX_RECORD_BYTES};

#[test]
fn torn_tail_is_truncated_on_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut spool = Spool::open(dir.path(), options(1 << 20)).unwrap();
        spool.append_batch(&records(0..5, 50)).unwrap();
    }
    let seg = &segment_files(dir.path())[0];
    let good = std::fs::metadata(seg).unwrap().len();
    // Half a header, as a crash in the middle of a write leaves it.
    append_raw(seg, &[MAGIC_V1, 0x40, 0x00]);
    let mut spool = Spool::open(dir.path(), options(1 << 20)).unwrap();
    assert_eq!(std::fs::metadata(seg).unwrap().len(), good, "tail cut");
    assert_eq!(spool.stats().records_pending, 5);
    assert_eq!(drain(&mut spool), records(0..5, 50));
}

#[test]
fn torn_payload_and_zero_filled_tails_are_truncated_too() {
    for tail in [TornTail::Payload, TornTail::Zeros] {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut spool = Spool::open(dir.path(), options(1 << 20)).unwrap();
            spool.append_batch(&records(0..5, 50)).unwrap();
        }
        let seg = &segment_files(dir.path())[0];
        let good = std::fs::metadata(seg).unwrap().len();
        match tail {
            // The last record's frame minus its last 7 bytes, written again after the good ones.
            TornTail::Payload => {
                let bytes = std::fs::read(seg).unwrap();
                let last = &bytes[bytes.len() - frame(50) as usize..bytes.len() - 7];
                append_raw(seg, last);
            }
            // Delayed allocation after a power loss: the size grew, the data never arrived.
            TornTail::Zeros => append_raw(seg, &[0u8; 4096]),
        }
        let mut spool = Spool::open(dir.path(), options(1 << 20)).unwrap();
        assert_eq!(std::fs::metadata(seg).unwrap().len(), good, "{tail:?}");
        let batch = spool.replay().unwrap();
        assert!(
            batch.skipped.is_empty(),
            "{tail:?}: a torn tail is not corruption"
        );
        assert_eq!(batch.records, records(0..5, 50));
    }
}

#[derive(Debug, Clone, Copy)]
enum TornTail {
    Payload,
    Zeros,
}

/// Three segments of 10 records each (records 0..30, 100 bytes each).
fn three_segments(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut spool = Spool::open(dir, options(10 * frame(100))).unwrap();
    spool.append_batch(&records(0..30, 100)).unwrap();
    drop(spool);
    let files = segment_files(dir);
    assert_eq!(files.len(), 3);
    files
}

#[test]
fn a_flipped_byte_skips_the_rest_of_that_segment_and_replays_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let files = three_segments(dir.path());
    // Inside the payload of the 5th record of the middle segment.
    let offset = 4 * frame(100);
    flip_byte(&files[1], offset + HEADER_LEN as u64 + 30, 0x04);

    let mut spool = Spool::open(dir.path(), options(1 << 20)).unwrap();
    assert_eq!(
        spool.stats().records_pending,
        24,
        "unreadable records are not pending"
    );
    let batch = spool.replay().unwrap();
    assert_eq!(
        batch.records,
        [records(0..14, 100), records(20..30, 100)].concat(),
        "everything readable, in order"
    );
    assert_eq!(batch.skipped.len(), 1);
    let skipped = &batch.skipped[0];
    assert_eq!(skipped.path, files[1]);
    assert_eq!(skipped.offset, offset);
    assert!(
        matches!(skipped.reason, SkipReason::ChecksumMismatch { .. }),
        "{skipped}"
    );
    assert!(
        skipped.to_string().contains("checksum mismatch"),
        "{skipped}"
    );
    spool.ack(batch.cursor).unwrap();
    assert!(
        segment_files(dir.path()).is_empty(),
        "the corrupt segment goes with the ack"
    );
    assert!(spool.replay().unwrap().is_empty());
}

#[test]
fn a_huge_length_field_is_corruption_not_an_allocation() {
    let dir = tempfile::tempdir().unwrap();
    let files = three_segments(dir.path());
    // The length of the 3rd record of the first segment claims 4 GiB.
    let offset = 2 * frame(100);
    overwrite(&files[0], offset + 1, &0xFFFF_FFF0u32.to_le_bytes());
    let mut spool = Spool::open(dir.path(), options(1 << 20)).unwrap();
    let batch = spool.replay().unwrap();
    assert_eq!(
        batch.records,
        [records(0..2, 100), records(10..30, 100)].concat()
    );
    assert_eq!(batch.skipped.len(), 1);
    assert_eq!(batch.skipped[0].offset, offset);
    assert_eq!(
        batch.skipped[0].reason,
        SkipReason::LengthTooLarge {
            len: 0xFFFF_FFF0,
            max: MAX_RECORD_BYTES
        }
    );
}

#[test]
fn a_bad_magic_byte_in_the_middle_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let files = three_segments(dir.path());
    overwrite(&files[2], 0, &[0x42]);
    let mut spool = Spool::open(dir.path(), options(1 << 20)).unwrap();
    let batch = spool.replay().unwrap();
    assert_eq!(batch.records, records(0..20, 100));
    assert_eq!(batch.skipped.len(), 1);
    assert!(matches!(
        batch.skipped[0].reason,
        SkipReason::BadMagic { found: 0x42, .. }
    ));
}

#[test]
fn corruption_that_appears_after_open_is_found_while_replaying() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(1 << 20);
    opts.replay_max_records = 2;
    let mut spool = Spool::open(dir.path(), opts).unwrap();
    spool.append_batch(&records(0..6, 40)).unwrap();
    let first = spool.replay().unwrap(); // seals the segment
    let seg = &segment_files(dir.path())[0];
    flip_byte(seg, 3 * frame(40) + HEADER_LEN as u64, 0xFF);

    assert_eq!(first.records, records(0..2, 40));
    spool.ack(first.cursor).unwrap();
    let batch = spool.replay().unwrap();
    assert_eq!(batch.records, records(2..3, 40));
    assert_eq!(batch.skipped.len(), 1);
    assert_eq!(batch.skipped[0].offset, 3 * frame(40));
    assert_eq!(spool.stats().records_pending, 1);
    spool.ack(batch.cursor).unwrap();
    assert_eq!(spool.stats().records_pending, 0);
    assert!(spool.replay().unwrap().is_empty());
}

#[test]
fn corruption_right_at_the_ack_position_is_still_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(1 << 20);
    opts.replay_max_records = 3;
    {
        let mut spool = Spool::open(dir.path(), opts.clone()).unwrap();
        spool.append_batch(&records(0..6, 40)).unwrap();
        let batch = spool.replay().unwrap();
        spool.ack(batch.cursor).unwrap();
    }
    let seg = segment_files(dir.path())[0].clone();
    flip_byte(&seg, 3 * frame(40) + HEADER_LEN as u64 + 1, 0x01);
    let mut spool = Spool::open(dir.path(), opts).unwrap();
    assert_eq!(spool.stats().records_pending, 0);
    let batch = spool.replay().unwrap();
    assert!(batch.records.is_empty());
    assert_eq!(batch.skipped.len(), 1, "the loss is reported, not silent");
    assert_eq!(batch.skipped[0].offset, 3 * frame(40));
    spool.ack(batch.cursor).unwrap();
    assert!(segment_files(dir.path()).is_empty());
}
