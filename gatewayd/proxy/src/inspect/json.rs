//! Every string, key and number of a JSON body, in document order, for the DLP scanner.
//!
//! Lexical on purpose: a parser that builds a tree keeps only the last of duplicate keys,
//! drops numbers when only strings are collected, and must cap nesting (a body nested deeper
//! than the cap was once dropped unscanned). This walk never recurses and never builds a
//! tree: depth costs nothing, every duplicate and every number is seen, and the text it
//! returns is never longer than three times the body (the byte budget is the body limit). It
//! must never panic and never allocate more than that.
//!
//! A number split over fields (`{"a":"card 4556 7375","b":"8689 9855"}`, `"4556737"` then
//! `"586899855"`, one digit per field) is one number to whoever reads the fields together,
//! so the text ends with every chain of neighbouring string values a number could run
//! through, joined with a blank and without one (see `join_values`). Only digits are
//! repeated there, and only where they meet across fields: a value's findings count once.
//! Integer members grouped like a card are joined the same way (see `json_numbers`).

use super::json_numbers::{join_numbers, IntMember};

/// The text of a JSON body, and whether every byte outside the tokens was JSON structure.
pub struct JsonText {
    pub text: String,
    /// False when the body held bytes that are not JSON (a stray word, an unterminated
    /// string): the caller scans the raw body as well.
    pub complete: bool,
}

/// Walks `body` as JSON tokens: strings (escapes decoded) and keys and numbers, one a line;
/// then the string values joined (see the module docs).
pub fn json_text(body: &[u8]) -> JsonText {
    let (mut out, complete, values, ints) = walk(body);
    if values.len() > 1 {
        join_values(&mut out, &values);
    }
    if ints.len() > 1 {
        join_numbers(&mut out, &ints, body.len());
    }
    JsonText {
        text: into_text(out),
        complete,
    }
}

/// The string values of a JSON body (not its keys) joined by a space, when it is JSON: what a
/// WebSocket message holds for the seam with the next one.
pub fn json_values(body: &[u8]) -> Option<String> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if !matches!(first, Some(b'{' | b'[')) {
        // `8689 9855` is two JSON numbers, and a message of text.
        return None;
    }
    let (out, complete, values, _) = walk(body);
    if !complete || values.is_empty() {
        return None;
    }
    let mut joined = Vec::with_capacity(out.len());
    for (k, &(from, to)) in values.iter().enumerate() {
        if k > 0 {
            joined.push(b' ');
        }
        joined.extend_from_slice(&out[from..to]);
    }
    Some(into_text(joined))
}

