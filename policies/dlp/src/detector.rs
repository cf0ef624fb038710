//! Detector identities: the built-in [`Detector`]s, references to custom ones, the raw
//! [`Detection`] a scan produces before it becomes a masked finding, and detector sets.

use super::finding::Confidence;
use std::fmt;

/// The built-in detectors. Their ids (`credit_card`, ...) are what profiles, findings and
/// events name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Detector {
    CreditCard,
    Iban,
    UsSsn,
    EmailAddress,
    AwsAccessKeyId,
    AwsSecretAccessKey,
    GithubToken,
    GitlabToken,
    SlackToken,
    StripeSecretKey,
    OpenaiApiKey,
    AnthropicApiKey,
    GoogleApiKey,
    PrivateKey,
    Jwt,
    SourceCode,
    UkNino,
    CaSin,
    DeTaxId,
    FrNir,
    InAadhaar,
    InPan,
    BrCpf,
    AzureStorageKey,
    AzureSasToken,
    GcpServiceAccount,
    HuggingfaceToken,
    TwilioAuthToken,
    SendgridApiKey,
    NpmToken,
    PypiToken,
    DatabaseUrl,
}

impl Detector {
    /// Every built-in detector, in id order of the docs.
    pub const ALL: [Detector; 32] = [
        Detector::CreditCard,
        Detector::Iban,
        Detector::UsSsn,
        Detector::EmailAddress,
        Detector::AwsAccessKeyId,
        Detector::AwsSecretAccessKey,
        Detector::GithubToken,
        Detector::GitlabToken,
        Detector::SlackToken,
        Detector::StripeSecretKey,
        Detector::OpenaiApiKey,
        Detector::AnthropicApiKey,
        Detector::GoogleApiKey,
        Detector::PrivateKey,
        Detector::Jwt,
        Detector::SourceCode,
        Detector::UkNino,
        Detector::CaSin,
        Detector::DeTaxId,
        Detector::FrNir,
        Detector::InAadhaar,
        Detector::InPan,
        Detector::BrCpf,
        Detector::AzureStorageKey,
        Detector::AzureSasToken,
        Detector::GcpServiceAccount,
        Detector::HuggingfaceToken,
        Detector::TwilioAuthToken,
        Detector::SendgridApiKey,
        Detector::NpmToken,
        Detector::PypiToken,
        Detector::DatabaseUrl,
    ];

    /// The detector's id as findings and profiles spell it.
    pub const fn id(self) -> &'static str {
        match self {
            Detector::CreditCard => "credit_card",
            Detector::Iban => "iban",
            Detector::UsSsn => "us_ssn",
            Detector::EmailAddress => "email_address",
            Detector::AwsAccessKeyId => "aws_access_key_id",
            Detector::AwsSecretAccessKey => "aws_secret_access_key",
            Detector::GithubToken => "github_token",
            Detector::GitlabToken => "gitlab_token",
            Detector::SlackToken => "slack_token",
            Detector::StripeSecretKey => "stripe_secret_key",
            Detector::OpenaiApiKey => "openai_api_key",
            Detector::AnthropicApiKey => "anthropic_api_key",
            Detector::GoogleApiKey => "google_api_key",
            Detector::PrivateKey => "private_key",
            Detector::Jwt => "jwt",
            Detector::SourceCode => "source_code",
            Detector::UkNino => "uk_nino",
            Detector::CaSin => "ca_sin",
            Detector::DeTaxId => "de_tax_id",
            Detector::FrNir => "fr_nir",
            Detector::InAadhaar => "in_aadhaar",
            Detector::InPan => "in_pan",
            Detector::BrCpf => "br_cpf",
            Detector::AzureStorageKey => "azure_storage_key",
            Detector::AzureSasToken => "azure_sas_token",
            Detector::GcpServiceAccount => "gcp_service_account",
            Detector::HuggingfaceToken => "huggingface_token",
            Detector::TwilioAuthToken => "twilio_auth_token",
            Detector::SendgridApiKey => "sendgrid_api_key",
            Detector::NpmToken => "npm_token",
            Detector::PypiToken => "pypi_token",
            Detector::DatabaseUrl => "database_url",
        }
    }

    /// The built-in detector with this id.
    pub fn from_id(id: &str) -> Option<Detector> {
        Detector::ALL.into_iter().find(|d| d.id() == id)
    }

    pub(crate) const fn bit(self) -> u64 {
        1 << self as u32
    }
}

impl fmt::Display for Detector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A built-in detector or the index of a custom one (keyword list, regex, EDM set) in the
/// engine's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum DetectorRef {
    Builtin(Detector),
    Custom(usize),
}

/// One match before masking: which detector, where, how sure. Lives only for one scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Detection {
    pub detector: DetectorRef,
    pub start: usize,
    pub end: usize,
    pub confidence: Confidence,
}

impl Detection {
    pub fn builtin(d: Detector, start: usize, end: usize, confidence: Confidence) -> Self {
        Detection {
            detector: DetectorRef::Builtin(d),
            start,
            end,
            confidence,
        }
    }
}

/// Which detectors a scan runs: built-ins as bits, custom detectors by index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DetectorSet {
    builtin: u64,
    custom: Vec<bool>,
}

impl DetectorSet {
    pub fn insert(&mut self, d: DetectorRef) {
        match d {
            DetectorRef::Builtin(b) => self.builtin |= b.bit(),
            DetectorRef::Custom(i) => {
                if self.custom.len() <= i {
                    self.custom.resize(i + 1, false);
                }
                self.custom[i] = true;
            }
        }
    }

    pub fn has(&self, d: Detector) -> bool {
        self.builtin & d.bit() != 0
    }

    /// Whether any of `ds` is in the set.
    pub fn any(&self, ds: &[Detector]) -> bool {
        ds.iter().any(|d| self.has(*d))
    }

    pub fn has_custom(&self, i: usize) -> bool {
        self.custom.get(i).copied().unwrap_or(false)
    }

    pub fn any_custom(&self) -> bool {
        self.custom.iter().any(|b| *b)
    }

    pub fn union(&mut self, other: &DetectorSet) {
        self.builtin |= other.builtin;
        for (i, on) in other.custom.iter().enumerate() {
            if *on {
                self.insert(DetectorRef::Custom(i));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for d in Detector::ALL {
            assert_eq!(Detector::from_id(d.id()), Some(d));
            assert!(seen.insert(d.id()));
        }
        assert_eq!(Detector::from_id("aws-access-key"), None);
    }

    #[test]
    fn sets_hold_builtins_and_customs() {
        let mut s = DetectorSet::default();
        s.insert(DetectorRef::Builtin(Detector::Jwt));
        s.insert(DetectorRef::Custom(3));
        assert!(s.has(Detector::Jwt) && !s.has(Detector::Iban));
        assert!(s.has_custom(3) && !s.has_custom(2) && !s.has_custom(40));
        let mut t = DetectorSet::default();
        t.union(&s);
        assert_eq!(t, s);
    }
}
