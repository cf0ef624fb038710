//! Turning a request body into the text a person typed: the catalog's prompt fields of a JSON
//! body first, then every other string value; form fields; multipart text parts; plain text.
//! Binary content is not guessed at: it yields no text.

use policies::catalog::{FieldPath, FieldStep};
use serde_json::Value;

/// The text found in a body.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Extracted {
    /// The prompt as the app defines it (catalog prompt fields), when found.
    pub prompt: String,
    /// All text: the prompt first, then every other string, separated by newlines.
    pub text: String,
    /// File names of uploaded parts.
    pub file_names: Vec<String>,
    /// Why some content could not be read (an archive bomb, encryption, corruption).
    pub refused: Option<String>,
}

/// Extracts text from `body` of `content_type`, preferring `prompt_fields` for JSON.
pub fn extract_text(content_type: &str, body: &[u8], prompt_fields: &[FieldPath]) -> Extracted {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let mut out = Extracted::default();
    if essence.ends_with("json") || (essence.is_empty() && body.first() == Some(&b'{')) {
        if let Ok(value) = serde_json::from_slice::<Value>(body) {
            let mut prompt = Vec::new();
            for field in prompt_fields {
                collect_path(&value, field.steps(), &mut prompt);
            }
            out.prompt = prompt.join("\n");
            let mut all = Vec::new();
            collect_strings(&value, &mut all, 0);
            // The prompt strings lead; every other string follows once (the same string value
            // is recognised by address, not by content).
            let rest: Vec<&str> = all
                .into_iter()
                .filter(|s| !prompt.iter().any(|p| std::ptr::eq(*p, *s)))
                .collect();
            out.text = match (out.prompt.is_empty(), rest.is_empty()) {
                (true, _) => rest.join("\n"),
                (false, true) => out.prompt.clone(),
                (false, false) => format!("{}\n{}", out.prompt, rest.join("\n")),
            };
            return out;
        }
    }
    if essence == "application/x-www-form-urlencoded" {
        let text: Vec<String> = form_urlencoded_values(body);
        out.text = text.join("\n");
        return out;
    }
    if essence == "multipart/form-data" {
        if let Some(boundary) = boundary(content_type) {
            return multipart(body, &boundary);
        }
    }
    if essence.is_empty() || essence.starts_with("text/") {
        if let Ok(text) = std::str::from_utf8(body) {
            out.text = text.to_string();
            return out;
        }
    }
    // Anything else is a file sent as the body (PUT of a document, an octet stream).
    file_text(None, Some(content_type).filter(|c| !c.is_empty()), body)
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

fn form_urlencoded_values(body: &[u8]) -> Vec<String> {
    body.split(|b| *b == b'&')
        .filter_map(|pair| {
            let value = pair.splitn(2, |b| *b == b'=').nth(1)?;
            Some(percent_decode(value))
        })
        .collect()
}

fn percent_decode(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
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

/// Text of a multipart body: text fields as they are, file parts through the document and
/// archive extractor. Works on bytes, so binary files (docx, zip, pdf) survive intact.
fn multipart(body: &[u8], boundary: &str) -> Extracted {
    let mut out = Extracted::default();
    let delimiter = format!("--{boundary}");
    let finder = memchr::memmem::Finder::new(delimiter.as_bytes());
    let starts: Vec<usize> = finder.find_iter(body).collect();
    let mut texts = Vec::new();
    for pair in starts.windows(2) {
        let part = &body[pair[0] + delimiter.len()..pair[1]];
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let Some(split) = memchr::memmem::find(part, b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&part[..split]);
        let content = &part[split + 4..];
        let content = content.strip_suffix(b"\r\n").unwrap_or(content);
        let header = |name: &str| {
            head.lines()
                .find(|l| l.to_ascii_lowercase().starts_with(name))
                .map(|l| l[name.len()..].trim().to_string())
        };
        let disposition = header("content-disposition:").unwrap_or_default();
        let file_name = disposition
            .split(';')
            .find_map(|p| p.trim().strip_prefix("filename="))
            .map(|n| n.trim().trim_matches('"').to_string());
        match file_name {
            Some(name) => {
                let content_type = header("content-type:");
                let file = file_text(Some(&name), content_type.as_deref(), content);
                if out.refused.is_none() {
                    out.refused = file.refused;
                }
                if !file.text.is_empty() {
                    texts.push(file.text);
                }
                out.file_names.push(name);
            }
            None => texts.push(String::from_utf8_lossy(content).into_owned()),
        }
    }
    out.text = texts.join("\n");
    out
}

/// The text of one uploaded file (documents, archives and text by content; binaries by type).
pub fn file_text(name: Option<&str>, content_type: Option<&str>, bytes: &[u8]) -> Extracted {
    let extraction = extract::extract(name, content_type, bytes, &extract::Limits::default());
    Extracted {
        prompt: String::new(),
        text: extraction.text,
        file_names: name.map(|n| vec![n.to_string()]).unwrap_or_default(),
        refused: extraction
            .refused
            .map(|r| format!("{}: {}", r.path, r.reason)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_prompt_fields_come_first() {
        let fields = vec![FieldPath::parse("messages.*.content").unwrap()];
        let body = br#"{"model":"gpt-4o","messages":[{"role":"user","content":"my card 4111"}]}"#;
        let out = extract_text("application/json", body, &fields);
        assert_eq!(out.prompt, "my card 4111");
        assert!(out.text.starts_with("my card 4111\n"));
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
        assert_eq!(out.text, "hello world!\n1");
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
}
