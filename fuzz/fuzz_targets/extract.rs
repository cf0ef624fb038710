//! Fuzzes file extraction and Content-Encoding decoding with arbitrary bytes: they must never
//! panic (libFuzzer's panic hook aborts before the crate's own panic wall can hide one), must
//! keep their text within the output limit, and must finish fast under small limits.
#![no_main]

use extract::{decode_content, extract, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_output_bytes: 1 << 20,
        max_entry_bytes: 1 << 20,
        max_entries: 256,
        ..Limits::default()
    };
    let out = extract(Some("fuzz.bin"), None, data, &limits);
    assert!(out.text.len() as u64 <= limits.max_output_bytes);
    if let Some(refused) = &out.refused {
        assert!(!refused.reason.contains("internal error"), "{refused:?}");
    }
    for encoding in ["gzip", "deflate", "br", "zstd", "gzip, br"] {
        if let Ok(decoded) = decode_content(encoding, data, &limits) {
            assert!(decoded.len() as u64 <= limits.max_output_bytes);
        }
    }
});
