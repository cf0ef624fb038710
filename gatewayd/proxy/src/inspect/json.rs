//! Every string, key and number of a JSON body, in document order, for the DLP scanner.
//!
//! Lexical on purpose: a parser that builds a tree keeps only the last of duplicate keys,
//! drops numbers when only strings are collected, and must cap nesting (a body nested deeper
//! than the cap was once dropped unscanned). This walk never recurses and never builds a
//! tree: depth costs nothing, every duplicate and every number is seen, and the text it
//! returns is never longer than the body (the byte budget is the body limit). It must never
//! panic and never allocate more than the body's size.

/// The text of a JSON body, and whether every byte outside the tokens was JSON structure.
pub struct JsonText {
    pub text: String,
    /// False when the body held bytes that are not JSON (a stray word, an unterminated
    /// string): the caller scans the raw body as well.
    pub complete: bool,
}

/// Walks `body` as JSON tokens: strings (escapes decoded) and keys and numbers, one a line.
pub fn json_text(body: &[u8]) -> JsonText {
    let mut out: Vec<u8> = Vec::with_capacity(body.len().min(1 << 20));
    let mut complete = true;
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b'{' | b'}' | b'[' | b']' | b',' | b':' => i += 1,
            b'"' => {
                let (next, closed) = string(body, i + 1, &mut out);
                complete &= closed;
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
                out.extend_from_slice(&body[start..i]);
                out.push(b'\n');
            }
            _ => {
                let rest = &body[i..];
                match [&b"true"[..], b"false", b"null"]
                    .iter()
                    .find(|lit| rest.starts_with(lit))
                {
                    Some(lit) => i += lit.len(),
                    None => {
                        complete = false;
                        i += 1;
                    }
                }
            }
        }
    }
    let text = match String::from_utf8(out) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    JsonText { text, complete }
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
    fn stray_bytes_and_hostile_input_mark_it_incomplete_without_panicking() {
        assert!(!json_text(b"{\"a\": tru}").complete);
        assert!(!json_text(b"\"unterminated").complete);
        for body in [&b"\"\\"[..], b"\"\\u12", b"\"\\ud800\\u", b"\xff\xfe", b"-"] {
            let _ = json_text(body);
        }
    }
}
