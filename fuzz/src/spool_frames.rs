//! The events spool's segment files: length + CRC32 frames read back after a crash, whatever
//! a torn write or a bad disk left in them.

use spool::{Spool, SpoolOptions, HEADER_LEN, MAGIC_V1};

/// Plants `segment` as the only segment of a fresh spool, then replays and acks until nothing
/// is pending. Every record replayed is a whole frame of the file with a matching checksum,
/// and replay ends within as many rounds as the file could hold frames.
pub fn spool_frames(segment: &[u8]) -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary directory: {e}"));
    let seg = dir.path().join(format!("{:020}.seg", 1));
    std::fs::write(&seg, segment).unwrap_or_else(|e| panic!("{}: {e}", seg.display()));
    let options = SpoolOptions {
        replay_max_records: 16,
        ..SpoolOptions::default()
    };
    let Ok(mut spool) = Spool::open(dir.path(), options) else {
        return Vec::new();
    };
    let mut records = Vec::new();
    let most_rounds = segment.len() / HEADER_LEN + 2;
    for _ in 0..most_rounds {
        let Ok(replay) = spool.replay() else {
            return records;
        };
        if replay.is_empty() {
            return records;
        }
        for record in &replay.records {
            assert!(
                is_frame_of(segment, record),
                "a record that is no frame of the file"
            );
        }
        records.extend(replay.records);
        if spool.ack(replay.cursor).is_err() {
            return records;
        }
    }
    panic!("replay did not finish in {most_rounds} rounds");
}

/// Whether `segment` holds `record` framed: magic, length, CRC32, payload.
fn is_frame_of(segment: &[u8], record: &[u8]) -> bool {
    let Ok(len) = u32::try_from(record.len()) else {
        return false;
    };
    let mut frame = vec![MAGIC_V1];
    frame.extend_from_slice(&len.to_le_bytes());
    frame.extend_from_slice(&crc32(record).to_le_bytes());
    frame.extend_from_slice(record);
    segment.windows(frame.len()).any(|w| w == frame)
}

/// CRC-32 (IEEE), bit by bit: a reference independent of the spool's own implementation.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
