//! The tunnel port's TLS: the server presents ONE certificate, minted by the Warden
//! interception CA for the port's configured name (`tunnel.server_name`), with the root in the
//! chain so an agent that pins the root by fingerprint can find it; client certificates are
//! verified against the device CA. A client without a certificate is let through the
//! handshake, but only enrollment will answer it.
//!
//! The certificate never follows the client's SNI: a stranger must not be able to make the
//! gateway mint (and cache, and spend CPU on) a Warden leaf for any name it likes.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use ca::{Authority, LeafIssuer, ServerIdentity};
use rustls::server::danger::ClientCertVerifier;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

/// The leaf is minted again once it has less than this left to live.
const RENEW_BEFORE: Duration = Duration::days(1);

/// The tunnel port's one certificate: minted at start, renewed before it expires.
#[derive(Debug)]
struct TunnelCertificate {
    name: ServerIdentity,
    root: CertificateDer<'static>,
    current: Mutex<(Arc<CertifiedKey>, OffsetDateTime)>,
    issuer: IssuerHandle,
}

/// `LeafIssuer` is not `Debug`; rustls wants its resolver to be.
struct IssuerHandle(LeafIssuer);

impl std::fmt::Debug for IssuerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LeafIssuer")
    }
}

impl TunnelCertificate {
    fn mint(
        issuer: &LeafIssuer,
        name: &ServerIdentity,
        root: &CertificateDer<'static>,
    ) -> Result<(Arc<CertifiedKey>, OffsetDateTime), String> {
        let (leaf, not_after) = issuer.mint(name).map_err(|e| e.to_string())?;
        let mut chain = leaf.cert.clone();
        chain.push(root.clone());
        Ok((
            Arc::new(CertifiedKey::new(chain, leaf.key.clone())),
            not_after,
        ))
    }
}

impl ResolvesServerCert for TunnelCertificate {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if current.1 - OffsetDateTime::now_utc() < RENEW_BEFORE {
            match Self::mint(&self.issuer.0, &self.name, &self.root) {
                Ok(fresh) => *current = fresh,
                // The old leaf still has up to a day to live: keep serving it.
                Err(error) => tracing::error!(%error, "renewing the tunnel certificate failed"),
            }
        }
        Some(current.0.clone())
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

/// The name the tunnel certificate carries: `configured`, else the listen address when it
/// is a specific one, else this machine's host name.
pub fn server_name(configured: Option<&str>, listen: Option<SocketAddr>) -> String {
    if let Some(name) = configured {
        return name.to_owned();
    }
    if let Some(addr) = listen.filter(|a| !a.ip().is_unspecified()) {
        return addr.ip().to_canonical().to_string();
    }
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| ServerIdentity::parse(s).is_ok())
        .unwrap_or_else(|| "localhost".into())
}

/// The tunnel port's server configuration, built once: one certificate for `name`, signed by
/// `authority`'s intermediate, whatever the client's SNI.
pub fn server_config(
    authority: Authority,
    name: &str,
    verifier: Arc<dyn ClientCertVerifier>,
) -> Result<Arc<ServerConfig>, String> {
    let name = ServerIdentity::parse(name).map_err(|e| e.to_string())?;
    let root = authority.root_der().clone();
    let issuer = LeafIssuer::new(authority);
    let current = TunnelCertificate::mint(&issuer, &name, &root)?;
    let resolver = TunnelCertificate {
        name,
        root,
        current: Mutex::new(current),
        issuer: IssuerHandle(issuer),
    };
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_name_defaults_to_a_specific_listen_address() {
        assert_eq!(server_name(Some("gw.example.com"), None), "gw.example.com");
        let listen = "127.0.0.1:3130".parse().ok();
        assert_eq!(server_name(None, listen), "127.0.0.1");
        let any = server_name(None, "0.0.0.0:3130".parse().ok());
        assert!(ServerIdentity::parse(&any).is_ok(), "{any}");
        assert_ne!(any, "0.0.0.0");
    }
}
