//! Path patterns (`/backend-api/*/files/**`) and JSON field paths (`messages.*.content`) of
//! catalog endpoints. Parsed once at load; matching walks segments without allocating.

use serde::{Serialize, Serializer};
use std::fmt;

/// A request path pattern: `*` matches exactly one segment, a trailing `**` any remainder
/// (including nothing), everything else matches literally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern {
    text: Box<str>,
    segments: Box<[Segment]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(Box<str>),
    One,
    Rest,
}

impl PathPattern {
    /// Parses `text`; the error is a reason without position.
    pub fn parse(text: &str) -> Result<Self, String> {
        let Some(body) = text.strip_prefix('/') else {
            return Err(format!("path pattern {text:?} must start with `/`"));
        };
        if text
            .bytes()
            .any(|b| matches!(b, b'?' | b'#') || b.is_ascii_whitespace())
        {
            return Err(format!(
                "path pattern {text:?} may not contain `?`, `#` or spaces"
            ));
        }
        let parts: Vec<&str> = if body.is_empty() {
            Vec::new()
        } else {
            body.split('/').collect()
        };
        let last = parts.len().saturating_sub(1);
        let mut segments = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            segments.push(match *part {
                "**" if i == last => Segment::Rest,
                "**" => return Err(format!("in {text:?}, `**` may only be the last segment")),
                "*" => Segment::One,
                p if p.contains('*') => {
                    return Err(format!("in {text:?}, `*` must be a whole segment"))
                }
                p => Segment::Literal(p.into()),
            });
        }
        Ok(PathPattern {
            text: text.into(),
            segments: segments.into(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `path` (query and fragment already removed) matches.
    pub fn matches(&self, path: &str) -> bool {
        let body = path.strip_prefix('/').unwrap_or(path);
        let mut parts = body.split('/');
        // "/" has no segments, but `split` yields one empty string for it.
        let mut parts_left = !body.is_empty();
        for seg in self.segments.iter() {
            if matches!(seg, Segment::Rest) {
                return true;
            }
            let part = match parts.next() {
                Some(p) if parts_left => p,
                _ => return false,
            };
            let ok = match seg {
                Segment::Literal(lit) => **lit == *part,
                Segment::One => !part.is_empty(),
                Segment::Rest => true,
            };
            if !ok {
                return false;
            }
        }
        parts_left &= parts.next().is_some();
        !parts_left
    }
}

impl fmt::Display for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for PathPattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// One step of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldStep {
    /// An object key.
    Key(Box<str>),
    /// Every element of an array or every value of an object.
    Any,
}

/// Where prompt text sits in a JSON body: dot-separated keys, `*` for every element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    text: Box<str>,
    steps: Box<[FieldStep]>,
}

impl FieldPath {
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Err("empty field path".into());
        }
        let mut steps = Vec::new();
        for key in text.split('.') {
            steps.push(match key {
                "" => return Err(format!("field path {text:?} has an empty key")),
                "*" => FieldStep::Any,
                k => FieldStep::Key(k.into()),
            });
        }
        Ok(FieldPath {
            text: text.into(),
            steps: steps.into(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn steps(&self) -> &[FieldStep] {
        &self.steps
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for FieldPath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, path: &str) -> bool {
        PathPattern::parse(pattern).unwrap().matches(path)
    }

    #[test]
    fn path_patterns_follow_the_schema() {
        assert!(m("/backend-api/conversation", "/backend-api/conversation"));
        assert!(!m(
            "/backend-api/conversation",
            "/backend-api/conversation/x"
        ));
        assert!(!m("/backend-api/conversation", "/backend-api"));
        assert!(m("/v1/*/files", "/v1/abc/files"));
        assert!(
            !m("/v1/*/files", "/v1//files"),
            "`*` needs a non-empty segment"
        );
        assert!(!m("/v1/*/files", "/v1/a/b/files"));
        assert!(m("/upload/**", "/upload"), "`**` matches nothing too");
        assert!(m("/upload/**", "/upload/a/b/c"));
        assert!(m("/**", "/"));
        assert!(m("/**", "/anything/at/all"));
        assert!(m("/", "/"));
        assert!(!m("/", "/a"));
    }

    #[test]
    fn malformed_path_patterns_are_rejected() {
        for bad in ["", "upload", "/a/**/b", "/a*", "/a?x", "/a b"] {
            assert!(PathPattern::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn field_paths_parse() {
        let f = FieldPath::parse("messages.*.content.parts.*").unwrap();
        assert_eq!(f.steps().len(), 5);
        assert_eq!(f.steps()[1], FieldStep::Any);
        assert!(FieldPath::parse("a..b").is_err());
        assert!(FieldPath::parse("").is_err());
    }
}
