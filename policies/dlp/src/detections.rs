//! The detections of one scan, kept in text order as they come, and the overlaps between them
//! resolved at the end.
//!
//! Each pass of a scan (anchors, custom keywords, digits, `@`, lines, custom detectors) finds
//! its matches in text order, all but a few: an AWS secret is found ahead of the anchor being
//! read. Such a one is slid into place when it is pushed (a short shift of the pass's last
//! few detections), so every pass leaves one ordered run, and the runs are merged at the end
//! instead of sorting the whole list. A detection that would have to slide far (adversarial
//! text) marks its run unordered; that run alone is sorted before the merge.

use super::detector::{Detection, Detector, DetectorRef};
use std::cmp::Reverse;

/// Detections of one scan, in runs (one per pass), each ordered by [`key`] unless marked.
#[derive(Debug, Default)]
pub(crate) struct Detections {
    items: Vec<Detection>,
    /// Where each run after the first starts in `items`.
    runs: Vec<usize>,
    /// Runs (by their start) that a far push left out of order.
    unordered: Vec<usize>,
}

/// The text order of detections: by start, the longer first where two start together.
fn key(d: &Detection) -> (usize, Reverse<usize>) {
    (d.start, Reverse(d.end))
}

/// The most detections a late one slides past; further, its run is sorted at the end.
const MAX_SLIDE: usize = 16;

impl Detections {
    /// Where the current run starts.
    fn run_start(&self) -> usize {
        self.runs.last().copied().unwrap_or(0)
    }

    /// Starts the run of the next pass.
    pub fn next_run(&mut self) {
        if self.items.len() > self.run_start() {
            self.runs.push(self.items.len());
        }
    }

    /// Adds `d` to the current run, after every detection of the run not after it.
    pub fn push(&mut self, d: Detection) {
        let run_start = self.run_start();
        let run = &self.items[run_start..];
        match run.last() {
            Some(last) if key(&d) < key(last) => {
                let from = run.len().saturating_sub(MAX_SLIDE);
                let at = from + run[from..].partition_point(|x| key(x) <= key(&d));
                if at == from && from > 0 && key(&run[from - 1]) > key(&d) {
                    if self.unordered.last() != Some(&run_start) {
                        self.unordered.push(run_start);
                    }
                    self.items.push(d);
                } else {
                    self.items.insert(run_start + at, d);
                }
            }
            _ => self.items.push(d),
        }
    }

    /// Everything pushed so far, unresolved.
    #[cfg(test)]
    pub fn items(&self) -> &[Detection] {
        &self.items
    }

    /// The detections in text order, overlaps between built-in token detectors settled: the
    /// same detector found twice (two anchors near one AWS secret) keeps one; different
    /// detectors keep the more confident, then the longer. Source code segments and custom
    /// detectors overlap freely: a key inside pasted code is two findings.
    pub fn resolve(mut self) -> Vec<Detection> {
        self.next_run();
        let mut bounds = Vec::with_capacity(self.runs.len() + 1);
        bounds.push(0);
        bounds.extend(self.runs.iter().copied().filter(|&r| r < self.items.len()));
        for (i, &start) in bounds.iter().enumerate() {
            if self.unordered.contains(&start) {
                let end = bounds.get(i + 1).copied().unwrap_or(self.items.len());
                self.items[start..end].sort_by_key(key);
            }
        }
        let merged = merge(self.items, &bounds);
        let mut kept: Vec<Detection> = Vec::with_capacity(merged.len());
        let mut last: Option<usize> = None; // index in `kept` of the last competing detection
        for d in merged {
            if !competes(&d) {
                kept.push(d);
                continue;
            }
            if let Some(i) = last {
                let prev = kept[i];
                if d.start < prev.end {
                    let better =
                        (d.confidence, d.end - d.start) > (prev.confidence, prev.end - prev.start);
                    if better {
                        kept[i] = d;
                    }
                    continue;
                }
            }
            last = Some(kept.len());
            kept.push(d);
        }
        // A replacement can start after detections kept behind it: mostly ordered already.
        kept.sort_by_key(|d| d.start);
        kept
    }
}

