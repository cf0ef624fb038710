//! The one TLS crypto provider both sides of an intercepted connection use: rustls's aws-lc-rs
//! provider with TLS 1.3's AES-128-GCM/SHA-256 suite first.
//!
//! Why that order: a new connection's handshake hashes its transcript and runs its key
//! schedule on the suite's hash. SHA-256 runs in hardware on x86-64 (SHA-NI) and ARMv8, SHA-384
//! in software — about a tenth of the proxy's CPU on new connections when it was first. 128-bit
//! security matches the X25519 key exchange both sides use. The other suites stay offered in
//! rustls's order, so a peer that supports only them still connects.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::CipherSuite;

/// aws-lc-rs with `TLS13_AES_128_GCM_SHA256` first (a stable sort: the rest keep their order).
pub fn provider() -> Arc<CryptoProvider> {
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    provider
        .cipher_suites
        .sort_by_key(|suite| suite.suite() != CipherSuite::TLS13_AES_128_GCM_SHA256);
    Arc::new(provider)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_suite_leads_and_nothing_is_dropped() {
        let ours = provider();
        let default = rustls::crypto::aws_lc_rs::default_provider();
        assert_eq!(
            ours.cipher_suites[0].suite(),
            CipherSuite::TLS13_AES_128_GCM_SHA256
        );
        assert_eq!(ours.cipher_suites.len(), default.cipher_suites.len());
    }
}
