//! Turning a request body into the text a person typed: the catalog's prompt fields of a JSON
//! body first, then every other string value; form fields; multipart text parts; plain text.
//! Binary content is not guessed at: it yields no text.

use extract::FileKind;
use policies::catalog::{FieldPath, FieldStep};
use serde_json::Value;

use super::{json, multipart};

/// The text found in a body.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Extracted {
    /// The prompt as the app defines it (catalog prompt fields), when found.
    pub prompt: String,
    /// All text the scanner must see: every string, key and number of a JSON body; every
    /// field of a form; every part of a multipart body; the raw body when a structured
    /// reading could not account for all of it.
    pub text: String,
    /// File names of uploaded parts.
    pub file_names: Vec<String>,
    /// The body is, or carries, a file: told from its bytes, never its declared type.
    pub holds_file: bool,
    /// Why some content could not be read (an archive bomb, encryption, corruption).
    pub refused: Option<String>,
}

/// Extracts text from `body` of `content_type`, preferring `prompt_fields` for JSON.
///
/// The declared type only picks between readings of text: what the body is comes from its
/// bytes. A file (docx, zip, pdf...) is read as a file whatever it is labelled; UTF-16 (by
/// charset, BOM or its zero bytes) is decoded first; JSON-looking bodies are walked as JSON
/// whatever their label; and when a reading leaves bytes unaccounted for, the raw body is
/// scanned as well.
pub fn extract_text(content_type: &str, body: &[u8], prompt_fields: &[FieldPath]) -> Extracted {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let declared = Some(content_type).filter(|c| !c.is_empty());
    let kind = extract::sniff(body);
    if !matches!(kind, FileKind::Text | FileKind::Binary) {
        let mut out = file_text(None, declared, body);
        out.holds_file = true;
        return out;
    }
    let utf16 = utf16_text(content_type, body);
    let body: &[u8] = utf16.as_deref().map(str::as_bytes).unwrap_or(body);
    // A multipart body carrying a binary file is binary too: its parts are read below.
    if kind == FileKind::Binary && utf16.is_none() && essence != "multipart/form-data" {
        return file_text(None, declared, body);
    }
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if essence.ends_with("json") || matches!(first, Some(b'{' | b'[' | b'"')) {
        let walked = json::json_text(body);
        if walked.complete {
            let mut out = Extracted {
                text: walked.text,
                ..Extracted::default()
            };
            if !prompt_fields.is_empty() {
                if let Ok(value) = serde_json::from_slice::<Value>(body) {
                    let mut prompt = Vec::new();
                    for field in prompt_fields {
                        collect_path(&value, field.steps(), &mut prompt);
                    }
                    out.prompt = prompt.join("\n");
                }
            }
            return out;
        }
        // Not JSON after all: the raw text below sees every byte.
    } else if essence == "application/x-www-form-urlencoded" {
        return Extracted {
            text: form_text(body),
            ..Extracted::default()
        };
    } else if essence == "multipart/form-data" {
        if let Some(boundary) = boundary(content_type) {
            let (mut out, leftover) = multipart::multipart(body, &boundary);
            if leftover {
                out.text.push('\n');
                out.text.push_str(&String::from_utf8_lossy(body));
            }
            return out;
        }
    }
    Extracted {
        text: String::from_utf8_lossy(body).into_owned(),
        ..Extracted::default()
    }
}

/// Every name and value of a form (or a URL query), percent-decoded, one a line: nothing in
/// it is left out, so a body that is not a form at all is still seen whole.
pub fn form_text(body: &[u8]) -> String {
    let mut out = String::with_capacity(body.len());
    for pair in body.split(|b| *b == b'&') {
        for piece in pair.splitn(2, |b| *b == b'=') {
            if !piece.is_empty() {
                out.push_str(&percent_decode(piece, true));
                out.push('\n');
            }
        }
    }
    out
}

/// A UTF-16 body as UTF-8: declared by its charset, or told by its BOM or by the zero bytes
/// of ASCII text in UTF-16. `None` for anything else.
fn utf16_text(content_type: &str, body: &[u8]) -> Option<String> {
    let charset = content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        (name.trim().eq_ignore_ascii_case("charset"))
            .then(|| value.trim().trim_matches('"').to_ascii_lowercase())
    });
    let (units, little) = if let Some(rest) = body.strip_prefix(b"\xff\xfe") {
        (rest, true)
    } else if let Some(rest) = body.strip_prefix(b"\xfe\xff") {
        (rest, false)
    } else {
        match (charset.as_deref(), zero_parity(body)) {
            (Some("utf-16le"), _) => (body, true),
            (Some("utf-16be"), _) => (body, false),
            (_, Some(little)) => (body, little),
            (Some("utf-16"), None) => (body, true),
            _ => return None,
        }
    };
    let units: Vec<u16> = units
        .chunks_exact(2)
        .map(|p| {
            if little {
                u16::from_le_bytes([p[0], p[1]])
            } else {
                u16::from_be_bytes([p[0], p[1]])
            }
        })
        .collect();
    Some(String::from_utf16_lossy(&units))
}

