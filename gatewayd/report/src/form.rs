//! `application/x-www-form-urlencoded`: query strings and dashboard form posts.

use std::collections::BTreeMap;

/// Decodes `a=1&b=x%20y` into a map; a repeated name keeps its last value, and malformed
/// escapes are kept literally.
pub fn parse(text: &str) -> BTreeMap<String, String> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

/// Decodes one component: `+` is a space, `%XX` a byte; invalid UTF-8 is replaced.
pub fn decode(text: &str) -> String {
    decode_with(text, true)
}

/// Decodes one path segment: `%XX` a byte, `+` itself (only forms turn `+` into a space).
pub fn decode_path(text: &str) -> String {
    decode_with(text, false)
}

fn decode_with(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if byte == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(if plus_is_space && byte == b'+' {
            b' '
        } else {
            byte
        });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Encodes one component for a query string or form.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b',') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_tolerates_garbage() {
        let map = parse("a=1&b=x+y%21&c=%zz&d&e=%4");
        assert_eq!(map["a"], "1");
        assert_eq!(map["b"], "x y!");
        assert_eq!(map["c"], "%zz");
        assert_eq!(map["d"], "");
        assert_eq!(map["e"], "%4");
        assert_eq!(decode(&encode("a b&c=d/é")), "a b&c=d/é");
        assert_eq!(decode("%C3%A9"), "é");
        assert_eq!(decode_path("a+b%2F..%2F"), "a+b/../");
    }
}
