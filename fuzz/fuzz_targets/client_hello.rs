//! Fuzzes the ClientHello parser with arbitrary network bytes: it must never panic, and a
//! successfully parsed hello must keep parsing when more bytes follow it.
#![no_main]

use gatewayd::intercept::client_hello::{peek, Peeked};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Peeked::ClientHello(info) = peek(data) {
        let mut longer = data.to_vec();
        longer.extend_from_slice(b"trailing application bytes");
        assert_eq!(peek(&longer), Peeked::ClientHello(info));
    }
});
