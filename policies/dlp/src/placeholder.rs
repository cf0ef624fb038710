//! Rejects token-shaped matches that are placeholders or published documentation examples
//! (`sk-xxxx…`, `your-key-here`, `AKIAIOSFODNN7EXAMPLE`, the jwt.io sample), so that docs and
//! tutorials pasted into a chat do not trip credential rules.
//!
//! Published *test values that are valid numbers* (test cards, example IBANs and SSNs) are
//! not dropped here: the numeric detectors report them at `low` confidence instead, below the
//! shipped profiles' thresholds but still visible to a profile that asks for `low`.

use super::byteset::{distinct_in_16, eq_mask16, ByteSet, ALNUM};
use super::literals::Literals;

/// Words that only appear in a token when a person typed it as a stand-in (and ellipses, see
/// [`has_ellipsis`]).
const MARKERS: &[&str] = &[
    "example",
    "xxxx",
    "your",
    "placeholder",
    "dummy",
    "sample",
    "redacted",
    "changeme",
    "insert",
    "replace",
    "here",
    "fake",
    "foobar",
    "secret_key",
    "api_key",
    "token_",
    "****",
];

/// Vendors' published example credentials that carry no marker word.
const PUBLISHED: &[&[u8]] = &[
    // jwt.io's default token signature (HS256, "your-256-bit-secret").
    b"SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    // Stripe's long-lived documentation key (`sk_test_` / `sk_live_` + this).
    b"4eC39HqLyjWDarjtT1zdp7dc",
    // GitHub's token-format documentation sample (`ghp_` + this).
    b"16C7e42F292c6912E7710c838347Ae178B4a",
];

/// The marker words and published examples, built once per engine.
#[derive(Debug, Clone)]
pub(crate) struct Placeholders {
    /// Marker words in their three spellings, and the published examples.
    markers: Literals,
    published: Literals,
}

impl Placeholders {
    /// Markers match as written in lower case, upper case or capitalised (`your`, `YOUR`,
    /// `Your`), not in any mix: random tokens spell `hErE` far more often than `here`.
    pub fn new() -> Self {
        let mut words = Vec::with_capacity(MARKERS.len() * 3);
        for m in MARKERS {
            let mut capitalised = m.to_string();
            if let Some(first) = capitalised.get_mut(..1) {
                first.make_ascii_uppercase();
            }
            words.extend([m.to_string(), m.to_ascii_uppercase(), capitalised]);
        }
        // Four bytes or more: the table is probed at every third byte (see `Literals`).
        let markers = Literals::new(
            words
                .iter()
                .map(String::as_bytes)
                .chain(PUBLISHED.iter().copied()),
        );
        debug_assert!(words.iter().all(|w| w.len() >= 4));
        let published = Literals::new(PUBLISHED.iter().copied());
        Placeholders { markers, published }
    }

    /// Whether `token` is a vendor's published example.
    pub fn is_published(&self, token: &[u8]) -> bool {
        self.published.found_in(token)
    }

    /// Whether `token` (the variable part of a credential, or all of it) is a stand-in.
    pub fn is_placeholder(&self, token: &[u8]) -> bool {
        // Stand-ins show at the start or the end: look at most at 64 + 16 bytes of a long token.
        let (head, tail) = match token.len() {
            0..=80 => (token, &token[..0]),
            n => (&token[..64], &token[n - 16..]),
        };
        typed_or_cut(head)
            || self.markers.found_in(head)
            || (!tail.is_empty() && (typed_or_cut(tail) || self.markers.found_in(tail)))
    }
}

/// `...` (or more dots) or `…`: a token cut short by whoever pasted it.
fn has_ellipsis(text: &[u8]) -> bool {
    memchr::memchr2_iter(b'.', 0xE2, text)
        .any(|i| text[i..].starts_with(b"...") || text[i..].starts_with("…".as_bytes()))
}

