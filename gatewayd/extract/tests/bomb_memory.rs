//! Bombs cost bounded memory: the process's peak resident set, measured by the kernel, grows by
//! a few MiB while gigabyte bombs are refused. A test binary of its own, so that no other test
//! shares the process while the peak is measured.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(target_os = "linux")]

#[allow(dead_code)]
#[path = "it/fixtures.rs"]
mod fixtures;

use extract::{decode_content, extract, ExtractError, Limits, RefusalKind};
use fixtures::RawEntry;

/// A `/proc/self/status` field in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn gigabyte_bombs_are_refused_in_bounded_memory() {
    let zeros = fixtures::zeros_deflate(1024);
    let gzip = fixtures::gzip_raw(&zeros);
    let zip = fixtures::raw_zip(
        &[RawEntry {
            name: "zeros.bin",
            method: 8,
            flags: 0,
            data: &zeros,
            size: u32::MAX,
        }],
        false,
    );
    let nested = fixtures::zip(&[("inner.zip", &zip), ("again.zip", &zip)]);
    let pdf = fixtures::pdf(&[("/Filter /FlateDecode", zeros.clone())], None);

    // Reset the peak to what is resident now (Linux 4.0+); if that is not allowed the peak
    // stays higher, which can only make this test stricter.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let baseline = status_kib("VmRSS:");

    let limits = Limits::default();
    assert!(matches!(
        decode_content("gzip", &gzip, &limits),
        Err(ExtractError::Bomb { .. })
    ));
    for (name, bytes) in [
        ("z.gz", &gzip),
        ("z.zip", &zip),
        ("n.zip", &nested),
        ("z.pdf", &pdf),
    ] {
        let out = extract(Some(name), None, bytes, &limits);
        assert_eq!(
            out.refused.map(|r| r.kind),
            Some(RefusalKind::Bomb),
            "{name}"
        );
    }

    let peak = status_kib("VmHWM:");
    let grown_mib = peak.saturating_sub(baseline) / 1024;
    println!("baseline {baseline} KiB, peak {peak} KiB, grown {grown_mib} MiB");
    assert!(grown_mib < 48, "peak memory grew by {grown_mib} MiB");
}
