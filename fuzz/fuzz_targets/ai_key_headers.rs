//! libFuzzer bytes into `warden_fuzz::ai_key_headers` (the properties are asserted there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    warden_fuzz::ai_key_headers::ai_key_headers(data);
});
