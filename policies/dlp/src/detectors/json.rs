//! A JSON validator for the few hundred bytes of a JWT's decoded header and payload: whether
//! they are one JSON object (RFC 8259), and what the header's `alg` member holds. It builds
//! nothing and reads every byte once, where a general parser's visitor machinery costs several
//! times the token's other checks. It accepts what `serde_json` accepts (the tests hold it to
//! `serde_json` on generated documents), with one difference: text that is not UTF-8 is not
//! JSON here, where `serde_json` lets bad bytes through inside strings it skips.

/// How deep arrays and objects may nest (`serde_json`'s limit too).
const MAX_DEPTH: usize = 128;

/// Whether `json` is one JSON object, with nothing but whitespace around it.
pub(crate) fn is_object(json: &[u8]) -> bool {
    object_members(json, |_, _| true)
}

/// The raw value of the top-level string member `alg` of the object `json`, when `json` is
/// one JSON object holding exactly one such member, whose value is a string, and none of
/// whose strings holds an escape (`\`): escaped names would have to be decoded before they
/// are compared, and the caller reads such rare headers with a full parser instead.
pub(crate) fn plain_alg(json: &[u8]) -> Option<&[u8]> {
    if json.contains(&b'\\') {
        return None;
    }
    let mut alg = None;
    let mut twice = false;
    let valid = object_members(json, |key, value| {
        if key != b"alg" {
            return true;
        }
        twice |= alg.is_some();
        match value {
            [b'"', inner @ .., b'"'] => {
                alg = Some(inner);
                true
            }
            _ => false, // `alg` that is no string
        }
    });
    (valid && !twice).then_some(alg).flatten()
}

/// Whether `json` is one object; `member(key, value)` sees each top-level member's raw key
/// (between its quotes) and raw value, and may reject the document.
fn object_members<'a>(json: &'a [u8], member: impl FnMut(&'a [u8], &'a [u8]) -> bool) -> bool {
    if std::str::from_utf8(json).is_err() {
        return false;
    }
    let mut r = Reader {
        b: json,
        i: 0,
        member,
    };
    r.ws();
    r.b.get(r.i) == Some(&b'{') && r.value(0) && {
        r.ws();
        r.i == json.len()
    }
}

struct Reader<'a, F> {
    b: &'a [u8],
    i: usize,
    /// Called for each member of the outermost object.
    member: F,
}

