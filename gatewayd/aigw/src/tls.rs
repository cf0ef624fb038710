//! TLS on the AI gateway's own listener (`[aigw.tls]`): TLS 1.2 and 1.3 through rustls, ALPN
//! h2 and http/1.1, with either certificates Warden's CA mints for the configured names
//! (one per name, chosen by SNI, the first for a client that sends none; minted at start and
//! again before they expire) or a configured PEM cert/key pair. A client that speaks plain
//! HTTP to the TLS port gets a short plain-text 400 saying so, then the connection closes.
//!
//! Never: mint for a name the client asks for that is not configured (a stranger must not
//! make the gateway mint leaves at will), or serve without TLS on a TLS port.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ca::{Authority, LeafIssuer, ServerIdentity};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

/// How long a client has to finish its handshake.
const HANDSHAKE: Duration = Duration::from_secs(10);
/// A minted certificate is minted again once it has less than this left to live.
const RENEW_BEFORE: time::Duration = time::Duration::days(1);

type Minted = (Arc<CertifiedKey>, time::OffsetDateTime);

/// Certificates minted by Warden's CA for the configured names.
struct MintedNames {
    issuer: LeafIssuer,
    names: Vec<(ServerIdentity, Mutex<Minted>)>,
}

impl std::fmt::Debug for MintedNames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MintedNames")
            .field("names", &self.names.len())
            .finish()
    }
}

impl MintedNames {
    fn new(authority: Authority, names: &[String]) -> Result<Self, String> {
        let issuer = LeafIssuer::new(authority);
        let mut minted = Vec::with_capacity(names.len());
        for name in names {
            let identity =
                ServerIdentity::parse(name).map_err(|e| format!("aigw.tls names {name:?}: {e}"))?;
            let leaf = issuer
                .mint(&identity)
                .map_err(|e| format!("aigw.tls: minting a certificate for {name}: {e}"))?;
            minted.push((identity, Mutex::new(leaf)));
        }
        if minted.is_empty() {
            return Err("aigw.tls names is empty".into());
        }
        Ok(Self {
            issuer,
            names: minted,
        })
    }
}

impl ResolvesServerCert for MintedNames {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let asked = hello
            .server_name()
            .and_then(|sni| ServerIdentity::parse(sni).ok());
        let (identity, slot) = asked
            .and_then(|asked| self.names.iter().find(|(name, _)| *name == asked))
            .or_else(|| self.names.first())?;
        let mut current = slot.lock().unwrap_or_else(PoisonError::into_inner);
        if current.1 - time::OffsetDateTime::now_utc() < RENEW_BEFORE {
            match self.issuer.mint(identity) {
                Ok(fresh) => *current = fresh,
                // The old one still has up to a day to live: keep serving it.
                Err(error) => tracing::error!(%error, "aigw: renewing a TLS certificate failed"),
            }
        }
        Some(current.0.clone())
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The listener's TLS configuration from `[aigw.tls]`. `authority` is Warden's CA (needed
/// for `names`). Reads the cert/key files now: a missing or mismatched pair fails the start
/// (and `gatewayd check`), not the first handshake.
pub fn server_config(
    tls: &config::AigwTls,
    authority: Option<Authority>,
) -> Result<Arc<ServerConfig>, String> {
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("aigw.tls: {e}"))?
        .with_no_client_auth();
    let mut config = match (&tls.cert, &tls.key) {
        (Some(cert), Some(key)) => {
            let (chain, key) = read_pair(cert, key)?;
            builder
                .with_single_cert(chain, key)
                .map_err(|e| format!("aigw.tls cert and key do not make a usable pair: {e}"))?
        }
        _ => {
            let authority =
                authority.ok_or("aigw.tls names needs Warden's CA (gatewayd ca init)")?;
            builder.with_cert_resolver(Arc::new(MintedNames::new(authority, &tls.names)?))
        }
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn read_pair(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("aigw.tls cert {}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!(
            "aigw.tls cert {}: no CERTIFICATE in the file",
            cert.display()
        ));
    }
    // The key's error never quotes the file: it holds a secret.
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|_| {
        format!(
            "aigw.tls key {}: no readable PEM private key",
            key.display()
        )
    })?;
    Ok((chain, key_der))
}

/// The answer to plain HTTP on the TLS port.
const PLAIN_HTTP_ANSWER: &[u8] = b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\nconnection: close\r\ncontent-length: 65\r\n\r\nThis port of Warden's AI gateway speaks TLS only: use https://.\r\n";

/// Terminates TLS on an accepted connection; `None` when the client did not complete a
/// handshake in time, or spoke plain HTTP (answered with a 400 first).
pub async fn accept(
    mut stream: TcpStream,
    config: Arc<ServerConfig>,
) -> Option<TlsStream<TcpStream>> {
    let mut first = [0u8; 1];
    match tokio::time::timeout(HANDSHAKE, stream.peek(&mut first)).await {
        Ok(Ok(1)) if first[0] == 0x16 => {}
        Ok(Ok(1)) if first[0].is_ascii_uppercase() => {
            let _ =
                tokio::time::timeout(Duration::from_secs(2), stream.write_all(PLAIN_HTTP_ANSWER))
                    .await;
            let _ = stream.shutdown().await;
            return None;
        }
        _ => return None,
    }
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    match tokio::time::timeout(HANDSHAKE, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => Some(tls),
        Ok(Err(error)) => {
            tracing::debug!(%error, "aigw: TLS handshake failed");
            None
        }
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_plain_http_answer_says_its_length_right() {
        let text = std::str::from_utf8(PLAIN_HTTP_ANSWER).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.ends_with(&format!("content-length: {}", body.len())));
    }

    #[test]
    fn a_missing_pair_is_a_clear_error_naming_the_file() {
        let tls = config::AigwTls {
            names: Vec::new(),
            cert: Some("/nonexistent/aigw.pem".into()),
            key: Some("/nonexistent/aigw.key".into()),
        };
        let error = server_config(&tls, None).unwrap_err();
        assert!(error.contains("/nonexistent/aigw.pem"), "{error}");
    }

    #[test]
    fn minted_names_need_the_ca() {
        let tls = config::AigwTls {
            names: vec!["ai.corp.example".into()],
            ..Default::default()
        };
        assert!(server_config(&tls, None).unwrap_err().contains("CA"));
    }
}
