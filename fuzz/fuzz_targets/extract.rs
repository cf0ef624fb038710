//! libFuzzer bytes into `warden_fuzz::extract` (the properties are asserted there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    warden_fuzz::extract::extract_all(data);
});
