//! libFuzzer bytes into `warden_fuzz::dlp_scan` (the properties are asserted there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    warden_fuzz::dlp_scan::dlp_scan(&String::from_utf8_lossy(data));
});
