//! The tunnel port's TLS: the server presents a leaf from the Warden interception CA for the
//! name the agent asked for (SNI, or the address it dialled), with the root in the chain so
//! an agent that pins the root by fingerprint can find it; client certificates are verified
//! against the device CA. A client without a certificate is let through the handshake, but
//! only enrollment will answer it.

use std::net::SocketAddr;
use std::sync::Arc;

use ca::{LeafCache, ServerIdentity};
use rustls::server::danger::ClientCertVerifier;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::CertificateDer;

#[derive(Debug)]
struct FixedChain(Arc<CertifiedKey>);

impl ResolvesServerCert for FixedChain {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The client verifier: chains to the device CA, or no certificate at all.
pub fn device_verifier(
    device_ca: &CertificateDer<'static>,
) -> Result<Arc<dyn ClientCertVerifier>, String> {
    let mut roots = RootCertStore::empty();
    roots
        .add(device_ca.clone())
        .map_err(|e| format!("device CA unusable: {e}"))?;
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
        .allow_unauthenticated()
        .build()
        .map_err(|e| format!("device CA unusable: {e}"))
}

/// The server configuration for one connection, whose ClientHello named `sni` (or nothing,
/// in which case the certificate names `local`, the address the agent connected to).
pub fn server_config(
    leaves: &LeafCache,
    root: &CertificateDer<'static>,
    verifier: Arc<dyn ClientCertVerifier>,
    sni: Option<&str>,
    local: SocketAddr,
) -> Result<Arc<ServerConfig>, String> {
    let name = sni
        .map(str::to_owned)
        .unwrap_or_else(|| local.ip().to_canonical().to_string());
    let identity = ServerIdentity::parse(&name).map_err(|e| e.to_string())?;
    let (leaf, _) = leaves.leaf_for(&identity).map_err(|e| e.to_string())?;
    let mut chain = leaf.cert.clone();
    chain.push(root.clone());
    let key = Arc::new(CertifiedKey::new(chain, leaf.key.clone()));
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(Arc::new(FixedChain(key)));
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}
