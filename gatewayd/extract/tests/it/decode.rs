//! `decode_content`: every Content-Encoding round trips, chains decode in reverse order, and
//! bombs, oversize output and garbage are refused with the right error, fast.

use std::time::{Duration, Instant};

use extract::{decode_content, ExtractError, Limits};

use crate::fixtures;

const PROMPT: &[u8] =
    b"{\"messages\":[{\"role\":\"user\",\"content\":\"my key is AKIAIOSFODNN7EXAMPLE\"}]}";

fn decode(encoding: &str, body: &[u8]) -> Result<Vec<u8>, ExtractError> {
    decode_content(encoding, body, &Limits::default())
}

#[test]
fn every_encoding_round_trips() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("gzip", fixtures::gzip(PROMPT)),
        ("x-gzip", fixtures::gzip(PROMPT)),
        ("GZIP", fixtures::gzip(PROMPT)),
        ("deflate", fixtures::zlib(PROMPT)),
        ("deflate", fixtures::raw_deflate(PROMPT)),
        ("br", fixtures::brotli(PROMPT)),
        ("zstd", fixtures::zstd(PROMPT)),
        ("identity", PROMPT.to_vec()),
        ("", PROMPT.to_vec()),
    ];
    for (encoding, body) in cases {
        assert_eq!(decode(encoding, &body).unwrap(), PROMPT, "{encoding}");
    }
}

#[test]
fn chains_are_undone_last_first() {
    // `Content-Encoding: gzip, br` means gzip was applied first, then br.
    let body = fixtures::brotli(&fixtures::gzip(PROMPT));
    assert_eq!(decode("gzip, br", &body).unwrap(), PROMPT);
    let body = fixtures::zstd(&fixtures::zlib(PROMPT));
    assert_eq!(decode("deflate,identity, zstd", &body).unwrap(), PROMPT);
}

#[test]
fn concatenated_members_and_frames_all_decode() {
    let mut body = fixtures::gzip(b"first half ");
    body.extend(fixtures::gzip(b"second half"));
    assert_eq!(decode("gzip", &body).unwrap(), b"first half second half");
    let mut body = fixtures::zstd(b"frame one ");
    body.extend(fixtures::zstd(b"frame two"));
    assert_eq!(decode("zstd", &body).unwrap(), b"frame one frame two");
}

#[test]
fn unknown_encoding_is_named() {
    assert_eq!(
        decode("gzip, compress", b"x"),
        Err(ExtractError::UnknownEncoding("compress".into()))
    );
}

#[test]
fn garbage_is_corrupt_not_a_panic() {
    for encoding in ["gzip", "deflate", "br", "zstd"] {
        let err = decode(
            encoding,
            b"this is not compressed at all, not even a little",
        )
        .unwrap_err();
        assert!(
            matches!(err, ExtractError::Corrupt { .. }),
            "{encoding}: {err:?}"
        );
    }
    let mut truncated = fixtures::gzip(&[b'a'; 10_000]);
    truncated.truncate(truncated.len() / 2);
    assert!(matches!(
        decode("gzip", &truncated),
        Err(ExtractError::Corrupt { .. })
    ));
}

#[test]
fn a_gigabyte_gzip_bomb_is_refused_in_well_under_a_second() {
    let body = fixtures::gzip_raw(&fixtures::zeros_deflate(1024));
    assert!(
        body.len() < 2 << 20,
        "the bomb itself is small: {}",
        body.len()
    );
    let started = Instant::now();
    let err = decode("gzip", &body).unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, ExtractError::Bomb { .. }), "{err:?}");
    assert!(took < Duration::from_millis(500), "took {took:?}");
    assert!(err.to_string().contains("bomb"), "{err}");
}

#[test]
fn brotli_and_zstd_bombs_are_refused() {
    let zeros = vec![0u8; 8 << 20];
    for (encoding, body) in [
        ("br", fixtures::brotli(&zeros)),
        ("zstd", fixtures::zstd(&zeros)),
    ] {
        assert!(
            body.len() < 64 << 10,
            "{encoding} compresses zeros: {}",
            body.len()
        );
        let err = decode(encoding, &body).unwrap_err();
        assert!(
            matches!(err, ExtractError::Bomb { .. }),
            "{encoding}: {err:?}"
        );
    }
}

#[test]
fn ordinary_ratio_over_the_output_limit_is_too_large_not_a_bomb() {
    let limits = Limits {
        max_output_bytes: 1000,
        ..Limits::default()
    };
    let text: Vec<u8> = (0..5000u32)
        .flat_map(|i| i.to_string().into_bytes())
        .collect();
    let err = decode_content("gzip", &fixtures::gzip(&text), &limits).unwrap_err();
    assert_eq!(err, ExtractError::OutputTooLarge { limit: 1000 });
}

#[test]
fn nested_encodings_beyond_the_depth_limit_are_refused() {
    let mut body = PROMPT.to_vec();
    for _ in 0..4 {
        body = fixtures::gzip(&body);
    }
    let err = decode("gzip, gzip, gzip, gzip", &body).unwrap_err();
    assert!(matches!(err, ExtractError::Bomb { .. }), "{err:?}");
    let limits = Limits {
        max_depth: 4,
        ..Limits::default()
    };
    assert_eq!(
        decode_content("gzip, gzip, gzip, gzip", &body, &limits).unwrap(),
        PROMPT
    );
}

#[test]
fn input_over_the_limit_is_refused_before_decoding() {
    let limits = Limits {
        max_input_bytes: 10,
        ..Limits::default()
    };
    assert_eq!(
        decode_content("gzip", &fixtures::gzip(PROMPT), &limits),
        Err(ExtractError::InputTooLarge {
            len: fixtures::gzip(PROMPT).len() as u64,
            limit: 10
        })
    );
}

#[test]
fn zstd_frames_declaring_huge_windows_are_refused_before_decoding() {
    // A frame by hand: magic, descriptor (no content size), window descriptor, one raw block.
    let frame = |window: u8| {
        let mut body = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, window];
        body.extend_from_slice(&[(5 << 3) | 1, 0, 0]);
        body.extend_from_slice(b"hello");
        body
    };
    assert_eq!(decode("zstd", &frame(0x58)).unwrap(), b"hello");
    let err = decode("zstd", &frame(0xf0)).unwrap_err();
    assert!(err.to_string().contains("window"), "{err}");
}
