//! Synthetic sensitive values for tests, benchmarks and demos: every [`Sample`] is generated
//! from a seeded [`SampleRng`], passes its detector's validators (Luhn, mod-97, GitHub's
//! CRC32, JSON headers) and belongs to nobody. Nothing real-looking is committed to the repo:
//! the corpus and the benches generate what they need, the same way on every run.

use super::detector::Detector;

mod documents;
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
}

impl Sample {
    pub const ALL: [Sample; 20] = [
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
