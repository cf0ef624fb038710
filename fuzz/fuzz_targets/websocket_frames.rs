//! libFuzzer bytes into `warden_fuzz::websocket_frames` (the properties are asserted there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    warden_fuzz::websocket_frames::websocket_frames(data);
});
