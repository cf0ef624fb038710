//! One scan of one text: the anchor pass (and the custom keywords' pass), the digit pass, the
//! `@` pass and the line pass, each run only when the profile enables a detector that needs
//! it; then custom detectors; then overlapping matches resolved (see [`Detections`]). Returns
//! raw [`Detection`]s: masking happens in the engine.

use super::anchors::{self, CustomAnchors};
use super::context::ContextWords;
use super::custom::Customs;
use super::detections::Detections;
use super::detector::{Detection, Detector, DetectorSet};
use super::detectors;
use super::encoded;
use super::finding::Confidence;
use super::invisible;
use super::nested::Decoding;
use super::numbers;
use super::patterns::Patterns;
use super::placeholder::Placeholders;

/// Everything a detector needs while it looks at one hit, and where it puts what it found.
pub(crate) struct Cx<'a> {
    pub text: &'a [u8],
    pub set: &'a DetectorSet,
    pub pats: &'a Patterns,
    pub ctx: &'a ContextWords,
    pub ph: &'a Placeholders,
    pub out: &'a mut Detections,
    /// What detectors remember between hits of one scan (theirs to define; the driver only
    /// starts it empty).
    pub state: detectors::ScanState,
}

impl Cx<'_> {
    /// Records a match of `d` when the scan asked for it, confidence moved by context words.
    pub fn found(&mut self, d: Detector, start: usize, end: usize, base: Confidence) {
        if self.set.has(d) {
            let confidence = self.ctx.adjust(self.text, d, start, end, base);
            self.out.push(Detection::builtin(d, start, end, confidence));
        }
    }

    /// Records a match whose confidence context words must not move (published test values).
    pub fn found_fixed(&mut self, d: Detector, start: usize, end: usize, c: Confidence) {
        if self.set.has(d) {
            self.out.push(Detection::builtin(d, start, end, c));
        }
    }
}

/// The compiled parts of an engine that a scan reads.
#[derive(Debug, Clone)]
pub(crate) struct Scanner {
    pub custom_anchors: CustomAnchors,
    pub pats: Patterns,
    pub ctx: ContextWords,
    pub ph: Placeholders,
    pub customs: Customs,
}

const ANCHORED: &[Detector] = &[
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

/// The detectors of the digit pass: numbers, and the ids and tokens that start with capitals
/// and digits (NINO, PAN, GitLab runner registration).
const NUMBERED: &[Detector] = &[
    Detector::CreditCard,
    Detector::Iban,
    Detector::UsSsn,
    Detector::UkNino,
    Detector::CaSin,
    Detector::DeTaxId,
    Detector::FrNir,
    Detector::InAadhaar,
    Detector::InPan,
    Detector::BrCpf,
    Detector::GitlabToken,
];

impl Scanner {
    /// All detections of the detectors in `set` in `text`, sorted by start. Invisible
    /// characters are stripped and digits folded first (see [`invisible`]); long base64 runs
    /// are decoded for numbers (see [`encoded`]); offsets are the original text's. `Err` with
    /// the reason when encodings were nested past the decode depth or budget (see `nested`):
    /// such a text is unscannable, not clean.
    pub fn scan(&self, text: &[u8], set: &DetectorSet) -> Result<Vec<Detection>, &'static str> {
        let mut dec = Decoding::new(text.len());
        let found = self.scan_folded(text, set, &mut dec);
        match dec.over {
            Some(reason) => Err(reason),
            None => Ok(found),
        }
    }

    /// What the numeric detectors of `sub` find in a decoded base64 run, decoded further
    /// within `dec`.
    pub(crate) fn scan_nested(
        &self,
        text: &[u8],
        sub: &DetectorSet,
        dec: &mut Decoding,
    ) -> Vec<Detection> {
        self.scan_folded(text, sub, dec)
    }

    fn scan_folded(&self, text: &[u8], set: &DetectorSet, dec: &mut Decoding) -> Vec<Detection> {
        let stripped = invisible::strip(text);
        if stripped.is_plain() {
            return self.scan_visible(text, set, dec);
        }
        let mut found = self.scan_visible(&stripped.text, set, dec);
        for d in &mut found {
            (d.start, d.end) = stripped.original(d.start, d.end);
        }
        found
    }

    fn scan_visible(&self, text: &[u8], set: &DetectorSet, dec: &mut Decoding) -> Vec<Detection> {
        let mut out = Detections::default();
        let mut cx = Cx {
            text,
            set,
            pats: &self.pats,
            ctx: &self.ctx,
            ph: &self.ph,
            out: &mut out,
            state: Default::default(),
        };
        if set.any(ANCHORED) {
            anchors::for_each(text, |anchor, start, end| {
                if set.any(anchor.detectors()) {
                    detectors::on_anchor(&mut cx, anchor, start, end);
                }
            });
        }
        cx.out.next_run();
        if self.customs.anchored_in(set) {
            for (regex, start) in self.custom_anchors.hits(text) {
                self.customs.on_anchor(&mut cx, regex, start);
            }
        }
        cx.out.next_run();
        if set.any(NUMBERED) {
            numbers::scan(&mut cx);
        }
        cx.out.next_run();
        if set.has(Detector::EmailAddress) {
            for at in memchr::memchr_iter(b'@', text) {
                detectors::email::detect(&mut cx, at);
            }
        }
        cx.out.next_run();
        if set.has(Detector::SourceCode) {
            detectors::code::scan(&mut cx);
        }
        cx.out.next_run();
        self.customs.scan_unanchored(&mut cx);
        cx.out.next_run();
        if text.len() >= encoded::MIN_RUN && dec.over.is_none() {
            if let Some(sub) = encoded::numeric_subset(set) {
                encoded::scan(self, &mut cx, &sub, dec);
            }
        }
        out.resolve()
    }
}
