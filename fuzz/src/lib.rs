//! Drivers for every parser that reads untrusted bytes: each runs the real entry point on one
//! input and asserts what must hold for every input (no panic, output bounded by the input or
//! a documented limit, and the entry point's own promises, such as a DLP finding being matched
//! by the detector's reference pattern).
//!
//! Two harnesses share them: the cargo-fuzz targets in `fuzz_targets/` (libFuzzer's bytes,
//! nightly, unbounded) and the property tests in `tests/properties/` (generated near-valid
//! inputs, stable, bounded, part of every `cargo test`), so the targets cannot rot unnoticed.
//! A driver must never weaken a property to let an input through, and never catch a panic.

pub mod ai_key_headers;
pub mod client_hello;
pub mod connect_line;
pub mod dlp_scan;
pub mod extract;
pub mod multipart;
pub mod pac;
pub mod posture;
pub mod spool_frames;
pub mod toml_sources;
pub mod websocket_frames;

/// Splits a fuzz input at its first newline: a short parameter (a boundary, a header) and the
/// bytes it applies to.
pub fn split_first_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[]),
    }
}