/// A run of five equal bytes (`00000`), six ascending ones (`abcdef`, `123456`), too few
/// distinct bytes for its length (`abababab...`), or an ellipsis (see [`has_ellipsis`]).
/// This runs on every candidate credential: runs, sequences and dots are read from bit masks
/// (64 bytes at a time, no branch per byte), and distinct bytes are counted only until there
/// are enough.
fn typed_or_cut(token: &[u8]) -> bool {
    let mut from = 0;
    while from < token.len() {
        let window = &token[from..token.len().min(from + 64)];
        let m = Masks::of(window);
        if m.same & m.same >> 1 & m.same >> 2 & m.same >> 3 != 0
            || m.next & m.next >> 1 & m.next >> 2 & m.next >> 3 & m.next >> 4 != 0
            || (m.dots != 0 && has_ellipsis(window))
        {
            return true;
        }
        if from + 64 >= token.len() {
            break;
        }
        from += 59; // windows overlap by five bytes: no six-byte span falls between two
    }
    if token.len() < 16 {
        return false;
    }
    // Typed when distinct * 6 < min(len, 64): stop once there are too many for that.
    let limit = token.len().min(64);
    if !token.is_ascii() {
        return distinct_at_most(token, limit.div_ceil(6) - 1);
    }
    // Most random tokens: enough distinct bytes in the first sixteen, counted in one vector.
    let mut first = [0u8; 16];
    first.copy_from_slice(&token[..16]);
    if distinct_in_16(&first) as usize * 6 >= limit {
        return false;
    }
    // ASCII: a flag per byte value seen, one store a byte and no branch, then the flags
    // summed (in vector lanes) once.
    let mut seen = [0u8; 128];
    for &b in token {
        seen[usize::from(b & 0x7F)] = 1;
    }
    let distinct: usize = seen.iter().map(|&f| usize::from(f)).sum();
    distinct * 6 < limit
}

/// Whether `token` holds at most `most` distinct bytes (any bytes, one by one).
fn distinct_at_most(token: &[u8], most: usize) -> bool {
    let mut seen = [false; 256];
    let mut distinct = 0;
    for &b in token {
        if !std::mem::replace(&mut seen[usize::from(b)], true) {
            distinct += 1;
            if distinct > most {
                return false;
            }
        }
    }
    true
}

/// Bit masks of a window of up to 64 bytes.
struct Masks {
    /// Bit `k`: `w[k + 1]` equals `w[k]`.
    same: u64,
    /// Bit `k`: `w[k + 1]` is the alphanumeric byte after `w[k]` (`a` then `b`, `7` then `8`).
    next: u64,
    /// Bit `k`: `w[k]` is `.` or 0xE2 (the first byte of `…`): where an ellipsis can start.
    dots: u64,
}

impl Masks {
    /// The masks of `w` (at most 64 bytes), sixteen bytes at a time: only the lanes the
    /// window covers are compared (most tokens are 20 to 50 bytes long).
    fn of(w: &[u8]) -> Masks {
        let mut buf = [0u8; 64 + 16];
        let n = w.len().min(64);
        buf[..n].copy_from_slice(&w[..n]);
        let mut m = Masks {
            same: 0,
            next: 0,
            dots: 0,
        };
        for lane in 0..n.div_ceil(16) {
            let o = 16 * lane;
            let (Some(this), Some(after)) = (buf[o..].first_chunk(), buf[o + 1..].first_chunk())
            else {
                break;
            };
            let plus_one = this.map(|b: u8| b.wrapping_add(1));
            m.same |= u64::from(eq_mask16(this, after)) << o;
            m.next |= u64::from(eq_mask16(&plus_one, after) & ALNUM.mask16(after)) << o;
            m.dots |= u64::from(DOTS.mask16(this)) << o;
        }
        // Pairs: byte `k` and the one after it, both in the window.
        let pairs = n.saturating_sub(1);
        let valid = (1u64 << pairs) - 1; // `pairs` is below 64
        m.same &= valid;
        m.next &= valid;
        m
    }
}

const DOTS: ByteSet = ByteSet::of(b".\xe2");

/// Longest run of one repeated byte (`00000`, `aaaaa`).
#[cfg(test)]
fn longest_run(s: &[u8]) -> usize {
    let (mut best, mut cur) = (0, 0);
    for (i, b) in s.iter().enumerate() {
        cur = if i > 0 && s[i - 1] == *b { cur + 1 } else { 1 };
        best = best.max(cur);
    }
    best
}

