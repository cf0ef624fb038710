//! Fuzzes the tunnel port's posture report parser with arbitrary request bodies: it must never
//! panic, and what it accepts stays within its bounds.
#![no_main]

use gatewayd::tunnel::parse_posture;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(posture) = parse_posture(data) {
        assert!(posture.len() <= 64);
        assert!(posture
            .iter()
            .all(|(k, v)| k.len() <= 64 && v.len() <= 256 && !v.contains(';')));
    }
});
