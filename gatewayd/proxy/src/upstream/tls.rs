//! The TLS client configuration for upstreams: public roots plus configured extra roots,
//! verification always on.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use super::UpstreamConfigError;

/// The public web roots plus every certificate in `extra` (PEM files).
pub(crate) fn root_store(extra: &[PathBuf]) -> Result<Arc<RootCertStore>, UpstreamConfigError> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for path in extra {
        let fail = |reason: String| UpstreamConfigError::ExtraRoots {
            path: path.display().to_string(),
            reason,
        };
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| fail(e.to_string()))?
            .collect::<Result<_, _>>()
            .map_err(|e| fail(e.to_string()))?;
        if certs.is_empty() {
            return Err(fail("no PEM certificate in the file".into()));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| fail(e.to_string()))?;
        }
    }
    Ok(Arc::new(roots))
}

/// A client config verifying against `roots` and offering `alpn`.
pub(crate) fn client_config(roots: Arc<RootCertStore>, alpn: &[&[u8]]) -> Arc<ClientConfig> {
    // The origin picks the suite; most honour the client's order, which leads with SHA-256.
    let mut config = ClientConfig::builder_with_provider(crate::crypto::provider())
        .with_safe_default_protocol_versions()
        // The provider is rustls's own and supports its default versions.
        .unwrap_or_else(|_| unreachable!("aws-lc-rs supports the default TLS versions"))
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}
