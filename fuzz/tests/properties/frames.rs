//! Framed byte streams: the events spool's segment files and client WebSocket frames.

use proptest::prelude::*;
use warden_fuzz::spool_frames::{crc32, spool_frames};
use warden_fuzz::websocket_frames::{websocket_frames, REFUSED};

use crate::mutate::damaged_from;

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = vec![spool::MAGIC_V1];
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

fn payloads() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..12)
}

/// One client frame: opcode, FIN, optional mask, any of the three length encodings.
fn ws_frame() -> impl Strategy<Value = Vec<u8>> {
    let payload = prop_oneof![
        "[a-z ]{0,40}".prop_map(String::into_bytes),
        Just(REFUSED.as_bytes().to_vec()),
        Just(b"sec".to_vec()),
        Just(b"ret".to_vec()),
        prop::collection::vec(any::<u8>(), 0..300),
    ];
    (
        prop::sample::select(&[0u8, 1, 2, 8, 9, 10, 3][..]),
        any::<bool>(),
        prop::option::of(any::<[u8; 4]>()),
        payload,
        any::<bool>(),
    )
        .prop_map(|(opcode, fin, mask, payload, long_form)| {
            let mut out = vec![if fin { 0x80 } else { 0 } | opcode];
            let m = if mask.is_some() { 0x80 } else { 0 };
            match payload.len() {
                n if n < 126 && !long_form => out.push(m | n as u8),
                n if n <= 0xffff => {
                    out.push(m | 126);
                    out.extend_from_slice(&(n as u16).to_be_bytes());
                }
                n => {
                    out.push(m | 127);
                    out.extend_from_slice(&(n as u64).to_be_bytes());
                }
            }
            match mask {
                Some(mask) => {
                    out.extend_from_slice(&mask);
                    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
                }
                None => out.extend(payload),
            }
            out
        })
}

proptest! {
    #![proptest_config(crate::config(256))]

    #[test]
    fn replay_returns_only_whole_checked_frames_of_a_damaged_segment(
        (payloads, segment) in payloads().prop_flat_map(|payloads| {
            let file: Vec<u8> = payloads.iter().flat_map(|p| frame(p)).collect();
            (Just(payloads), damaged_from(Just(file)))
        }),
    ) {
        let intact = payloads.iter().flat_map(|p| frame(p)).collect::<Vec<u8>>() == segment;
        let records = spool_frames(&segment);
        if intact {
            prop_assert_eq!(records, payloads);
        }
    }

    #[test]
    fn a_client_frame_stream_never_forwards_a_refused_message(
        stream in damaged_from(
            prop::collection::vec(ws_frame(), 0..8).prop_map(|frames| frames.concat()),
        ),
    ) {
        websocket_frames(&stream);
    }
}
