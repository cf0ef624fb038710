//! The client-facing TLS server: one template (ALPN h2 and http/1.1, session resumption shared
//! across connections), specialised per connection with the leaf minted for its host.

use std::sync::Arc;

use ca::{LeafCache, ServerIdentity};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;

/// The shared server configuration every intercepted connection starts from.
pub struct TlsTemplate(Arc<ServerConfig>);

#[derive(Debug)]
struct FixedLeaf(Arc<CertifiedKey>);

impl ResolvesServerCert for FixedLeaf {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

impl Default for TlsTemplate {
    fn default() -> Self {
        Self::new()
    }
}

impl TlsTemplate {
    pub fn new() -> Self {
        let placeholder = Arc::new(rustls::server::ResolvesServerCertUsingSni::new());
        let mut config = ServerConfig::builder_with_provider(crate::crypto::provider())
            .with_safe_default_protocol_versions()
            .unwrap_or_else(|_| unreachable!("aws-lc-rs supports the default TLS versions"))
            .with_no_client_auth()
            .with_cert_resolver(placeholder);
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        // Our order (`crate::crypto`), not the client's: most clients list AES-256 first.
        config.ignore_client_order = true;
        Self(Arc::new(config))
    }

    /// A server config presenting the leaf for `host` (minted now if not cached). Returns
    /// whether a leaf was minted.
    pub fn for_host(
        &self,
        leaves: &LeafCache,
        host: &str,
    ) -> Result<(Arc<ServerConfig>, bool), ca::CaError> {
        let identity = ServerIdentity::parse(host)?;
        let (leaf, minted) = leaves.leaf_for(&identity)?;
        let mut config = (*self.0).clone();
        config.cert_resolver = Arc::new(FixedLeaf(leaf));
        Ok((Arc::new(config), minted))
    }
}
