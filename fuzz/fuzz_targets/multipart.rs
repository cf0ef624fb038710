//! libFuzzer bytes into `warden_fuzz::multipart` (the properties are asserted there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (boundary, body) = warden_fuzz::split_first_line(data);
    warden_fuzz::multipart::multipart(&String::from_utf8_lossy(boundary), body);
});
