//! The built-in detectors, one file per family. Each looks at one hit (an anchor, a digit run,
//! an `@`) in a bounded window, runs its regex and validators there, and records what it
//! confirms through [`Cx::found`]. None of them allocates unless it finds something.

pub(crate) mod ai;
pub(crate) mod aws;
pub(crate) mod card;
pub(crate) mod cloud;
pub(crate) mod code;
pub(crate) mod email;
pub(crate) mod iban;
pub(crate) mod ids;
pub(crate) mod json;
pub(crate) mod jwt;
pub(crate) mod pem;
pub(crate) mod saas;
pub(crate) mod ssn;
pub(crate) mod tokens;
pub(crate) mod vcs;

#[cfg(test)]
pub(crate) mod tests_support;

use super::anchors::Anchor;
use super::scan::Cx;

/// What detectors remember between the hits of one scan: kept here, beside the detectors
/// that use it, so the scan driver carries it without knowing what is in it.
#[derive(Default)]
pub(crate) struct ScanState {
    /// Where the AWS secret search has been: windows of nearby anchors overlap.
    pub aws: aws::Progress,
    /// Room for decoded bytes (JWT parts), reused by every hit of one scan.
    pub scratch: Vec<u8>,
    /// Where the last JWT-shaped token ends, when no further part follows it: the `eyJ` of
    /// its payload (or of its signature) starts no other JWT (see `jwt::detect`).
    pub jwt_shaped_to: usize,
}

/// Runs the detector(s) behind `anchor`, whose literal part is `start..end`.
pub(crate) fn on_anchor(cx: &mut Cx<'_>, anchor: Anchor, start: usize, end: usize) {
    match anchor {
        Anchor::AwsKeyId => aws::key_id(cx, start),
        Anchor::AwsContext => aws::secret_near(cx, start, end, false),
        Anchor::Github => vcs::github(cx, start),
        Anchor::Gitlab => vcs::gitlab(cx, start),
        Anchor::Slack => saas::slack(cx, start),
        Anchor::SlackHook => saas::slack_hook(cx, start),
        Anchor::Stripe => saas::stripe(cx, start),
        Anchor::SkDash => ai::sk_dash(cx, start),
        Anchor::Google => saas::google(cx, start),
        Anchor::Pem => pem::detect(cx, start),
        Anchor::Jwt => jwt::detect(cx, start),
        Anchor::Huggingface => tokens::huggingface(cx, start),
        Anchor::Npm => tokens::npm(cx, start),
        Anchor::Pypi => tokens::pypi(cx, start),
        Anchor::Sendgrid => tokens::sendgrid(cx, start),
        Anchor::TwilioSid => tokens::twilio_sid(cx, start),
        Anchor::TwilioNamed => tokens::twilio_named(cx, end),
        Anchor::AzureKey => cloud::azure_key(cx, end),
        Anchor::AzureSas => cloud::azure_sas(cx, start),
        Anchor::Gcp => cloud::gcp(cx, start),
        Anchor::DbUrl => cloud::database_url(cx, start),
    }
}