impl<'a, F: FnMut(&'a [u8], &'a [u8]) -> bool> Reader<'a, F> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        self.i += usize::from(hit);
        hit
    }

    /// One value at `depth` (0 for the document), whitespace before it already skipped.
    fn value(&mut self, depth: usize) -> bool {
        match self.peek() {
            Some(b'{') => depth < MAX_DEPTH && self.object(depth + 1),
            Some(b'[') => depth < MAX_DEPTH && self.array(depth + 1),
            Some(b'"') => self.string(),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            _ => false,
        }
    }

    fn object(&mut self, depth: usize) -> bool {
        self.items(b'}', |r| {
            let key_start = r.i;
            if r.peek() != Some(b'"') || !r.string() {
                return false;
            }
            let key = &r.b[key_start + 1..r.i - 1];
            r.ws();
            if !r.eat(b':') {
                return false;
            }
            r.ws();
            let value_start = r.i;
            r.value(depth) && (depth != 1 || (r.member)(key, &r.b[value_start..r.i]))
        })
    }

    fn array(&mut self, depth: usize) -> bool {
        self.items(b']', |r| r.value(depth))
    }

    /// The items of an object or array from its opening bracket to `close`: none, or `item`s
    /// separated by commas, whitespace around each.
    fn items(&mut self, close: u8, mut item: impl FnMut(&mut Self) -> bool) -> bool {
        self.i += 1; // `{` or `[`
        self.ws();
        if self.eat(close) {
            return true;
        }
        loop {
            if !item(self) {
                return false;
            }
            self.ws();
            if self.eat(close) {
                return true;
            }
            if !self.eat(b',') {
                return false;
            }
            self.ws();
        }
    }

    /// A string from its opening quote: no control bytes, only the escapes JSON has. Plain
    /// bytes are passed over in a tight loop; only quotes, escapes and control bytes stop it.
    fn string(&mut self) -> bool {
        let b = self.b;
        let mut i = self.i + 1; // past `"`
        loop {
            while b
                .get(i)
                .is_some_and(|&c| c != b'"' && c != b'\\' && c >= 0x20)
            {
                i += 1;
            }
            match b.get(i) {
                Some(b'"') => {
                    self.i = i + 1;
                    return true;
                }
                Some(b'\\') => match b.get(i + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                    Some(b'u') => {
                        let hex = b.get(i + 2..i + 6);
                        if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                            return false;
                        }
                        i += 6;
                    }
                    _ => return false,
                },
                _ => return false, // a control byte, or the end
            }
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> bool {
        self.eat(b'-');
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return false,
        }
        if self.eat(b'.') {
            if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
                return false;
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
                return false;
            }
            self.digits();
        }
        true
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        let hit = self.b[self.i..].starts_with(word);
        self.i += if hit { word.len() } else { 0 };
        hit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::IgnoredAny;
    use serde::Deserialize;
    use std::borrow::Cow;

    #[derive(Deserialize)]
    struct Header<'a> {
        #[serde(borrow)]
        alg: Cow<'a, str>,
    }

    fn serde_object(b: &[u8]) -> bool {
        b.trim_ascii_start().first() == Some(&b'{')
            && serde_json::from_slice::<IgnoredAny>(b).is_ok()
    }

    /// JSON documents and near misses, built from pieces and then cut and changed byte by
    /// byte, so that every rule is met and broken somewhere.
    fn documents() -> Vec<Vec<u8>> {
        let pieces: &[&str] = &[
            r#"{"alg":"HS256","typ":"JWT"}"#,
            r#" { "alg" : "none" } "#,
            r#"{"sub":"1234567890","name":"Jöhn \"D\" \u00e9\n","iat":1516239022,"ok":true}"#,
            r#"{"a":[1,-2.5e+3,0.1E-2,null,false,{"b":[]}],"c":{}}"#,
            r#"{"alg":"RS256","alg":"HS256"}"#,
            r#"{"alg":5}"#,
            r#"{"typ":"JWT"}"#,
            r#"[1,2]"#,
            r#"{"n":01}"#,
            r#"{"n":1.}"#,
            r#"{"n":-}"#,
            r#"{"s":"\x"}"#,
            r#"{"s":"\u12g4"}"#,
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{"a":tru}"#,
            r#"{} x"#,
            "{\"s\":\"tab\there\"}",
        ];
        let mut docs: Vec<Vec<u8>> = pieces.iter().map(|p| p.as_bytes().to_vec()).collect();
        let mut seed = 11u32;
        let mut next = |n: usize| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as usize % n
        };
        let alphabet = b"{}[]\":,. -+0123456789eEtrufalsn\\\"ab\t\n";
        for p in pieces {
            let p = p.as_bytes();
            for _ in 0..300 {
                let mut d = p.to_vec();
                match next(3) {
                    0 => d.truncate(next(d.len() + 1)),
                    1 => {
                        let at = next(d.len());
                        d[at] = alphabet[next(alphabet.len())];
                    }
                    _ => {
                        let at = next(d.len() + 1);
                        d.insert(at, alphabet[next(alphabet.len())]);
                    }
                }
                docs.push(d);
            }
        }
        let deep = |n: usize| format!("{}{}", "{\"a\":".repeat(n), "}".repeat(n)).into_bytes();
        docs.extend([deep(1), deep(MAX_DEPTH), deep(MAX_DEPTH + 1)]);
        docs
    }

    #[test]
    fn objects_as_serde_json_reads_them() {
        let docs = documents();
        let valid = docs.iter().filter(|d| serde_object(d)).count();
        assert!(
            valid > 300 && valid < docs.len() - 300,
            "{valid} of {}",
            docs.len()
        );
        // Text that is not UTF-8 is the one difference (see the module's doc).
        for d in docs.iter().filter(|d| std::str::from_utf8(d).is_ok()) {
            assert_eq!(
                is_object(d),
                serde_object(d),
                "{}",
                String::from_utf8_lossy(d)
            );
        }
    }

    #[test]
    fn alg_as_serde_json_reads_it() {
        let plain = |d: &&Vec<u8>| !d.contains(&b'\\') && std::str::from_utf8(d).is_ok();
        for d in documents().iter().filter(plain) {
            let serde = serde_json::from_slice::<Header<'_>>(d)
                .ok()
                .filter(|_| serde_object(d))
                .map(|h| h.alg.into_owned().into_bytes());
            assert_eq!(
                plain_alg(d).map(<[u8]>::to_vec),
                serde,
                "{}",
                String::from_utf8_lossy(d)
            );
        }
    }

    #[test]
    fn text_that_is_not_utf8_is_not_json() {
        assert!(!is_object(b"{\"a\":\"\xff\"}"));
        assert!(plain_alg(br#"{"alg":"HS\u0032"}"#).is_none());
    }
}
