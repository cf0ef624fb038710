//! The device CA: signs the client certificates that enrolled device agents present on the
//! tunnel port. It is a root of its own (never the interception root), so a minted
//! interception leaf can never pass as a device and a device certificate can never
//! intercept a site.
//!
//! The device's key never reaches the gateway: the agent sends a CSR, whose signature is
//! checked before anything of it is used, and only its public key is kept. The subject is
//! chosen here (CN = the device id), never copied from the request.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SerialNumber,
};
use rustls_pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

use crate::files::{check_private_mode, ensure_private_dir, read_text, write_atomic};
use crate::CaError;

const DEVICE_CA_CERT: &str = "device-ca.crt.pem";
const DEVICE_CA_KEY: &str = "device-ca.key.pem";
const DEVICE_CA_VALIDITY: Duration = Duration::days(3650);
/// Largest CSR accepted (PEM text): a P-256 or RSA-4096 CSR is well under this.
pub const MAX_CSR_BYTES: usize = 16 * 1024;

/// The loaded device CA.
pub struct DeviceAuthority {
    cert_der: CertificateDer<'static>,
    cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// A device certificate just issued.
#[derive(Debug, Clone)]
pub struct IssuedDevice {
    pub certificate_pem: String,
    /// Lowercase hex of the serial number, as the devices registry stores it.
    pub serial: String,
    pub not_after: OffsetDateTime,
}

/// What the tunnel port reads from a verified client certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCertificate {
    /// The certificate's common name: the device id.
    pub device_id: String,
    /// Lowercase hex of the serial number.
    pub serial: String,
}

impl DeviceAuthority {
    /// Loads the device CA from `dir` (the gateway's `<state>/ca`), creating it on first use.
    pub fn load_or_create(dir: &Path) -> Result<Self, CaError> {
        let cert_path = dir.join(DEVICE_CA_CERT);
        let key_path = dir.join(DEVICE_CA_KEY);
        match (cert_path.exists(), key_path.exists()) {
            (false, false) => create(dir)?,
            (true, true) => {}
            (has_cert, _) => {
                return Err(CaError::Incomplete {
                    dir: dir.to_path_buf(),
                    missing: if has_cert {
                        "device CA key"
                    } else {
                        "device CA certificate"
                    },
                })
            }
        }
        check_private_mode(&key_path)?;
        let cert_pem = read_text(&cert_path)?;
        let cert_der = pem_certificate(&cert_path, &cert_pem)?;
        let key = KeyPair::from_pem(&read_text(&key_path)?).map_err(|e| CaError::BadFile {
            path: key_path.clone(),
            reason: format!("not a usable private key: {e}"),
        })?;
        let issuer = Issuer::from_ca_cert_der(&cert_der, key).map_err(|e| CaError::BadFile {
            path: cert_path,
            reason: format!("not a usable CA certificate: {e}"),
        })?;
        Ok(Self {
            cert_der,
            cert_pem,
            issuer,
        })
    }

    /// The device CA certificate (the trust anchor of the tunnel port's client verifier).
    pub fn certificate_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    pub fn certificate_pem(&self) -> &str {
        &self.cert_pem
    }

    /// Signs the public key of `csr_pem` into a client certificate for `device_id`, valid from
    /// `not_before` to `not_after`. The CSR's signature must verify; its subject and
    /// extensions are ignored.
    pub fn issue(
        &self,
        csr_pem: &str,
        device_id: &str,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<IssuedDevice, CaError> {
        if csr_pem.len() > MAX_CSR_BYTES {
            return Err(CaError::Generate(
                rcgen::Error::CouldNotParseCertificationRequest,
            ));
        }
        let csr = CertificateSigningRequestParams::from_pem(csr_pem)?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "Warden device");
        dn.push(DnType::CommonName, device_id);
        params.distinguished_name = dn;
        params.not_before = not_before;
        params.not_after = not_after;
        let serial = random_serial();
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        let request = CertificateSigningRequestParams {
            params,
            public_key: csr.public_key,
        };
        let cert = request.signed_by(&self.issuer)?;
        Ok(IssuedDevice {
            certificate_pem: cert.pem(),
            serial: hex(&serial),
            not_after,
        })
    }
}

/// Reads the device id and serial of a client certificate the TLS layer already verified.
pub fn device_certificate(der: &CertificateDer<'_>) -> Option<DeviceCertificate> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let device_id = cert
        .subject()
        .iter_common_name()
        .next()?
        .as_str()
        .ok()?
        .to_owned();
    Some(DeviceCertificate {
        device_id,
        serial: hex(cert.raw_serial()),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn random_serial() -> [u8; 16] {
    let mut bytes: [u8; 16] = rand::random();
    bytes[0] = (bytes[0] & 0x7f) | 0x01; // positive, no leading zero byte
    bytes
}

fn pem_certificate(path: &Path, pem: &str) -> Result<CertificateDer<'static>, CaError> {
    use rustls_pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| CaError::BadFile {
        path: PathBuf::from(path),
        reason: format!("no PEM certificate: {e}"),
    })
}

fn create(dir: &Path) -> Result<(), CaError> {
    ensure_private_dir(dir)?;
    let now = OffsetDateTime::now_utc();
    let tag: u32 = rand::random();
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Warden");
    dn.push(DnType::CommonName, format!("Warden Device CA {tag:08x}"));
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = now - Duration::hours(1);
    params.not_after = now + DEVICE_CA_VALIDITY;
    params.serial_number = Some(SerialNumber::from_slice(&random_serial()));
    let cert = params.self_signed(&key)?;
    write_atomic(
        &dir.join(DEVICE_CA_KEY),
        key.serialize_pem().as_bytes(),
        true,
    )?;
    write_atomic(&dir.join(DEVICE_CA_CERT), cert.pem().as_bytes(), false)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn csr() -> String {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let params = CertificateParams::new(vec!["attacker.example".into()]).unwrap();
        params.serialize_request(&key).unwrap().pem().unwrap()
    }

    #[test]
    fn issues_client_certificates_named_by_the_gateway_not_the_request() {
        let dir = tempfile::tempdir().unwrap();
        let ca = DeviceAuthority::load_or_create(dir.path()).unwrap();
        let now = OffsetDateTime::now_utc();
        let issued = ca
            .issue(&csr(), "dev-1", now, now + Duration::days(1))
            .unwrap();
        use rustls_pki_types::pem::PemObject;
        let der = CertificateDer::from_pem_slice(issued.certificate_pem.as_bytes()).unwrap();
        let read = device_certificate(&der).unwrap();
        assert_eq!(read.device_id, "dev-1");
        assert_eq!(read.serial, issued.serial);
        // Loading again gives the same CA.
        let again = DeviceAuthority::load_or_create(dir.path()).unwrap();
        assert_eq!(again.certificate_der(), ca.certificate_der());
    }

    #[test]
    fn refuses_garbage_and_oversized_requests() {
        let dir = tempfile::tempdir().unwrap();
        let ca = DeviceAuthority::load_or_create(dir.path()).unwrap();
        let now = OffsetDateTime::now_utc();
        assert!(ca.issue("nonsense", "d", now, now).is_err());
        let huge = "A".repeat(MAX_CSR_BYTES + 1);
        assert!(ca.issue(&huge, "d", now, now).is_err());
    }
}