/// Whether `d` competes with the detections it overlaps (see [`Detections::resolve`]).
fn competes(d: &Detection) -> bool {
    !matches!(
        d.detector,
        DetectorRef::Custom(_) | DetectorRef::Builtin(Detector::SourceCode)
    )
}

/// The ordered runs of `items` (starting at `bounds`, the first at 0) merged into one list in
/// [`key`] order; of equal keys, the earlier run's first, as a stable sort of the whole list
/// would have them. Merged two at a time from the last: the later passes' runs are short.
fn merge(items: Vec<Detection>, bounds: &[usize]) -> Vec<Detection> {
    let Some((&last, earlier)) = bounds.split_last() else {
        return items;
    };
    if earlier.is_empty() {
        return items;
    }
    let mut merged = items[last..].to_vec();
    let mut end = last;
    for &start in earlier.iter().rev() {
        let run = &items[start..end];
        let mut both = Vec::with_capacity(run.len() + merged.len());
        let (mut i, mut j) = (0, 0);
        while i < run.len() && j < merged.len() {
            if key(&merged[j]) < key(&run[i]) {
                both.push(merged[j]);
                j += 1;
            } else {
                both.push(run[i]);
                i += 1;
            }
        }
        both.extend_from_slice(&run[i..]);
        both.extend_from_slice(&merged[j..]);
        merged = both;
        end = start;
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Confidence;

    fn det(d: Detector, start: usize, end: usize, c: Confidence) -> Detection {
        Detection::builtin(d, start, end, c)
    }

    #[test]
    fn overlaps_keep_the_stronger_and_code_stays() {
        let mut found = Detections::default();
        for d in [
            det(Detector::CreditCard, 10, 29, Confidence::Medium),
            det(Detector::SourceCode, 0, 100, Confidence::High),
            det(Detector::Iban, 5, 32, Confidence::High),
            det(Detector::AwsSecretAccessKey, 40, 80, Confidence::High),
            det(Detector::AwsSecretAccessKey, 40, 80, Confidence::High),
        ] {
            found.push(d);
        }
        let ids: Vec<_> = found
            .resolve()
            .iter()
            .map(|d| (d.detector, d.start))
            .collect();
        assert_eq!(
            ids,
            [
                (DetectorRef::Builtin(Detector::SourceCode), 0),
                (DetectorRef::Builtin(Detector::Iban), 5),
                (DetectorRef::Builtin(Detector::AwsSecretAccessKey), 40),
            ]
        );
    }

    /// What `resolve` did before runs: a stable sort of everything, then the same loop.
    fn sorted_then_resolved(mut all: Vec<Detection>) -> Vec<Detection> {
        all.sort_by_key(key);
        let mut found = Detections::default();
        for d in all {
            found.push(d);
        }
        found.resolve()
    }

    #[test]
    fn runs_in_any_order_resolve_as_one_sorted_list() {
        let kinds = [
            Detector::AwsSecretAccessKey,
            Detector::CreditCard,
            Detector::SourceCode,
            Detector::Jwt,
        ];
        let confidences = [Confidence::Low, Confidence::Medium, Confidence::High];
        let mut seed = 7u64;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n
        };
        for round in 0..200 {
            let mut found = Detections::default();
            let mut all = Vec::new();
            let runs = 1 + next(5);
            for _ in 0..runs {
                found.next_run();
                let mut at = 0;
                for _ in 0..next(60) {
                    // Mostly ascending; some land ahead and some far behind.
                    at += next(8);
                    let start = match next(10) {
                        0 => at + next(40),
                        1 if round % 3 == 0 => next(at + 1),
                        _ => at,
                    };
                    let d = det(
                        kinds[next(4)],
                        start,
                        start + 1 + next(30),
                        confidences[next(3)],
                    );
                    found.push(d);
                    all.push(d);
                }
            }
            assert_eq!(found.items().len(), all.len());
            assert_eq!(found.resolve(), sorted_then_resolved(all), "round {round}");
        }
    }
}
