//! Byte-level helpers the detectors share: character classes, token boundaries, bounded
//! windows and anchored regex runs. All of it works on `&[u8]` and never allocates.

use regex::bytes::Regex;

/// `[A-Za-z0-9]`
pub fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// `[A-Za-z0-9_]`: what an identifier or a random token is made of.
pub fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `[A-Za-z0-9_-]`: base64url, and the alphabet of most vendor tokens.
pub fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// `[A-Za-z0-9+/]`: standard base64 without padding. A table: the AWS secret search runs this
/// on every byte of its windows.
pub fn is_b64(b: u8) -> bool {
    B64[usize::from(b)]
}

static B64: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'+' || c == b'/';
        b += 1;
    }
    t
};

/// Whether the byte before `start` does not continue a token of class `class`.
pub fn left_boundary(text: &[u8], start: usize, class: fn(u8) -> bool) -> bool {
    start == 0 || text.get(start - 1).is_none_or(|b| !class(*b))
}

/// Whether the byte at `end` does not continue a token of class `class`.
pub fn right_boundary(text: &[u8], end: usize, class: fn(u8) -> bool) -> bool {
    text.get(end).is_none_or(|b| !class(*b))
}

/// `lo..hi` reaching `before` bytes before `start` and `after` bytes after `end`, clamped.
pub fn around(
    text: &[u8],
    start: usize,
    end: usize,
    before: usize,
    after: usize,
) -> (usize, usize) {
    (
        start.saturating_sub(before),
        end.saturating_add(after).min(text.len()),
    )
}

/// [`is_b64`] without a table (a count over a PEM body vectorises).
pub fn is_b64_lane(b: u8) -> bool {
    ((b | 0x20).wrapping_sub(b'a') < 26) | (b.wrapping_sub(b'0') < 10) | (b == b'+') | (b == b'/')
}

/// Runs `re`, which must start with `^`, on at most `max` bytes from `at`; the end of the
/// match as an offset into `text`. This is how a detector's regex (PEM header, e-mail domain)
/// stays in its window; `shape.rs` matches token shapes the same way by hand.
pub fn anchored(re: &Regex, text: &[u8], at: usize, max: usize) -> Option<usize> {
    let hi = at.saturating_add(max).min(text.len());
    let window = text.get(at..hi)?;
    re.find(window).map(|m| at + m.end())
}

/// Whether `s` mixes upper case, lower case and digits, as random base62 tokens do.
pub fn mixed_classes(s: &[u8]) -> bool {
    s.iter().any(u8::is_ascii_uppercase)
        && s.iter().any(u8::is_ascii_lowercase)
        && s.iter().any(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_class_matches_the_table() {
        for b in 0..=255u8 {
            assert_eq!(is_b64_lane(b), is_b64(b));
        }
    }

    #[test]
    fn boundaries_look_one_byte_out() {
        let t = b"xAKIAy AKIA";
        assert!(!left_boundary(t, 1, is_alnum));
        assert!(!right_boundary(t, 5, is_alnum));
        assert!(left_boundary(t, 7, is_alnum) && right_boundary(t, 11, is_alnum));
        assert!(left_boundary(t, 0, is_alnum));
    }

    #[test]
    fn anchored_runs_stay_in_the_window() {
        let re = Regex::new("^(?-u)[a-z]+").unwrap();
        let t = b"..abcdefgh";
        assert_eq!(anchored(&re, t, 2, 3), Some(5));
        assert_eq!(anchored(&re, t, 0, 8), None);
        assert_eq!(anchored(&re, t, 20, 8), None);
        assert_eq!(around(t, 2, 4, 5, 100), (0, 10));
    }

    #[test]
    fn classes_and_diversity() {
        assert!(mixed_classes(b"aB3") && !mixed_classes(b"abc123"));
        assert!(is_b64(b'/') && !is_token(b'/') && is_token(b'-') && is_word(b'_'));
    }
}
