//! `aws_access_key_id` (`AKIA`/`ASIA` + 16) and `aws_secret_access_key` (40 base64-ish
//! characters, only near AWS context: an access key id, `aws`, `secret_access_key`). A lone
//! 40-character string is never reported: git SHAs and hashes have that shape too.

use crate::byteset::{Bits, ByteSet, BASE64};
use crate::detector::Detector::{AwsAccessKeyId, AwsSecretAccessKey};
use crate::finding::Confidence;
use crate::scan::Cx;
use crate::shape;
use crate::text::{is_alnum, left_boundary, mixed_classes, right_boundary};

const ID_LEN: usize = 20;
const SECRET_LEN: usize = 40;
/// How far from the context a secret may sit (an INI line, a JSON pair, a CSV row).
const BEFORE: usize = 96;
const AFTER: usize = 160;

/// How far one scan's search for secrets has gone. Windows of neighbouring anchors overlap
/// (`aws_secret_access_key` holds two), and a secret read at the end of one window is read
/// again at the start of the next: it is recorded once, unless the later look is surer.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Progress {
    scanned_to: usize,
    /// The start and base confidence of the last secret recorded.
    last: Option<(usize, Confidence)>,
}

/// `AKIA...` at `at`.
pub(crate) fn key_id(cx: &mut Cx<'_>, at: usize) {
    let text = cx.text;
    if !left_boundary(text, at, is_alnum) {
        return;
    }
    let Some(end) = shape::aws_id(text, at, ID_LEN) else {
        return;
    };
    if !right_boundary(text, end, is_alnum) || cx.ph.is_placeholder(&text[at..end]) {
        return;
    }
    let base = if text[at + 4..end].iter().any(u8::is_ascii_digit) {
        Confidence::High
    } else {
        Confidence::Medium // an all-caps word run like ASIAPACIFICMARKETS
    };
    cx.found(AwsAccessKeyId, at, end, base);
    if cx.set.has(AwsSecretAccessKey) {
        secret_near(cx, at, end, true);
    }
}

/// 40-character secrets around the context `start..end`; `strong` when the context is an
/// access key id rather than a word.
pub(crate) fn secret_near(cx: &mut Cx<'_>, start: usize, end: usize, strong: bool) {
    let text = cx.text;
    // `aws` inside `laws` or `draws` is not AWS.
    if !strong
        && text[start].eq_ignore_ascii_case(&b'a')
        && !left_boundary(text, start, |b| b.is_ascii_alphabetic())
    {
        return;
    }
    let lo = start.saturating_sub(BEFORE).max(cx.state.aws.scanned_to);
    let hi = end.saturating_add(AFTER).min(text.len());
    if lo >= hi {
        return; // an earlier anchor's window covered this one
    }
    cx.state.aws.scanned_to = hi;
    // An access key id anywhere in the window makes the claim strong, whichever anchor came
    // first (`aws_access_key_id = AKIA...` hits `_access_key` before `AKIA`).
    let strong = strong || has_key_id(text, start.saturating_sub(BEFORE), hi);
    let base = if strong {
        Confidence::High
    } else {
        Confidence::Medium
    };
    for run_start in secret_runs(text, lo, hi) {
        let run_end = run_start + SECRET_LEN;
        if cx
            .state
            .aws
            .last
            .is_some_and(|(s, c)| s == run_start && c >= base)
            || !is_secret(cx, run_start, run_end, start, end)
        {
            continue; // a repeat, read by the previous window
        }
        cx.state.aws.last = Some((run_start, base));
        cx.found(AwsSecretAccessKey, run_start, run_end, base);
    }
}

/// The starts, in order, of the runs of exactly [`SECRET_LEN`] base64 bytes (`[A-Za-z0-9+/]`,
/// with no such byte on either side) that share a byte with `lo..hi`.
///
/// No run is walked: for 64 starts at a time, one 128-bit mask of the bytes from the one
/// before the first start on says, by shifted ANDs, where 40 bytes in a row are base64 and
/// the bytes on either side are not. A window of random tokens holds many runs, and only a
/// secret's length matters.
fn secret_runs(text: &[u8], lo: usize, hi: usize) -> impl Iterator<Item = usize> + '_ {
    let first = (lo + 1).saturating_sub(SECRET_LEN);
    // Bits `0..64` of the mask: the bytes from `block - 1`; before the text's start, none.
    let low_half = |block: usize| match block.checked_sub(1) {
        Some(from) => BASE64.mask_in(text, from, (from + 64).min(text.len())),
        None => BASE64.mask_in(text, 0, text.len().min(63)) << 1,
    };
    let mut low = low_half(first);
    (first..hi).step_by(64).flat_map(move |block| {
        // Bits `64..128`: the bytes from `block + 63`, which are the next block's low half.
        let from = block + 63;
        let high = if from < text.len() {
            BASE64.mask_in(text, from, (from + 64).min(text.len()))
        } else {
            0
        };
        let m = u128::from(low) | u128::from(high) << 64;
        low = high;
        // Bit `j`: the 40 bytes from `block - 1 + j` are all base64.
        let r2 = m & m >> 1;
        let r4 = r2 & r2 >> 2;
        let r8 = r4 & r4 >> 4;
        let r16 = r8 & r8 >> 8;
        let r32 = r16 & r16 >> 16;
        let r40 = r32 & r8 >> 32;
        // ...and the byte before and the byte after are not; starts `1..=64` are this block's,
        // and only those before `hi`.
        let starts = r40 & !(m << 1) & !(m >> SECRET_LEN);
        let last = (hi - block).min(64);
        let starts = (starts >> 1) as u64 & (u64::MAX >> (64 - last));
        Bits(starts).map(move |k| block + k)
    })
}