/// Longest ascending run of consecutive bytes (`abcdef`, `123456`).
#[cfg(test)]
fn longest_sequence(s: &[u8]) -> usize {
    let (mut best, mut cur) = (0, 0);
    for (i, b) in s.iter().enumerate() {
        let next = i > 0 && s[i - 1].wrapping_add(1) == *b && b.is_ascii_alphanumeric();
        cur = if next { cur + 1 } else { 1 };
        best = best.max(cur);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stand_ins_are_rejected() {
        let p = Placeholders::new();
        for t in [
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "your-key-here",
            "sk-proj-YOUR_API_KEY_GOES_IN_THIS_SPOT_0000",
            "ghp_000000000000000000000000000000000000",
            "abcdefghijklmnopqrstuvwxyz0123",
            "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "AIzaSy...",
            "ghp_Q7mZ2kLp9X…",
            "aaaaaaaaaaaaaaaaaaaabbbbbbbbbbbb",
        ] {
            assert!(p.is_placeholder(t.as_bytes()), "{t}");
        }
    }

    #[test]
    fn random_tokens_pass() {
        let p = Placeholders::new();
        for t in [
            "Q7mZ2kLp9XvR4tBw8NcY3hJd6FgS1aEu0iOo",
            "wK8s/Pq2+Lm4Zr7Tn1Xc9Vb3Hd5Jf6Gy0AeUi2Ow",
            "9f86d081884c7d659a2feaa0c55ad015",
        ] {
            assert!(!p.is_placeholder(t.as_bytes()), "{t}");
        }
    }

    /// The mask version against the plain definition, on random and typed tokens, with dots
    /// and ellipses anywhere (across the windows' seams too).
    #[test]
    fn typed_shapes_match_the_plain_definition() {
        let plain = |t: &[u8]| {
            let mut distinct = [false; 256];
            t.iter().for_each(|b| distinct[usize::from(*b)] = true);
            let n = distinct.iter().filter(|d| **d).count();
            longest_run(t) >= 5
                || longest_sequence(t) >= 6
                || (t.len() >= 16 && n * 6 < t.len().min(64))
                || has_ellipsis(t)
        };
        let mut rng = crate::samples::SampleRng::new(9);
        let alphabet = b"ab01/ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+";
        let dotted = b"ab.c.";
        for len in 0..140 {
            let wide = "é漢字\u{80}".as_bytes();
            let t: Vec<u8> = (0..len).map(|_| wide[rng.below(wide.len())]).collect();
            assert_eq!(typed_or_cut(&t), plain(&t), "{t:?}");
            for narrow in [2usize, 5, 12, alphabet.len()] {
                let t: Vec<u8> = (0..len).map(|_| alphabet[rng.below(narrow)]).collect();
                assert_eq!(
                    typed_or_cut(&t),
                    plain(&t),
                    "{}",
                    String::from_utf8_lossy(&t)
                );
            }
            let t: Vec<u8> = (0..len).map(|_| dotted[rng.below(dotted.len())]).collect();
            assert_eq!(
                typed_or_cut(&t),
                plain(&t),
                "{}",
                String::from_utf8_lossy(&t)
            );
            let mut t: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect();
            if len > 8 {
                let at = rng.below(len - 2);
                let mut cut = t.clone();
                cut[at..at + 3].copy_from_slice(if len % 2 == 0 {
                    b"..."
                } else {
                    "…".as_bytes()
                });
                assert!(typed_or_cut(&cut) && plain(&cut), "{at} {len}");
                let at = rng.below(len - 6);
                t[at..at + 6].copy_from_slice(b"uvwxyz");
                assert!(typed_or_cut(&t) && plain(&t));
            }
        }
    }

    #[test]
    fn runs_and_sequences() {
        assert_eq!(longest_run(b"ab0000c"), 4);
        assert_eq!(longest_sequence(b"x123456y"), 6);
        assert_eq!(longest_sequence(b""), 0);
    }
}