/// `Some(true)` when the body's head looks like ASCII in UTF-16LE (zeros at odd offsets),
/// `Some(false)` for UTF-16BE, `None` otherwise.
fn zero_parity(body: &[u8]) -> Option<bool> {
    let head = &body[..body.len().min(4096) & !1];
    let pairs = head.len() / 2;
    if pairs < 2 {
        return None;
    }
    let zeros = |offset: usize| {
        head.iter()
            .skip(offset)
            .step_by(2)
            .filter(|b| **b == 0)
            .count()
    };
    let (even, odd) = (zeros(0), zeros(1));
    let most = |n: usize| n * 10 >= pairs * 6;
    let few = |n: usize| n * 20 <= pairs;
    match (most(even), few(even), most(odd), few(odd)) {
        (_, true, true, _) => Some(true),
        (true, _, _, true) => Some(false),
        _ => None,
    }
}

const MAX_DEPTH: usize = 64;

fn collect_path<'v>(value: &'v Value, steps: &[FieldStep], out: &mut Vec<&'v str>) {
    let Some((step, rest)) = steps.split_first() else {
        match value {
            Value::String(s) => out.push(s),
            other => {
                // A prompt field that holds structure (content parts): take its strings.
                let mut nested = Vec::new();
                collect_strings(other, &mut nested, 0);
                out.extend(nested);
            }
        }
        return;
    };
    match (step, value) {
        (FieldStep::Key(key), Value::Object(map)) => {
            if let Some(v) = map.get(&**key) {
                collect_path(v, rest, out);
            }
        }
        (FieldStep::Any, Value::Array(items)) => {
            items.iter().for_each(|v| collect_path(v, rest, out))
        }
        (FieldStep::Any, Value::Object(map)) => {
            map.values().for_each(|v| collect_path(v, rest, out))
        }
        _ => {}
    }
}

fn collect_strings<'v>(value: &'v Value, out: &mut Vec<&'v str>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items
            .iter()
            .for_each(|v| collect_strings(v, out, depth + 1)),
        Value::Object(map) => map
            .values()
            .for_each(|v| collect_strings(v, out, depth + 1)),
        _ => {}
    }
}

/// Percent-decoding (`+` as a space in forms and queries, not in RFC 8187 file names).
pub fn percent_decode(bytes: &[u8], plus_is_space: bool) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        (name.trim().eq_ignore_ascii_case("boundary"))
            .then(|| value.trim().trim_matches('"').to_string())
    })
}

/// The text of one uploaded file (documents, archives and text by content; binaries by type).
pub fn file_text(name: Option<&str>, content_type: Option<&str>, bytes: &[u8]) -> Extracted {
    let extraction = extract::extract(name, content_type, bytes, &extract::Limits::default());
    let unknown_binary = extraction.parts.first().map(|p| p.kind) == Some(FileKind::Binary);
    let text = if extraction.text.is_empty() && extraction.refused.is_none() && unknown_binary {
        // A format nobody reads: its printable runs are still what the bytes carry (a card
        // number inside a binary WebSocket message or an octet stream). Only runs, not the
        // whole lossy text: random bytes read as text look like code to the source-code
        // detector.
        printable_runs(bytes)
    } else {
        extraction.text
    };
    Extracted {
        prompt: String::new(),
        text,
        holds_file: false,
        file_names: name.map(|n| vec![n.to_string()]).unwrap_or_default(),
        refused: extraction
            .refused
            .map(|r| format!("{}: {}", r.path, r.reason)),
    }
}

/// Shortest run of printable characters kept from bytes of an unknown format: a card number,
/// an IBAN, a key or a word of prose is longer; chance runs in random bytes rarely are.
const MIN_RUN: usize = 8;