fn into_text(out: Vec<u8>) -> String {
    match String::from_utf8(out) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// The tokens one a line, whether every byte was JSON, where the string values lie, and the
/// integer members (see `json_numbers`).
#[allow(clippy::type_complexity)]
fn walk(body: &[u8]) -> (Vec<u8>, bool, Vec<(usize, usize)>, Vec<IntMember>) {
    let mut out: Vec<u8> = Vec::with_capacity(body.len().min(1 << 20));
    let mut complete = true;
    // Where each string value (not a key) lies in `out`.
    let mut values: Vec<(usize, usize)> = Vec::new();
    let mut ints: Vec<IntMember> = Vec::new();
    // Values (strings, numbers, literals) seen so far: neighbours have consecutive ordinals.
    let mut ordinal = 0usize;
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b'{' | b'}' | b'[' | b']' | b',' | b':' => i += 1,
            b'"' => {
                let from = out.len();
                let (next, closed) = string(body, i + 1, &mut out);
                complete &= closed;
                let is_key = body
                    .get(next..)
                    .unwrap_or_default()
                    .iter()
                    .find(|b| !b.is_ascii_whitespace())
                    == Some(&b':');
                if !is_key && out.len() > from {
                    values.push((from, out.len()));
                }
                ordinal += usize::from(!is_key);
                out.push(b'\n');
                i = next;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < body.len()
                    && matches!(body[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                {
                    i += 1;
                }
                let member =
                    body[..start].iter().rfind(|b| !b.is_ascii_whitespace()) == Some(&b':');
                if member && body[start..i].iter().all(u8::is_ascii_digit) {
                    ints.push(IntMember {
                        from: out.len(),
                        to: out.len() + (i - start),
                        ordinal,
                    });
                }
                ordinal += 1;
                out.extend_from_slice(&body[start..i]);
                out.push(b'\n');
            }
            _ => {
                let rest = &body[i..];
                match [&b"true"[..], b"false", b"null"]
                    .iter()
                    .find(|lit| rest.starts_with(lit))
                {
                    Some(lit) => {
                        i += lit.len();
                        ordinal += 1;
                    }
                    None => {
                        complete = false;
                        i += 1;
                    }
                }
            }
        }
    }
    (out, complete, values, ints)
}

/// Whether `b` can continue a number across a field: a digit or a separator cards use.
fn numeric(b: &u8) -> bool {
    b.is_ascii_digit() || matches!(b, b' ' | b'-' | b'.' | b'/' | b'_')
}

/// Appends each chain of neighbouring values that a number could run through (one ends in a
/// digit, the next starts with one, every value inside the chain is all digits), from the
/// first one's trailing digits to the last one's leading digits, joined by a blank and
/// without one, a line each. Nothing else is repeated: a value counts once.
fn join_values(out: &mut Vec<u8>, values: &[(usize, usize)]) {
    let ends_digit = |v: (usize, usize), out: &[u8]| {
        let v = &out[v.0..v.1];
        let rest = v.iter().rposition(|b| !numeric(b) || b.is_ascii_digit());
        rest.is_some_and(|i| v[i].is_ascii_digit())
    };
    let starts_digit = |v: (usize, usize), out: &[u8]| {
        let v = &out[v.0..v.1];
        let first = v.iter().position(|b| !numeric(b) || b.is_ascii_digit());
        first.is_some_and(|i| v[i].is_ascii_digit())
    };
    let all_numeric = |v: (usize, usize), out: &[u8]| out[v.0..v.1].iter().all(numeric);
    let links = |a, b, out: &[u8]| ends_digit(a, out) && starts_digit(b, out);
    let mut k = 0;
    while k + 1 < values.len() {
        if !links(values[k], values[k + 1], out) {
            k += 1;
            continue;
        }
        let mut j = k + 1;
        while j + 1 < values.len()
            && all_numeric(values[j], out)
            && links(values[j], values[j + 1], out)
        {
            j += 1;
        }
        let (first, last) = (values[k], values[j]);
        let mut tail_from = first.0
            + out[first.0..first.1]
                .iter()
                .rposition(|b| !numeric(b))
                .map_or(0, |i| i + 1);
        while tail_from < first.1 && !out[tail_from].is_ascii_digit() {
            tail_from += 1;
        }
        let head_to = first_non_numeric(&out[last.0..last.1]).map_or(last.1, |i| last.0 + i);
        let mut pieces = vec![(tail_from, first.1)];
        pieces.extend_from_slice(&values[k + 1..j]);
        pieces.push((last.0, head_to));
        for joint in [&b" "[..], b""] {
            // A blank line first: two line breaks end a number (the last token's digits
            // must not run into the chain).
            out.push(b'\n');
            for (n, &(from, to)) in pieces.iter().enumerate() {
                if n > 0 {
                    out.extend_from_slice(joint);
                }
                out.extend_from_within(from..to);
            }
            out.push(b'\n');
        }
        k = j;
    }
}

fn first_non_numeric(v: &[u8]) -> Option<usize> {
    v.iter().position(|b| !numeric(b))
}

/// Decodes the string starting at `i` (after its quote) into `out`; returns the index after
/// the closing quote and whether there was one. Runs without escapes are copied whole.
fn string(body: &[u8], mut i: usize, out: &mut Vec<u8>) -> (usize, bool) {
    loop {
        let rest = body.get(i..).unwrap_or_default();
        let Some(at) = memchr::memchr2(b'"', b'\\', rest) else {
            out.extend_from_slice(rest);
            return (body.len(), false);
        };
        out.extend_from_slice(&rest[..at]);
        i += at;
        if body[i] == b'"' {
            return (i + 1, true);
        }
        let Some(&escape) = body.get(i + 1) else {
            return (body.len(), false);
        };
        i += 2;
        match escape {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'b' | b'f' => out.push(b' '),
            b'u' => {
                let (c, next) = unicode_escape(body, i);
                i = next;
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            other => out.push(other),
        }
    }
}

/// The character of `\uXXXX` (with its low surrogate when it is a pair) whose hex digits
/// start at `i`; U+FFFD for a malformed escape.
fn unicode_escape(body: &[u8], i: usize) -> (char, usize) {
    let hex = |at: usize| -> Option<u32> {
        let digits = std::str::from_utf8(body.get(at..at + 4)?).ok()?;
        u32::from_str_radix(digits, 16).ok()
    };
    let Some(high) = hex(i) else {
        return (char::REPLACEMENT_CHARACTER, i);
    };
    if (0xD800..0xDC00).contains(&high) && body.get(i + 4..i + 6) == Some(b"\\u") {
        if let Some(low) = hex(i + 6).filter(|l| (0xDC00..0xE000).contains(l)) {
            let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
            return (
                char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER),
                i + 10,
            );
        }
    }
    (
        char::from_u32(high).unwrap_or(char::REPLACEMENT_CHARACTER),
        i + 4,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_string_key_number_and_duplicate_at_any_depth() {
        let out = json_text(br#"{"prompt": "card", "prompt": "hello", "n": 4539148803436467}"#);
        assert!(out.complete);
        assert_eq!(
            out.text,
            "prompt\ncard\nprompt\nhello\nn\n4539148803436467\n"
        );
        let deep = format!("{}\"secret\"{}", "[".repeat(100_000), "]".repeat(100_000));
        let out = json_text(deep.as_bytes());
        assert_eq!(out.text, "secret\n");
        let out = json_text(br#"["\u0034\u00e9\ud83d\ude00 \"q\"", true, null, -1.5e3]"#);
        assert_eq!(out.text, "4\u{e9}\u{1f600} \"q\"\n-1.5e3\n");
        assert!(out.complete);
    }

    #[test]
    fn values_split_over_fields_are_joined() {
        let out = json_text(br#"{"a":"card 4556 7375","b":"8689 9855"}"#);
        assert!(
            out.text.contains("\n\n4556 7375 8689 9855\n"),
            "{}",
            out.text
        );
        let out = json_text(br#"{"a":"4556737","b":"586899855"}"#);
        assert!(out.text.contains("\n\n4556737586899855\n"), "{}", out.text);
        let digits: Vec<String> = "4556737586899855"
            .chars()
            .enumerate()
            .map(|(i, c)| format!("\"d{i}\":\"{c}\""))
            .collect();
        let out = json_text(format!("{{{}}}", digits.join(",")).as_bytes());
        assert!(out.text.contains("4 5 5 6 7 3 7 5 8 6 8 9 9 8 5 5"));
        assert!(out.text.contains("\n4556737586899855\n"));
        assert_eq!(json_values(b"8689 9855"), None, "numbers, not JSON values");
        assert_eq!(
            json_values(br#"{"a":"x","b":["y"]}"#).as_deref(),
            Some("x y")
        );
        // Many tiny values: bounded by the body.
        let many = format!("[{}]", vec!["\"1\""; 10_000].join(","));
        let out = json_text(many.as_bytes());
        assert!(out.text.len() <= 3 * many.len());
        // Words between the numbers: nothing is joined, nothing repeated.
        let out = json_text(br#"{"a":"card 4556","b":"hello","c":"7375 8689"}"#);
        assert_eq!(out.text.matches("4556").count(), 1, "{}", out.text);
    }

    #[test]
    fn stray_bytes_and_hostile_input_mark_it_incomplete_without_panicking() {
        assert!(!json_text(b"{\"a\": tru}").complete);
        assert!(!json_text(b"\"unterminated").complete);
        for body in [&b"\"\\"[..], b"\"\\u12", b"\"\\ud800\\u", b"\xff\xfe", b"-"] {
            let _ = json_text(body);
        }
    }
}
