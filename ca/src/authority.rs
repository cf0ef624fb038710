//! The root CA and the intermediate that signs leaves: created once in the state directory,
//! loaded on every start. Only the intermediate's key is kept in memory while the gateway runs;
//! the root key stays on disk, used when the CA is created.

use std::path::{Path, PathBuf};

use base64::Engine;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SerialNumber,
};
use rustls_pki_types::CertificateDer;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::files::{check_private_mode, ensure_private_dir, read_text, write_atomic};
use crate::CaError;

const ROOT_CERT: &str = "root.crt.pem";
const ROOT_KEY: &str = "root.key.pem";
const INTERMEDIATE_CERT: &str = "intermediate.crt.pem";
const INTERMEDIATE_KEY: &str = "intermediate.key.pem";

const ROOT_VALIDITY: Duration = Duration::days(3650);
const INTERMEDIATE_VALIDITY: Duration = Duration::days(1825);

/// A loaded certificate authority: the root certificate to hand out to devices, and the
/// intermediate issuer that signs leaf certificates.
pub struct Authority {
    dir: PathBuf,
    root_der: CertificateDer<'static>,
    root_pem: String,
    intermediate_der: CertificateDer<'static>,
    pub(crate) intermediate: Issuer<'static, KeyPair>,
}

/// What `gatewayd ca show` prints about one certificate.
#[derive(Debug, Clone)]
pub struct CertificateSummary {
    pub subject: String,
    pub not_before: String,
    pub not_after: String,
    /// SHA-256 of the DER certificate, colon-separated hex (what browsers show).
    pub sha256_fingerprint: String,
    /// base64 SHA-256 of the SubjectPublicKeyInfo (Chromium's `--ignore-certificate-errors-spki-list`).
    pub spki_sha256_base64: String,
}

/// The root and the intermediate, described.
#[derive(Debug, Clone)]
pub struct CaSummary {
    pub dir: PathBuf,
    pub root: CertificateSummary,
    pub intermediate: CertificateSummary,
}

impl Authority {
    /// Loads the CA from `dir`, creating a fresh root and intermediate when the directory holds
    /// none. Returns whether it was created. A partially present CA is an error, never silently
    /// replaced: devices may already trust the old root.
    pub fn load_or_create(dir: &Path) -> Result<(Self, bool), CaError> {
        let present: Vec<bool> = [ROOT_CERT, ROOT_KEY, INTERMEDIATE_CERT, INTERMEDIATE_KEY]
            .iter()
            .map(|f| dir.join(f).exists())
            .collect();
        if present.iter().all(|p| !p) {
            create(dir)?;
            return Ok((Self::load(dir)?, true));
        }
        Ok((Self::load(dir)?, false))
    }

    /// Loads an existing CA from `dir`.
    pub fn load(dir: &Path) -> Result<Self, CaError> {
        // The root key is not needed to mint leaves; it must only exist, so that the CA is whole.
        for (name, missing) in [
            (ROOT_CERT, "root certificate"),
            (ROOT_KEY, "root key"),
            (INTERMEDIATE_CERT, "intermediate certificate"),
            (INTERMEDIATE_KEY, "intermediate key"),
        ] {
            if !dir.join(name).exists() {
                return Err(CaError::Incomplete {
                    dir: dir.to_path_buf(),
                    missing,
                });
            }
        }
        let root_pem = read_text(&dir.join(ROOT_CERT))?;
        let root_der = pem_certificate(&dir.join(ROOT_CERT), &root_pem)?;
        let intermediate_path = dir.join(INTERMEDIATE_CERT);
        let intermediate_pem = read_text(&intermediate_path)?;
        let intermediate_der = pem_certificate(&intermediate_path, &intermediate_pem)?;
        let key_path = dir.join(INTERMEDIATE_KEY);
        check_private_mode(&key_path)?;
        check_private_mode(&dir.join(ROOT_KEY))?;
        let key = KeyPair::from_pem(&read_text(&key_path)?).map_err(|e| CaError::BadFile {
            path: key_path.clone(),
            reason: format!("not a usable private key: {e}"),
        })?;
        let intermediate =
            Issuer::from_ca_cert_der(&intermediate_der, key).map_err(|e| CaError::BadFile {
                path: intermediate_path,
                reason: format!("not a usable CA certificate: {e}"),
            })?;
        Ok(Self {
            dir: dir.to_path_buf(),
            root_der,
            root_pem,
            intermediate_der,
            intermediate,
        })
    }

