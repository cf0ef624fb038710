//! Minting leaf certificates for intercepted hosts.
//!
//! Every leaf gets a fresh ECDSA P-256 key (never a CA key), a random serial, the host as its
//! only SAN, and a validity of a few days backdated an hour for clients with skewed clocks.

use std::sync::Arc;

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, KeyPair,
    KeyUsagePurpose, SanType, SerialNumber,
};
use rustls::sign::CertifiedKey;
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

use crate::{Authority, CaError, ServerIdentity};

/// How long a minted leaf is valid after it is minted.
pub const LEAF_VALIDITY: Duration = Duration::days(4);
/// How far back a leaf's validity starts, for clients whose clocks run slow.
pub const LEAF_BACKDATE: Duration = Duration::hours(1);

/// Signs leaf certificates with the intermediate of an [`Authority`].
pub struct LeafIssuer {
    authority: Authority,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl LeafIssuer {
    pub fn new(authority: Authority) -> Self {
        Self {
            authority,
            provider: Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
        }
    }

    /// The authority whose intermediate signs the leaves.
    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    /// Mints a leaf for `identity`: the certificate chain (leaf, intermediate) and its key,
    /// ready for a rustls server. Returns the time the leaf stops being valid.
    pub fn mint(
        &self,
        identity: &ServerIdentity,
    ) -> Result<(Arc<CertifiedKey>, OffsetDateTime), CaError> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let now = OffsetDateTime::now_utc();
        let not_after = now + LEAF_VALIDITY;

        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        // CN is informational (clients match the SAN); X.520 caps it at 64 characters.
        let cn: String = identity.to_string().chars().take(64).collect();
        dn.push(DnType::CommonName, cn);
        params.distinguished_name = dn;
        params.subject_alt_names = vec![match identity {
            ServerIdentity::Dns(name) => SanType::DnsName(name.clone().try_into()?),
            ServerIdentity::Ip(ip) => SanType::IpAddress(*ip),
        }];
        params.not_before = now - LEAF_BACKDATE;
        params.not_after = not_after;
        let mut serial: [u8; 16] = rand::random();
        serial[0] = (serial[0] & 0x7f) | 0x01;
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, &self.authority.intermediate)?;

        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let signing_key = self.provider.key_provider.load_private_key(key_der)?;
        let chain = vec![
            cert.der().clone(),
            self.authority.intermediate_der().clone(),
        ];
        Ok((Arc::new(CertifiedKey::new(chain, signing_key)), not_after))
    }
}
