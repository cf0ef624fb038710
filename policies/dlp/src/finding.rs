//! What a scan reports: a [`Finding`] per match, with a [`Confidence`] and a masked snippet.
//!
//! A finding never holds the secret itself: the snippet is masked when the finding is made, so
//! `Debug`, `Display` and `Serialize` can only ever show the masked form.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

/// How sure a detector (or a discovery heuristic) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }

    /// One step up, saturating at `High`.
    pub fn raised(self) -> Confidence {
        match self {
            Confidence::Low => Confidence::Medium,
            _ => Confidence::High,
        }
    }

    /// One step down, saturating at `Low`.
    pub fn lowered(self) -> Confidence {
        match self {
            Confidence::High => Confidence::Medium,
            _ => Confidence::Low,
        }
    }

    /// Parses `low`, `medium` or `high`.
    pub fn parse(s: &str) -> Option<Confidence> {
        match s {
            "low" => Some(Confidence::Low),
            "medium" => Some(Confidence::Medium),
            "high" => Some(Confidence::High),
            _ => None,
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One piece of sensitive data found in a text. Serialises as the `gatewayd dlp scan` JSON line:
/// `{"detector", "start", "end", "confidence", "snippet"}`. Making one allocates nothing for a
/// built-in detector: its id is static and the snippet is kept inline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Detector id, e.g. `aws_access_key_id`.
    pub detector: Cow<'static, str>,
    /// Byte offsets of the match in the scanned text.
    pub start: usize,
    pub end: usize,
    pub confidence: Confidence,
    /// The match with most characters masked; never the full secret.
    pub snippet: Snippet,
}

impl Finding {
    /// A finding whose snippet is `matched` masked with [`mask`].
    pub fn new(
        detector: impl Into<Cow<'static, str>>,
        start: usize,
        end: usize,
        confidence: Confidence,
        matched: &str,
    ) -> Self {
        Finding {
            detector: detector.into(),
            start,
            end,
            confidence,
            snippet: Snippet::of(matched),
        }
    }

    /// Length of the match in bytes.
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// Whether the match is empty (never the case for a detector's finding).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A masked snippet (see [`mask`]), kept inline: at most six characters of the match and
/// sixteen `*`, so at most [`Snippet::CAPACITY`] bytes.
#[derive(Clone, Copy)]
pub struct Snippet {
    len: u8,
    bytes: [u8; Snippet::CAPACITY],
}

impl Snippet {
    /// Six characters of up to four bytes and sixteen `*`.
    pub const CAPACITY: usize = 6 * 4 + 16;

    /// `secret`, masked (see [`mask`]).
    pub fn of(secret: &str) -> Snippet {
        let b = secret.as_bytes();
        let n = b.len();
        let shown = |c: u8| if c.is_ascii_control() { b' ' } else { c };
        // Most matches (16 to 127 ASCII bytes): four bytes shown in front, two behind.
        if (16..128).contains(&n) && secret.is_ascii() {
            let hidden = (n - 6).min(16);
            let mut bytes = [b'*'; Snippet::CAPACITY];
            bytes[0] = shown(b[0]);
            bytes[1] = shown(b[1]);
            bytes[2] = shown(b[2]);
            bytes[3] = shown(b[3]);
            bytes[4 + hidden] = shown(b[n - 2]);
            bytes[5 + hidden] = shown(b[n - 1]);
            return Snippet {
                len: (6 + hidden) as u8,
                bytes,
            };
        }
        // Most secrets: slice bytes instead of walking characters. Past 127 bytes the shape is
        // fixed (see `mask_chars`): only the bytes shown need be ASCII.
        let sliced = if n < 128 {
            secret.is_ascii().then(|| ((n / 4).min(4), (n / 8).min(2)))
        } else {
            (b[..4].is_ascii() && b[n - 2..].is_ascii()).then_some((4, 2))
        };
        if let Some((front, back)) = sliced {
            let hidden = (n - front - back).min(16);
            let mut s = Snippet {
                len: 0,
                bytes: [b'*'; Snippet::CAPACITY],
            };
            for (o, c) in s.bytes.iter_mut().zip(&b[..front]) {
                *o = shown(*c);
            }
            for (o, c) in s.bytes[front + hidden..].iter_mut().zip(&b[n - back..]) {
                *o = shown(*c);
            }
            s.len = (front + hidden + back) as u8;
            return s;
        }
        Snippet::from_masked(&mask_chars(secret))
    }

    /// A snippet holding `masked` (already masked), cut at a character boundary if longer
    /// than the capacity.
    fn from_masked(masked: &str) -> Snippet {
        let mut end = masked.len().min(Snippet::CAPACITY);
        while !masked.is_char_boundary(end) {
            end -= 1;
        }
        let mut bytes = [0u8; Snippet::CAPACITY];
        bytes[..end].copy_from_slice(&masked.as_bytes()[..end]);
        Snippet {
            len: end as u8,
            bytes,
        }
    }

    pub fn as_str(&self) -> &str {
        let b = &self.bytes[..usize::from(self.len)];
        // Built from `&str`s cut at character boundaries: this cannot fail.
        std::str::from_utf8(b).unwrap_or_default()
    }
}

impl Deref for Snippet {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Snippet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Snippet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// Equal when the texts are: the bytes past `len` are filler.
impl PartialEq for Snippet {
    fn eq(&self, other: &Snippet) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Snippet {}

impl PartialEq<str> for Snippet {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Snippet {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for Snippet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Snippet {
    /// A snippet as serialised; a longer string is refused rather than cut silently.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.len() > Snippet::CAPACITY {
            return Err(serde::de::Error::custom(format!(
                "snippet longer than {} bytes",
                Snippet::CAPACITY
            )));
        }
        Ok(Snippet::from_masked(&s))
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {}..{} ({}): {}",
            self.detector, self.start, self.end, self.confidence, self.snippet
        )
    }
}

/// Masks a secret for display: a few leading and trailing characters stay (at most a quarter
/// and an eighth of it), the rest becomes `*` (at most 16 of them). Line breaks in what stays
/// are shown as spaces so a snippet is always one line.
pub fn mask(secret: &str) -> String {
    Snippet::of(secret).as_str().to_owned()
}

/// [`mask`] for a secret that is long or not ASCII: walks characters, at most 32 of them.
fn mask_chars(secret: &str) -> String {
    let shown = |c: char| if c.is_control() { ' ' } else { c };
    // Past 127 bytes a secret has at least 32 characters, whatever they are: the shape is fixed
    // (4 shown, 16 `*`, 2 shown) and a long match (a PEM block) need not be read at all.
    let short = secret.len() < 128;
    // Past 32 characters the shape no longer changes: never walk a long match twice.
    let n = if short {
        secret.chars().take(32).count()
    } else {
        32
    };
    let front = (n / 4).min(4);
    let back = (n / 8).min(2);
    let hidden = (n - front - back).min(16);
    let mut out: String = secret.chars().take(front).map(shown).collect();
    out.extend(std::iter::repeat_n('*', hidden));
    let tail: Vec<char> = secret.chars().rev().take(back).collect();
    out.extend(tail.into_iter().rev().map(shown));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_little_of_the_secret() {
        assert_eq!(mask(""), "");
        assert_eq!(mask("abc"), "***");
        assert_eq!(mask("12345678"), "12*****8");
        assert_eq!(
            mask("sk-proj-abcdefghijklmnopqrstuvwxyz"),
            "sk-p****************yz"
        );
        assert_eq!(mask("ééééééééé"), "éé******é");
        assert_eq!(mask("ab\ncdefghijklmnop\n"), "ab c************p ");
        // Long matches, ASCII or not, keep four characters in front and two behind.
        let long = format!("-----BEGIN{}\nEND", "A".repeat(200));
        assert_eq!(mask(&long), "----****************ND");
        let wide = format!("é{}ü", "ß".repeat(70));
        assert_eq!(mask(&wide), "éßßß****************ßü");
    }

    #[test]
    fn inline_snippets_match_the_mask() {
        let wide = format!("é{}ü", "ß".repeat(70));
        let ascii_ends = format!("ab\tc{}\nz", "é".repeat(70));
        let long = format!("eyJ{}", "x".repeat(200));
        for secret in [
            &ascii_ends,
            &long,
            "",
            "abc",
            "12345678",
            "sk-proj-abcdefghijklmnopqrstuvwxyz",
            "ééééééééé",
            "ab\ncdefghijklmnop\n",
            "𝔘𝔫𝔦𝔠𝔬𝔡𝔢𝔘𝔫𝔦𝔠𝔬𝔡𝔢𝔘𝔫𝔦𝔠𝔬𝔡𝔢𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
            &wide,
        ] {
            let by_chars = Snippet::from_masked(&mask_chars(secret));
            assert_eq!(Snippet::of(secret), by_chars, "{secret}");
        }
        let back: Snippet = serde_json::from_str(r#""AKIA****LE""#).unwrap();
        assert_eq!(back, "AKIA****LE");
        assert!(serde_json::from_str::<Snippet>(&format!("{:?}", "x".repeat(41))).is_err());
    }

    #[test]
    fn findings_serialise_as_the_cli_json_line() {
        let f = Finding::new(
            "aws_access_key_id",
            3,
            23,
            Confidence::High,
            "AKIAIOSFODNN7EXAMPLE",
        );
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(
            json,
            r#"{"detector":"aws_access_key_id","start":3,"end":23,"confidence":"high","snippet":"AKIA**************LE"}"#
        );
    }

    #[test]
    fn no_rendering_shows_the_secret() {
        let secret = "ghp_R4nd0mS3cretV4lue0000000000000000";
        let f = Finding::new("github_token", 0, secret.len(), Confidence::High, secret);
        for shown in [
            format!("{f:?}"),
            format!("{f}"),
            serde_json::to_string(&f).unwrap(),
        ] {
            assert!(!shown.contains(secret), "{shown}");
            assert!(!shown.contains("R4nd0mS3cret"), "{shown}");
        }
    }

    #[test]
    fn confidence_steps_saturate() {
        assert_eq!(Confidence::High.raised(), Confidence::High);
        assert_eq!(Confidence::Low.lowered(), Confidence::Low);
        assert_eq!(Confidence::Medium.lowered(), Confidence::Low);
        assert_eq!(Confidence::parse("medium"), Some(Confidence::Medium));
        assert_eq!(Confidence::parse("Medium"), None);
    }
}
