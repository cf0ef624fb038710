//! libFuzzer bytes into `warden_fuzz::connect_line` (the properties are asserted there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    warden_fuzz::connect_line::connect_line(data);
});
