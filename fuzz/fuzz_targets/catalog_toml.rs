//! libFuzzer bytes into `warden_fuzz::catalog_toml` (the properties are asserted there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    warden_fuzz::toml_sources::catalog_toml(&String::from_utf8_lossy(data));
});
