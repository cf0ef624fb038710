//! `aws_access_key_id` (`AKIA`/`ASIA` + 16) and `aws_secret_access_key` (40 base64-ish
//! characters, only near AWS context: an access key id, `aws`, `secret_access_key`). A lone
//! 40-character string is never reported: git SHAs and hashes have that shape too.

use super::super::byteset::{ByteSet, BASE64};
use super::super::detector::Detector::{AwsAccessKeyId, AwsSecretAccessKey};
use super::super::finding::Confidence;
use super::super::scan::Cx;
use super::super::shape;
use super::super::text::{is_alnum, is_b64, left_boundary, mixed_classes, right_boundary};

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
    let lo = start.saturating_sub(BEFORE).max(cx.aws.scanned_to);
    let hi = end.saturating_add(AFTER).min(text.len());
    if lo >= hi {
        return; // an earlier anchor's window covered this one
    }
    cx.aws.scanned_to = hi;
    // An access key id anywhere in the window makes the claim strong, whichever anchor came
    // first (`aws_access_key_id = AKIA...` hits `_access_key` before `AKIA`).
    let strong = strong || has_key_id(text, start.saturating_sub(BEFORE), hi);
    // Runs of base64 bytes from a bit mask per 64 bytes: no branch per byte.
    let mut piece = lo;
    while piece < hi {
        let piece_end = (piece + 64).min(hi);
        let b64 = BASE64.mask_in(text, piece, piece_end);
        let mut starts = b64 & !(b64 << 1);
        if piece > lo && is_b64(text[piece - 1]) {
            starts &= !1; // the run went on from the previous piece and was read there
        }
        while starts != 0 {
            let k = starts.trailing_zeros() as usize;
            starts &= starts - 1;
            let mut run_end = piece + k + (!(b64 >> k)).trailing_zeros() as usize;
            if run_end == piece_end {
                // Runs on past the piece: read on from a mask, no further than a secret is
                // long (a longer run is cut there, still longer than a secret).
                let cap = (piece + k + SECRET_LEN + 1).min(text.len());
                run_end = BASE64.run_end(text, run_end, cap.max(run_end));
            }
            // Only the window's first run may have begun before it.
            let run_start = if piece + k == lo {
                back_to_run_start(text, lo)
            } else {
                piece + k
            };
            let base = if strong {
                Confidence::High
            } else {
                Confidence::Medium
            };
            if run_end - run_start != SECRET_LEN
                || cx
                    .aws
                    .last
                    .is_some_and(|(s, c)| s == run_start && c >= base)
                || !is_secret(cx, run_start, run_end, start, end)
            {
                continue; // most runs are words; a repeat was read by the previous window
            }
            cx.aws.last = Some((run_start, base));
            cx.found(AwsSecretAccessKey, run_start, run_end, base);
        }
        piece = piece_end;
    }
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
        let mut a = A.mask_in(text, piece, (piece + 64).min(to));
        while a != 0 {
            let at = piece + a.trailing_zeros() as usize;
            a &= a - 1;
            if matches!(text[..to].get(at + 1..at + 4), Some(b"KIA" | b"SIA")) {
                return true;
            }
        }
        false
    })
}

/// Where the base64 run holding `i` starts, looking back no further than a secret is long:
/// a run that goes on past that is too long to be one anyway (and the length check says so).
/// The run's bytes are counted from a bit mask of the bytes before `i`, not one by one.
fn back_to_run_start(text: &[u8], i: usize) -> usize {
    let from = i.saturating_sub(SECRET_LEN + 1);
    let n = i - from;
    if n == 0 {
        return i;
    }
    // Bit `n - 1` (the byte right before `i`) moved to the top: the run is the leading ones.
    let b64 = BASE64.mask_in(text, from, i) << (64 - n);
    i - (!b64).leading_zeros() as usize
}

#[cfg(test)]
mod tests {
    use super::super::super::detector::Detector;
    use super::super::super::samples::{Sample, SampleRng};
    use super::super::tests_support::found;
    use super::*;

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

    #[test]
    fn run_starts_from_masks_match_a_walk_back() {
        let text: Vec<u8> = (0..400u32)
            .map(|i| b"aZ9+/ =_-\n"[((i * i + 3 * i) % 10) as usize])
            .chain(std::iter::repeat_n(b'k', 100))
            .collect();
        for i in 0..=text.len() {
            let mut walk = i;
            while walk > i.saturating_sub(SECRET_LEN + 1) && is_b64(text[walk - 1]) {
                walk -= 1;
            }
            assert_eq!(back_to_run_start(&text, i), walk, "{i}");
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
