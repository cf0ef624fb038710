//! Shared by the detectors' unit tests: scan a text with one detector, get plain tuples back.

use crate::anchors::CustomAnchors;
use crate::context::ContextWords;
use crate::custom::Customs;
use crate::detector::{Detector, DetectorRef, DetectorSet};
use crate::patterns::Patterns;
use crate::placeholder::Placeholders;
use crate::scan::Scanner;
use std::sync::LazyLock;

static SCANNER: LazyLock<Scanner> = LazyLock::new(|| Scanner {
    custom_anchors: CustomAnchors::new(&[]).unwrap(),
    pats: Patterns::compile().unwrap(),
    ctx: ContextWords::new(),
    ph: Placeholders::new(),
    customs: Customs::default(),
});

/// `(start, end, confidence)` of every match of `d` alone in `text`.
pub(crate) fn found(text: &str, d: Detector) -> Vec<(usize, usize, &'static str)> {
    let mut set = DetectorSet::default();
    set.insert(DetectorRef::Builtin(d));
    SCANNER
        .scan(text.as_bytes(), &set)
        .unwrap_or_default()
        .into_iter()
        .filter(|x| x.detector == DetectorRef::Builtin(d))
        .map(|x| (x.start, x.end, x.confidence.as_str()))
        .collect()
}

/// The detections `run` records for the detector `d` when handed a scan context over `text`.
pub(crate) fn run_with(
    text: &str,
    d: Detector,
    run: impl FnOnce(&mut crate::scan::Cx<'_>),
) -> Vec<(usize, usize)> {
    let mut set = DetectorSet::default();
    set.insert(DetectorRef::Builtin(d));
    let mut out = crate::detections::Detections::default();
    let mut cx = crate::scan::Cx {
        text: text.as_bytes(),
        set: &set,
        pats: &SCANNER.pats,
        ctx: &SCANNER.ctx,
        ph: &SCANNER.ph,
        out: &mut out,
        state: Default::default(),
    };
    run(&mut cx);
    out.items().iter().map(|x| (x.start, x.end)).collect()
}