/// Whether the base64 run `run_start..run_end`, of exactly 40 `[A-Za-z0-9/+]` bytes (what
/// `AWS_SECRET` matches), is a secret near the context `start..end`.
fn is_secret(cx: &Cx<'_>, run_start: usize, run_end: usize, start: usize, end: usize) -> bool {
    let text = cx.text;
    if text.get(run_end) == Some(&b'=') || (run_start < end && start < run_end) {
        return false;
    }
    let token = &text[run_start..run_end];
    mixed_classes(token) && !cx.ph.is_placeholder(token)
}

/// Whether `text[from..to]` holds `AKIA` or `ASIA`: its `A`s from a bit mask per 64 bytes (a
/// window of random secrets has several, and a search call per `A` costs more than the mask).
fn has_key_id(text: &[u8], from: usize, to: usize) -> bool {
    const A: ByteSet = ByteSet::of(b"A");
    (from..to).step_by(64).any(|piece| {
        Bits(A.mask_in(text, piece, (piece + 64).min(to))).any(|k| {
            let at = piece + k;
            matches!(text[..to].get(at + 1..at + 4), Some(b"KIA" | b"SIA"))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::Detector;
    use crate::detectors::tests_support::found;
    use crate::samples::{Sample, SampleRng};
    use crate::text::is_b64;

    #[test]
    fn key_ids_are_found_with_boundaries() {
        let id = Sample::AwsAccessKeyId.generate(&mut SampleRng::new(1));
        let t = format!("key: {id}\n");
        assert_eq!(found(&t, Detector::AwsAccessKeyId), [(5, 25, "high")]);
        assert!(found(&format!("x{id}"), Detector::AwsAccessKeyId).is_empty());
        assert!(found(&format!("{id}Z"), Detector::AwsAccessKeyId).is_empty());
        assert!(found("AKIAIOSFODNN7EXAMPLE", Detector::AwsAccessKeyId).is_empty());
        assert!(found("AKIAXXXXXXXXXXXXXXXX", Detector::AwsAccessKeyId).is_empty());
        assert!(found("AKIA1234", Detector::AwsAccessKeyId).is_empty());
    }

    #[test]
    fn secrets_need_aws_context() {
        let mut rng = SampleRng::new(2);
        let id = Sample::AwsAccessKeyId.generate(&mut rng);
        let secret = Sample::AwsSecretAccessKey.generate(&mut rng);
        let csv = format!("Access key ID,Secret access key\n{id},{secret}\n");
        let hits = found(&csv, Detector::AwsSecretAccessKey);
        assert_eq!(hits.len(), 1);
        assert_eq!(&csv[hits[0].0..hits[0].1], secret);
        let ini = format!("[default]\naws_secret_access_key = {secret}\n");
        assert_eq!(found(&ini, Detector::AwsSecretAccessKey).len(), 1);
        assert!(found(
            &format!("commit {secret} done"),
            Detector::AwsSecretAccessKey
        )
        .is_empty());
        // A 40-hex git SHA next to "aws" is not a secret.
        let sha = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
        assert!(found(&format!("aws commit {sha}"), Detector::AwsSecretAccessKey).is_empty());
        assert!(found(
            "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            Detector::AwsSecretAccessKey
        )
        .is_empty());
        assert!(found(&format!("laws {secret}"), Detector::AwsSecretAccessKey).is_empty());
        assert_eq!(found(&ini, Detector::AwsSecretAccessKey)[0].2, "high");
    }

    /// Runs of exactly a secret's length, as a walk over the bytes finds them, wherever the
    /// window and the runs fall against the 64-byte blocks and the text's ends.
    #[test]
    fn secret_runs_match_a_walk() {
        let mut seed = 7u32;
        let mut text: Vec<u8> = (0..700)
            .map(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                // Long base64 stretches broken now and then, so that runs of 40 occur.
                if (seed >> 24).is_multiple_of(23) {
                    b" =_-\n"[(seed >> 8) as usize % 5]
                } else {
                    b"aZ9+/"[(seed >> 8) as usize % 5]
                }
            })
            .collect();
        for (at, len) in [
            (0, 40),
            (100, 40),
            (141, 40),
            (300, 41),
            (400, 39),
            (660, 40),
        ] {
            text[at..at + len].fill(b'Q');
            if at > 0 {
                text[at - 1] = b' ';
            }
            if let Some(b) = text.get_mut(at + len) {
                *b = b' ';
            }
        }
        let walk = |lo: usize, hi: usize| -> Vec<usize> {
            let mut out = Vec::new();
            let mut i = 0;
            while i < text.len() {
                if !is_b64(text[i]) {
                    i += 1;
                    continue;
                }
                let s = i;
                while i < text.len() && is_b64(text[i]) {
                    i += 1;
                }
                if i - s == SECRET_LEN && s < hi && i > lo {
                    out.push(s);
                }
            }
            out
        };
        assert!(walk(0, text.len()).len() >= 4);
        for lo in (0..text.len()).step_by(13) {
            for hi in [lo + 1, lo + 63, lo + 64, lo + 65, lo + 256, text.len()] {
                let hi = hi.min(text.len());
                if lo < hi {
                    let runs: Vec<usize> = secret_runs(&text, lo, hi).collect();
                    assert_eq!(runs, walk(lo, hi), "{lo}..{hi}");
                }
            }
        }
    }

    #[test]
    fn a_secret_read_by_two_windows_is_one_finding() {
        let mut rng = SampleRng::new(4);
        let lines: String = (0..6)
            .map(|_| {
                let s = Sample::AwsSecretAccessKey.generate(&mut rng);
                format!("aws_secret_access_key = {s}\nfoo\n")
            })
            .collect();
        assert_eq!(found(&lines, Detector::AwsSecretAccessKey).len(), 6);
    }
}
