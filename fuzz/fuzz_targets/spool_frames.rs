//! libFuzzer bytes into `warden_fuzz::spool_frames` (the properties are asserted there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    warden_fuzz::spool_frames::spool_frames(data);
});