/// The runs of at least [`MIN_RUN`] printable characters (UTF-8, spaces included) in `bytes`,
/// one a line, like `strings`.
pub fn printable_runs(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().count() >= MIN_RUN {
            out.push_str(run);
            out.push('\n');
        }
        run.clear();
    };
    for c in text.chars() {
        if c == char::REPLACEMENT_CHARACTER || (c.is_control() && c != '\t') {
            flush(&mut run, &mut out);
        } else {
            run.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn unknown_binary_keeps_its_printable_runs_only() {
        let mut bytes = vec![0u8, 0xff, 0x13, 0x80];
        bytes.extend_from_slice(b"card 4539 1488 0343 6467");
        bytes.extend_from_slice(&[0, 1, 2, 0xfe]);
        bytes.extend_from_slice(b"ab{};");
        assert_eq!(super::printable_runs(&bytes), "card 4539 1488 0343 6467\n");
        // Pseudo-random bytes (a fixed LCG): almost nothing survives, so no detector reads
        // noise as code.
        let mut x: u32 = 12345;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (x >> 16) as u8
            })
            .collect();
        let runs = super::printable_runs(&noise);
        assert!(runs.len() < 100, "{} bytes of runs from noise", runs.len());
    }

    use super::*;

    #[test]
    fn json_prompt_fields_and_every_string() {
        let fields = vec![FieldPath::parse("messages.*.content").unwrap()];
        let body = br#"{"model":"gpt-4o","messages":[{"role":"user","content":"my card 4111"}]}"#;
        let out = extract_text("application/json", body, &fields);
        assert_eq!(out.prompt, "my card 4111");
        assert!(out.text.contains("my card 4111\n"));
        assert!(out.text.contains("gpt-4o"));
        assert_eq!(
            out.text.matches("my card").count(),
            1,
            "the prompt is scanned once"
        );
    }

    #[test]
    fn forms_and_multipart() {
        let out = extract_text(
            "application/x-www-form-urlencoded",
            b"q=hello+world%21&x=1",
            &[],
        );
        assert_eq!(out.text, "q\nhello world!\nx\n1\n");
        let body = b"--b\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nsecret note\r\n--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nfile text\r\n--b--\r\n";
        let out = extract_text("multipart/form-data; boundary=b", body, &[]);
        assert_eq!(out.file_names, vec!["a.txt".to_string()]);
        assert_eq!(out.text.trim_end(), "secret note\nfile text");
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        for body in [&b"%"[..], b"%4", b"a=%zz", b"{\"a\":", b"\xff\xfe"] {
            let _ = extract_text("application/x-www-form-urlencoded", body, &[]);
            let _ = extract_text("application/json", body, &[]);
            let _ = extract_text("multipart/form-data; boundary=x", body, &[]);
        }
        let deep = "[".repeat(10_000);
        let _ = extract_text("application/json", deep.as_bytes(), &[]);
    }

    const CARD: &str = "4539 1488 0343 6467";

    #[test]
    fn the_declared_type_never_hides_the_text() {
        let json = format!(r#"{{"prompt": "{CARD}", "prompt": "hello"}}"#);
        for ct in [
            "application/x-www-form-urlencoded",
            "text/plain",
            "",
            "image/png",
        ] {
            let out = extract_text(ct, json.as_bytes(), &[]);
            assert!(out.text.contains(CARD), "{ct}: {}", out.text);
        }
        let out = extract_text("application/json", b"{\"n\": 4539148803436467}", &[]);
        assert!(out.text.contains("4539148803436467"));
        let utf16: Vec<u8> = CARD.encode_utf16().flat_map(u16::to_le_bytes).collect();
        for ct in [
            "text/plain; charset=utf-16le",
            "text/plain",
            "application/octet-stream",
        ] {
            let out = extract_text(ct, &utf16, &[]);
            assert!(out.text.contains(CARD), "{ct}: {:?}", out.text);
        }
        let body = format!(
            "--b\r\nContent-Disposition: form-data; name=\"q\"\r\n\r\nhi\r\n--b--\r\n{CARD}"
        );
        let out = extract_text("multipart/form-data; boundary=b", body.as_bytes(), &[]);
        assert!(out.text.contains(CARD), "text after the parts is scanned");
        let out = extract_text("multipart/form-data; boundary=zz", body.as_bytes(), &[]);
        assert!(
            out.text.contains(CARD),
            "a wrong boundary scans the raw body"
        );
    }

    #[test]
    fn a_file_is_a_file_whatever_it_is_labelled() {
        let zip = b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
        for ct in ["text/plain", "application/json", "application/x-docx", ""] {
            assert!(extract_text(ct, zip, &[]).holds_file, "{ct}");
        }
        assert!(!extract_text("text/plain", b"hello", &[]).holds_file);
    }
}
