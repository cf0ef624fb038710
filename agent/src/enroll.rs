//! `agent enroll`: make a key on the device, send a CSR with the one-time token to the
//! gateway's enrollment endpoint over TLS pinned to the Warden root, and store the device
//! certificate, the key (both 0600) and the root in the state directory.

use std::path::Path;
use std::sync::Arc;

use agent_proto::{EnrollRequest, Enrolled, ENROLL_PATH};
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
use rustls::ClientConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::pin::PinnedRoot;
use crate::state::{self, Enrollment};
use crate::tunnel::{connect_h2, parse_gateway, post_json};

/// What `agent enroll` was asked to do.
pub struct EnrollArgs<'a> {
    pub gateway: &'a str,
    pub token: &'a str,
    pub fingerprint: Option<[u8; 32]>,
    pub state_dir: &'a Path,
}

/// Enrolls this device; returns what was stored.
pub async fn enroll(args: EnrollArgs<'_>) -> anyhow::Result<Enrollment> {
    let (host, port) = parse_gateway(args.gateway)?;
    let fingerprint = match args.fingerprint {
        Some(f) => f,
        None => pinned_before(args.state_dir)?,
    };
    state::ensure_dir(args.state_dir)?;
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default();
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(
        DnType::CommonName,
        if hostname.is_empty() {
            "device"
        } else {
            &hostname
        },
    );
    params.distinguished_name = dn;
    let csr = params.serialize_request(&key)?.pem()?;

    let pin = Arc::new(PinnedRoot::new(fingerprint));
    let mut tls = ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])?
    .dangerous()
    .with_custom_certificate_verifier(pin.clone())
    .with_no_client_auth();
    tls.alpn_protocols = vec![b"h2".to_vec()];
    let (mut sender, _task) = connect_h2(&host, port, Arc::new(tls))
        .await
        .map_err(|e| anyhow::anyhow!("cannot reach the gateway's enrollment endpoint: {e:#}"))?;
    let authority = crate::listen::route::authority(&host, port);
    let body = serde_json::to_value(EnrollRequest {
        token: args.token.to_owned(),
        csr,
        hostname,
    })?;
    let (status, answer) = post_json(&mut sender, &authority, ENROLL_PATH, &body).await?;
    if !status.is_success() {
        let reason = answer["error"].as_str().unwrap_or("no reason given");
        anyhow::bail!("the gateway refused the enrollment ({status}): {reason}");
    }
    let Enrolled {
        device_id,
        user,
        groups,
        certificate,
    } = serde_json::from_value(answer)
        .map_err(|e| anyhow::anyhow!("the gateway's answer is not an enrollment: {e}"))?;
    CertificateDer::from_pem_slice(certificate.as_bytes())
        .map_err(|e| anyhow::anyhow!("the gateway sent an unusable certificate: {e}"))?;
    let root = pin
        .root()
        .ok_or_else(|| anyhow::anyhow!("the pinned root was not seen"))?;
    let enrollment = Enrollment {
        gateway: args.gateway.trim_end_matches('/').to_owned(),
        device_id,
        user,
        groups,
        enrolled_unix: state::now_unix(),
    };
    let dir = args.state_dir;
    state::write_atomic(
        &dir.join(state::DEVICE_KEY),
        key.serialize_pem().as_bytes(),
        true,
    )?;
    state::write_atomic(&dir.join(state::DEVICE_CERT), certificate.as_bytes(), true)?;
    state::write_atomic(&dir.join(state::ROOT_CERT), pem(&root).as_bytes(), false)?;
    state::write_atomic(
        &dir.join(state::ENROLLMENT),
        &serde_json::to_vec_pretty(&enrollment)?,
        false,
    )?;
    Ok(enrollment)
}

/// Without `--ca-fingerprint`, re-enrollment pins the root stored by the last enrollment.
fn pinned_before(state_dir: &Path) -> anyhow::Result<[u8; 32]> {
    use sha2::{Digest, Sha256};
    let path = state_dir.join(state::ROOT_CERT);
    let bytes = std::fs::read(&path).map_err(|_| {
        anyhow::anyhow!(
            "pass --ca-fingerprint (the root's sha256 fingerprint from `gatewayd ca show`): this device has no pinned Warden root yet"
        )
    })?;
    let der = CertificateDer::from_pem_slice(&bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(Sha256::digest(der.as_ref()).into())
}

fn pem(der: &CertificateDer<'_>) -> String {
    use base64::Engine;
    use std::fmt::Write;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        let _ = writeln!(out, "{}", String::from_utf8_lossy(chunk));
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// `--install-ca`: adds the Warden root to the system trust store (Linux), or prints how.
pub fn install_ca(state_dir: &Path) -> anyhow::Result<()> {
    let root = state_dir.join(state::ROOT_CERT);
    if cfg!(target_os = "linux") {
        let target = Path::new("/usr/local/share/ca-certificates/warden-root.crt");
        std::fs::copy(&root, target).map_err(|e| {
            anyhow::anyhow!("{}: {e} (run as root to install the CA)", target.display())
        })?;
        let status = std::process::Command::new("update-ca-certificates").status()?;
        if !status.success() {
            anyhow::bail!("update-ca-certificates failed: {status}");
        }
        println!("installed the Warden root into the system trust store");
    } else {
        println!(
            "install the Warden root {} into the system trust store:\n  macOS: sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain {0}\n  Windows (admin): certutil -addstore -f Root {0}",
            root.display()
        );
    }
    Ok(())
}
