//! Synthetic sensitive values for tests, benchmarks and demos: every [`Sample`] is generated
//! from a seeded [`SampleRng`], passes its detector's validators (Luhn, mod-97, GitHub's
//! CRC32, JSON headers) and belongs to nobody. Nothing real-looking is committed to the repo:
//! the corpus and the benches generate what they need, the same way on every run.

use super::detector::Detector;

mod documents;
mod more;
mod values;

pub use documents::{prose, secret_dense};

/// SplitMix64: small, fast and the same everywhere.
#[derive(Debug, Clone)]
pub struct SampleRng(u64);

impl SampleRng {
    pub fn new(seed: u64) -> Self {
        SampleRng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`; 0 when `n == 0`).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.next_u64() % n as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// `n` characters drawn from `alphabet` (ASCII).
    pub fn chars(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n).map(|_| char::from(*self.pick(alphabet))).collect()
    }

    /// Like [`Self::chars`], redrawn until upper, lower case and digits all occur.
    pub(super) fn mixed(&mut self, alphabet: &[u8], n: usize) -> String {
        loop {
            let s = self.chars(alphabet, n);
            if super::text::mixed_classes(s.as_bytes()) {
                return s;
            }
        }
    }

    pub(super) fn digits(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.below(10) as u8).collect()
    }
}

/// A kind of synthetic value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sample {
    CreditCard,
    Iban,
    UsSsn,
    EmailAddress,
    AwsAccessKeyId,
    AwsSecretAccessKey,
    GithubToken,
    GithubFineGrainedToken,
    GitlabToken,
    SlackBotToken,
    SlackUserToken,
    SlackWebhook,
    StripeSecretKey,
    OpenaiApiKey,
    OpenaiProjectKey,
    AnthropicApiKey,
    GoogleApiKey,
    PrivateKey,
    OpensshPrivateKey,
    Jwt,
    GitlabOtherToken,
    GitlabRunnerToken,
    SlackAppToken,
    SlackConfigToken,
    StripeTestKey,
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

impl Sample {
    /// How many of [`Sample::ALL`] the benchmark's secret-dense text draws from: the kinds
    /// it has always held, so that its input stays the same from one build to the next.
    pub const SECRET_DENSE_KINDS: usize = 20;

    pub const ALL: [Sample; 41] = [
        Sample::CreditCard,
        Sample::Iban,
        Sample::UsSsn,
        Sample::EmailAddress,
        Sample::AwsAccessKeyId,
        Sample::AwsSecretAccessKey,
        Sample::GithubToken,
        Sample::GithubFineGrainedToken,
        Sample::GitlabToken,
        Sample::SlackBotToken,
        Sample::SlackUserToken,
        Sample::SlackWebhook,
        Sample::StripeSecretKey,
        Sample::OpenaiApiKey,
        Sample::OpenaiProjectKey,
        Sample::AnthropicApiKey,
        Sample::GoogleApiKey,
        Sample::PrivateKey,
        Sample::OpensshPrivateKey,
        Sample::Jwt,
        Sample::GitlabOtherToken,
        Sample::GitlabRunnerToken,
        Sample::SlackAppToken,
        Sample::SlackConfigToken,
        Sample::StripeTestKey,
        Sample::UkNino,
        Sample::CaSin,
        Sample::DeTaxId,
        Sample::FrNir,
        Sample::InAadhaar,
        Sample::InPan,
        Sample::BrCpf,
        Sample::AzureStorageKey,
        Sample::AzureSasToken,
        Sample::GcpServiceAccount,
        Sample::HuggingfaceToken,
        Sample::TwilioAuthToken,
        Sample::SendgridApiKey,
        Sample::NpmToken,
        Sample::PypiToken,
        Sample::DatabaseUrl,
    ];

    /// The sample's name in corpus templates: `{credit_card}`, `{slack_webhook}`...
    pub fn name(self) -> &'static str {
        match self {
            Sample::CreditCard => "credit_card",
            Sample::Iban => "iban",
            Sample::UsSsn => "us_ssn",
            Sample::EmailAddress => "email_address",
            Sample::AwsAccessKeyId => "aws_access_key_id",
            Sample::AwsSecretAccessKey => "aws_secret_access_key",
            Sample::GithubToken => "github_token",
            Sample::GithubFineGrainedToken => "github_fine_grained_token",
            Sample::GitlabToken => "gitlab_token",
            Sample::SlackBotToken => "slack_bot_token",
            Sample::SlackUserToken => "slack_user_token",
            Sample::SlackWebhook => "slack_webhook",
            Sample::StripeSecretKey => "stripe_secret_key",
            Sample::OpenaiApiKey => "openai_api_key",
            Sample::OpenaiProjectKey => "openai_project_key",
            Sample::AnthropicApiKey => "anthropic_api_key",
            Sample::GoogleApiKey => "google_api_key",
            Sample::PrivateKey => "private_key",
            Sample::OpensshPrivateKey => "openssh_private_key",
            Sample::Jwt => "jwt",
            Sample::GitlabOtherToken => "gitlab_other_token",
            Sample::GitlabRunnerToken => "gitlab_runner_token",
            Sample::SlackAppToken => "slack_app_token",
            Sample::SlackConfigToken => "slack_config_token",
            Sample::StripeTestKey => "stripe_test_key",
            Sample::UkNino => "uk_nino",
            Sample::CaSin => "ca_sin",
            Sample::DeTaxId => "de_tax_id",
            Sample::FrNir => "fr_nir",
            Sample::InAadhaar => "in_aadhaar",
            Sample::InPan => "in_pan",
            Sample::BrCpf => "br_cpf",
            Sample::AzureStorageKey => "azure_storage_key",
            Sample::AzureSasToken => "azure_sas_token",
            Sample::GcpServiceAccount => "gcp_service_account",
            Sample::HuggingfaceToken => "huggingface_token",
            Sample::TwilioAuthToken => "twilio_auth_token",
            Sample::SendgridApiKey => "sendgrid_api_key",
            Sample::NpmToken => "npm_token",
            Sample::PypiToken => "pypi_token",
            Sample::DatabaseUrl => "database_url",
        }
    }

    /// The sample named `name` (see [`Sample::name`]).
    pub fn from_name(name: &str) -> Option<Sample> {
        Sample::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The detector that must find this sample.
    pub fn detector(self) -> Detector {
        match self {
            Sample::CreditCard => Detector::CreditCard,
            Sample::Iban => Detector::Iban,
            Sample::UsSsn => Detector::UsSsn,
            Sample::EmailAddress => Detector::EmailAddress,
            Sample::AwsAccessKeyId => Detector::AwsAccessKeyId,
            Sample::AwsSecretAccessKey => Detector::AwsSecretAccessKey,
            Sample::GithubToken | Sample::GithubFineGrainedToken => Detector::GithubToken,
            Sample::GitlabToken => Detector::GitlabToken,
            Sample::SlackBotToken | Sample::SlackUserToken | Sample::SlackWebhook => {
                Detector::SlackToken
            }
            Sample::StripeSecretKey => Detector::StripeSecretKey,
            Sample::OpenaiApiKey | Sample::OpenaiProjectKey => Detector::OpenaiApiKey,
            Sample::AnthropicApiKey => Detector::AnthropicApiKey,
            Sample::GoogleApiKey => Detector::GoogleApiKey,
            Sample::PrivateKey | Sample::OpensshPrivateKey => Detector::PrivateKey,
            Sample::Jwt => Detector::Jwt,
            Sample::GitlabOtherToken => Detector::GitlabToken,
            Sample::GitlabRunnerToken => Detector::GitlabToken,
            Sample::SlackAppToken => Detector::SlackToken,
            Sample::SlackConfigToken => Detector::SlackToken,
            Sample::StripeTestKey => Detector::StripeSecretKey,
            Sample::UkNino => Detector::UkNino,
            Sample::CaSin => Detector::CaSin,
            Sample::DeTaxId => Detector::DeTaxId,
            Sample::FrNir => Detector::FrNir,
            Sample::InAadhaar => Detector::InAadhaar,
            Sample::InPan => Detector::InPan,
            Sample::BrCpf => Detector::BrCpf,
            Sample::AzureStorageKey => Detector::AzureStorageKey,
            Sample::AzureSasToken => Detector::AzureSasToken,
            Sample::GcpServiceAccount => Detector::GcpServiceAccount,
            Sample::HuggingfaceToken => Detector::HuggingfaceToken,
            Sample::TwilioAuthToken => Detector::TwilioAuthToken,
            Sample::SendgridApiKey => Detector::SendgridApiKey,
            Sample::NpmToken => Detector::NpmToken,
            Sample::PypiToken => Detector::PypiToken,
            Sample::DatabaseUrl => Detector::DatabaseUrl,
        }
    }

    /// A fresh value of this kind.
    pub fn generate(self, rng: &mut SampleRng) -> String {
        values::generate(self, rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic() {
        for s in Sample::ALL {
            assert_eq!(
                s.generate(&mut SampleRng::new(9)),
                s.generate(&mut SampleRng::new(9))
            );
        }
        let ssn = Sample::UsSsn.generate(&mut SampleRng::new(1));
        assert!(crate::detectors::ssn::valid(
            &ssn.bytes()
                .filter(u8::is_ascii_digit)
                .map(|b| b - b'0')
                .collect::<Vec<_>>()
        ));
    }
}
