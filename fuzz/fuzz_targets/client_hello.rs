//! libFuzzer bytes into the ClientHello parser (`warden_fuzz::client_hello`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    warden_fuzz::client_hello::client_hello(data);
});