    /// The root certificate in PEM, to install on devices.
    pub fn root_pem(&self) -> &str {
        &self.root_pem
    }

    /// The root certificate in DER.
    pub fn root_der(&self) -> &CertificateDer<'static> {
        &self.root_der
    }

    /// The intermediate certificate in DER: sent after every leaf.
    pub fn intermediate_der(&self) -> &CertificateDer<'static> {
        &self.intermediate_der
    }

    /// Describes the root and the intermediate.
    pub fn summary(&self) -> Result<CaSummary, CaError> {
        Ok(CaSummary {
            dir: self.dir.clone(),
            root: summarise(&self.dir.join(ROOT_CERT), &self.root_der)?,
            intermediate: summarise(&self.dir.join(INTERMEDIATE_CERT), &self.intermediate_der)?,
        })
    }
}

fn pem_certificate(path: &Path, pem: &str) -> Result<CertificateDer<'static>, CaError> {
    use rustls_pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| CaError::BadFile {
        path: path.to_path_buf(),
        reason: format!("no PEM certificate: {e}"),
    })
}

fn random_serial() -> SerialNumber {
    let mut bytes: [u8; 16] = rand::random();
    bytes[0] &= 0x7f; // positive INTEGER
    bytes[0] |= 0x01; // and no leading zero byte to strip
    SerialNumber::from_slice(&bytes)
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Warden");
    dn.push(DnType::CommonName, common_name);
    dn
}

fn create(dir: &Path) -> Result<(), CaError> {
    ensure_private_dir(dir)?;
    let now = OffsetDateTime::now_utc();
    // A short random tag tells two installations' roots apart in a device's trust store.
    let tag: u32 = rand::random();

    let root_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut root = CertificateParams::default();
    root.distinguished_name = name(&format!("Warden Root CA {tag:08x}"));
    root.is_ca = IsCa::Ca(BasicConstraints::Constrained(1));
    root.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    root.not_before = now - Duration::hours(1);
    root.not_after = now + ROOT_VALIDITY;
    root.serial_number = Some(random_serial());
    let root_cert = root.self_signed(&root_key)?;
    let root_issuer = Issuer::new(root, root_key);

    let intermediate_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut intermediate = CertificateParams::default();
    intermediate.distinguished_name = name(&format!("Warden Intercept CA {tag:08x}"));
    intermediate.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    intermediate.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    intermediate.not_before = now - Duration::hours(1);
    intermediate.not_after = now + INTERMEDIATE_VALIDITY;
    intermediate.serial_number = Some(random_serial());
    intermediate.use_authority_key_identifier_extension = true;
    let intermediate_cert = intermediate.signed_by(&intermediate_key, &root_issuer)?;

    // Keys first: a crash between writes leaves an incomplete CA that load() reports.
    write_atomic(
        &dir.join(ROOT_KEY),
        root_issuer.key().serialize_pem().as_bytes(),
        true,
    )?;
    write_atomic(
        &dir.join(INTERMEDIATE_KEY),
        intermediate_key.serialize_pem().as_bytes(),
        true,
    )?;
    write_atomic(
        &dir.join(INTERMEDIATE_CERT),
        intermediate_cert.pem().as_bytes(),
        false,
    )?;
    write_atomic(&dir.join(ROOT_CERT), root_cert.pem().as_bytes(), false)
}

fn summarise(path: &Path, der: &CertificateDer<'_>) -> Result<CertificateSummary, CaError> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| CaError::BadFile {
        path: path.to_path_buf(),
        reason: format!("unparseable certificate: {e}"),
    })?;
    let fingerprint = Sha256::digest(der.as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    let spki = base64::engine::general_purpose::STANDARD
        .encode(Sha256::digest(cert.tbs_certificate.subject_pki.raw));
    Ok(CertificateSummary {
        subject: cert.subject().to_string(),
        not_before: cert.validity().not_before.to_string(),
        not_after: cert.validity().not_after.to_string(),
        sha256_fingerprint: fingerprint,
        spki_sha256_base64: spki,
    })
}
