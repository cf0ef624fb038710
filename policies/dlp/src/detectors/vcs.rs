//! Source-hosting tokens. `github_token`: classic `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` tokens
//! end in a base62 CRC32 of their 30 random characters, so a valid checksum is near-certain
//! proof (high) and a failed one marks a hand-made look-alike (low); fine-grained
//! `github_pat_` tokens have no public checksum (high on shape). `gitlab_token`: `glpat-`.

use crate::detector::Detector::{GithubToken, GitlabToken};
use crate::finding::Confidence;
use crate::scan::Cx;
use crate::shape;
use crate::text::{is_token, is_word, left_boundary, right_boundary};

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const CLASSIC_LEN: usize = 40;
const FINE_GRAINED_LEN: usize = 93;

/// A GitHub token at `at`.
pub(crate) fn github(cx: &mut Cx<'_>, at: usize) {
    let text = cx.text;
    if !left_boundary(text, at, is_word) {
        return;
    }
    let Some(end) = shape::github(text, at, FINE_GRAINED_LEN) else {
        return;
    };
    if !right_boundary(text, end, is_word) {
        return;
    }
    let token = &text[at..end];
    let body = if token.starts_with(b"github_pat_") {
        &token[11..]
    } else {
        &token[4..]
    };
    if cx.ph.is_placeholder(body) {
        return;
    }
    if token.len() == CLASSIC_LEN && !classic_checksum_ok(token) {
        // Every classic token GitHub issues carries the checksum; this one was typed.
        cx.found_fixed(GithubToken, at, end, Confidence::Low);
    } else {
        cx.found(GithubToken, at, end, Confidence::High);
    }
}

/// A GitLab token at `at` (`gl...-`).
pub(crate) fn gitlab(cx: &mut Cx<'_>, at: usize) {
    let text = cx.text;
    if !left_boundary(text, at, is_word) {
        return;
    }
    let Some(mut end) = shape::gitlab(text, at, 10 + 300) else {
        return;
    };
    // A sentence's full stop is not part of the token.
    while text[end - 1] == b'.' {
        end -= 1;
    }
    let body = memchr::memchr(b'-', &text[at..end]).map_or(end, |k| at + k + 1);
    if end - body < 20
        || !right_boundary(text, end, is_token)
        || cx.ph.is_placeholder(&text[body..end])
    {
        return;
    }
    cx.found(GitlabToken, at, end, Confidence::High);
}

/// A runner registration token `GR1348941...` at `at`; the end of the token when it has the
/// shape (found or not: the digit pass skips it).
pub(crate) fn gitlab_runner_registration(cx: &mut Cx<'_>, at: usize) -> Option<usize> {
    let text = cx.text;
    if !left_boundary(text, at, is_token) {
        return None;
    }
    let end = shape::gitlab_runner(text, at, 9 + 255)?;
    let body = &text[at + 9..end];
    if right_boundary(text, end, is_token)
        && body.iter().any(u8::is_ascii_alphabetic)
        && body.iter().any(u8::is_ascii_digit)
        && !cx.ph.is_placeholder(body)
    {
        cx.found(GitlabToken, at, end, Confidence::High);
    }
    Some(end)
}

/// Whether a 40-character classic token's last 6 characters are the base62 CRC32 of the 30
/// before them.
pub(crate) fn classic_checksum_ok(token: &[u8]) -> bool {
    token.len() == CLASSIC_LEN && base62_crc(&token[4..34]) == token[34..40]
}

/// The 6-character checksum GitHub appends to 30 random characters.
pub(crate) fn base62_crc(random: &[u8]) -> [u8; 6] {
    let mut n = crc32(random);
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

const CRC_TABLE: [u32; 256] = crc_table();

const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

/// CRC-32 (IEEE, as zlib computes it).
pub(crate) fn crc32(data: &[u8]) -> u32 {
    !data.iter().fold(!0u32, |c, &b| {
        CRC_TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::Detector;
    use crate::detectors::tests_support::found;
    use crate::samples::{Sample, SampleRng};

    #[test]
    fn crc32_matches_zlib() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
    }

    #[test]
    fn classic_tokens_need_their_checksum() {
        let mut rng = SampleRng::new(7);
        let t = Sample::GithubToken.generate(&mut rng);
        assert!(classic_checksum_ok(t.as_bytes()));
        assert_eq!(
            found(&format!("token={t}"), Detector::GithubToken),
            [(6, 46, "high")]
        );
        let mut bad = t.clone().into_bytes();
        bad[10] = if bad[10] == b'a' { b'b' } else { b'a' };
        let bad = String::from_utf8(bad).unwrap();
        assert_eq!(found(&bad, Detector::GithubToken), [(0, 40, "low")]);
        assert!(found(&format!("{t}x"), Detector::GithubToken).is_empty());
        assert!(found(&format!("my_{t}"), Detector::GithubToken).is_empty());
        assert!(found(
            "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            Detector::GithubToken
        )
        .is_empty());
        assert!(found(
            "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
            Detector::GithubToken
        )
        .is_empty());
    }

    #[test]
    fn fine_grained_and_gitlab() {
        let mut rng = SampleRng::new(8);
        let pat = Sample::GithubFineGrainedToken.generate(&mut rng);
        assert_eq!(found(&pat, Detector::GithubToken), [(0, 93, "high")]);
        assert!(found(&pat[..80], Detector::GithubToken).is_empty());
        let gl = Sample::GitlabToken.generate(&mut rng);
        assert_eq!(
            found(&format!("use {gl}."), Detector::GitlabToken),
            [(4, 30, "high")]
        );
        assert!(found("glpat-your_token_goes_here_00", Detector::GitlabToken).is_empty());
        assert!(found("glpat-short", Detector::GitlabToken).is_empty());
    }
}
