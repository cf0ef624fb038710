//! Archive and document extraction, and Content-Encoding decoding, on uploaded bytes.

use extract::{decode_content, extract, Limits};

/// Small limits, so a bomb is stopped quickly; the limits themselves are what is checked.
pub fn limits() -> Limits {
    Limits {
        max_output_bytes: 1 << 20,
        max_entry_bytes: 1 << 20,
        max_entries: 256,
        ..Limits::default()
    }
}

/// Extracts `data` under [`limits`]: the text stays within the output limit, a refusal is a
/// reason rather than an internal error, and every decoding stays within the limit too.
/// (libFuzzer's panic hook aborts before the crate's own panic wall can hide a panic.)
pub fn extract_all(data: &[u8]) -> String {
    let limits = limits();
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
    out.text
}
