//! Enrolled devices: one-time enrollment tokens, the registry of devices and their
//! certificates, enrollment itself (token in, signed device certificate out), and the agent
//! port ([`agent_port`]) devices connect to.
//!
//! Never stores a token in clear and never keeps a device's private key (it never sees one).
//! Never imports the proxy: the agent port hands CONNECT streams to the daemon through
//! [`agent_port::Host`].

pub mod agent_port;
mod registry;
pub mod tokens;

use std::path::Path;

use ca::DeviceAuthority;
use policies::rules::Posture;
use time::{Duration, OffsetDateTime};

pub use registry::{now_unix, DeviceBook, DeviceRecord, DeviceRegistry};
use state_files::StateLock;

/// Why an enrollment was refused; `Client` errors are the caller's fault.
#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    #[error("the enrollment token is unknown, used or expired")]
    BadToken,
    #[error("the certificate request is unusable: {0}")]
    BadCsr(String),
    #[error("enrollment failed on the gateway: {0}")]
    Internal(String),
}

/// A device just enrolled.
#[derive(Debug, Clone)]
pub struct Enrolled {
    pub record: DeviceRecord,
    pub certificate_pem: String,
}

/// Uses up `token`, signs the CSR's key into a device certificate valid for `validity`, and
/// records the device. The token is consumed even when the CSR is bad: a token is one try.
pub fn enroll(
    state_dir: &Path,
    device_ca: &DeviceAuthority,
    token: &str,
    csr_pem: &str,
    hostname: &str,
    validity: std::time::Duration,
) -> Result<Enrolled, EnrollError> {
    let _lock = StateLock::acquire(state_dir).map_err(|e| EnrollError::Internal(e.to_string()))?;
    let grant = tokens::consume(state_dir, token)
        .map_err(EnrollError::Internal)?
        .ok_or(EnrollError::BadToken)?;
    let id = new_device_id();
    let now = OffsetDateTime::now_utc();
    let validity = Duration::try_from(validity).unwrap_or(Duration::days(90));
    let issued = device_ca
        .issue(csr_pem, &id, now - Duration::minutes(5), now + validity)
        .map_err(|e| EnrollError::BadCsr(e.to_string()))?;
    let mut registry = DeviceRegistry::load(state_dir).map_err(EnrollError::Internal)?;
    let record = DeviceRecord {
        id,
        user: grant.user,
        groups: grant.groups,
        serial: issued.serial,
        hostname: hostname.chars().take(253).collect(),
        enrolled_unix: now_unix(),
        cert_not_after_unix: u64::try_from(issued.not_after.unix_timestamp()).unwrap_or(0),
        revoked_unix: None,
    };
    registry.devices.push(record.clone());
    registry.save(state_dir).map_err(EnrollError::Internal)?;
    Ok(Enrolled {
        record,
        certificate_pem: issued.certificate_pem,
    })
}

/// Marks a device revoked; returns false when no such device exists.
pub fn revoke(state_dir: &Path, id: &str) -> Result<bool, String> {
    let _lock = StateLock::acquire(state_dir).map_err(|e| e.to_string())?;
    let mut registry = DeviceRegistry::load(state_dir)?;
    let Some(device) = registry.devices.iter_mut().find(|d| d.id == id) else {
        return Ok(false);
    };
    if device.revoked_unix.is_none() {
        device.revoked_unix = Some(now_unix());
        registry.save(state_dir)?;
    }
    Ok(true)
}

/// `key=value;...` of a posture, as events and logs record it (`posture_signed=true` last
/// when signed; reported posture may not use that key).
pub fn posture_summary(posture: &Posture, signed: bool) -> String {
    let mut summary = posture
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(";");
    if signed {
        if !summary.is_empty() {
            summary.push(';');
        }
        summary.push_str(agent_proto::posture::RESERVED_FIELD);
        summary.push_str("=true");
    }
    summary
}

fn new_device_id() -> String {
    let bytes: [u8; 8] = rand::random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("dev-{hex}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn enrollment_records_the_device_and_revocation_sticks() {
        let dir = tempfile::tempdir().unwrap();
        let ca = DeviceAuthority::load_or_create(&dir.path().join("ca")).unwrap();
        let token = tokens::create(dir.path(), "alice", &[], 60).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let csr = rcgen::CertificateParams::default()
            .serialize_request(&key)
            .unwrap()
            .pem()
            .unwrap();
        let day = std::time::Duration::from_secs(86_400);
        let enrolled = enroll(dir.path(), &ca, &token, &csr, "laptop", day).unwrap();
        assert!(matches!(
            enroll(dir.path(), &ca, &token, &csr, "laptop", day),
            Err(EnrollError::BadToken)
        ));
        let book = DeviceBook::open(dir.path());
        let id = enrolled.record.id.clone();
        assert!(book
            .current()
            .active(&id, &enrolled.record.serial)
            .is_some());
        assert!(revoke(dir.path(), &id).unwrap());
        assert!(!revoke(dir.path(), "dev-none").unwrap());
        assert!(book
            .current()
            .active(&id, &enrolled.record.serial)
            .is_none());
    }
}
