//! Documents attached to a prompt — a PDF or Word file in OpenAI `file` parts (`file_data`),
//! Responses `input_file`, Anthropic `document` blocks (`source.data`), Gemini `inline_data`
//! or a `data:application/...` URL — opened with the `extract` crate (bounded in size, depth,
//! ratio and entries) so the prompt DLP reads the text a provider would read. Compressed
//! PDFs and Office files are not text to the engine's base64 decoder: without this they
//! passed as clean (review 2, finding 4).
//!
//! A document that cannot be opened under the limits (encrypted, a bomb, too large, corrupt,
//! a legacy `.doc` or a RAR the extractor does not open) is unscannable, and the caller
//! refuses the call: it is never passed as clean. Images, audio, video and unknown binary
//! are left to the rules that already cover them (a payload whose bytes are text is read).
//!
//! Never: log or return any of the text found; only the fact that a document was
//! unscannable leaves this module.

use base64::Engine as _;
use extract::{FileKind, Limits};
use serde_json::Value;

/// Keys whose string value may be a base64 file or a `data:` URL of one.
const PAYLOAD_KEYS: &[&str] = &["data", "file_data", "url", "image_url", "bytes"];

/// The largest document opened (decoded bytes); a larger one is unscannable.
const MAX_DOCUMENT: usize = 8 * 1024 * 1024;

/// The texts of the documents in a request, and whether one could not be read.
#[derive(Debug, Default)]
pub(crate) struct Documents {
    pub texts: Vec<String>,
    pub unscannable: bool,
}

/// Every document at any depth of `body`.
pub(crate) fn documents(body: &Value) -> Documents {
    let mut out = Documents::default();
    walk(body, &mut out);
    out
}

fn walk(value: &Value, out: &mut Documents) {
    match value {
        Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
        Value::Object(map) => {
            for (key, item) in map {
                match item.as_str() {
                    Some(s) if PAYLOAD_KEYS.contains(&key.as_str()) => payload(s, out),
                    _ => walk(item, out),
                }
            }
        }
        _ => {}
    }
}

/// The base64 part of `s` — the data of a `data:...;base64,` URL, or `s` itself — and
/// whether the URL declares a text media type.
fn base64_part(s: &str) -> Option<(&str, bool)> {
    match s.strip_prefix("data:") {
        Some(url) => {
            let (head, data) = url.split_once(',')?;
            let head = head.to_ascii_lowercase();
            head.ends_with(";base64")
                .then_some((data, head.starts_with("text/")))
        }
        None => Some((s, false)),
    }
}

/// Base64 in either alphabet (`+/` or `-_`), padded or not, line breaks allowed.
fn decode(data: &str) -> Option<Vec<u8>> {
    let compact: String = data
        .trim_end_matches('=')
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let engine = if compact.contains(['-', '_']) {
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
    } else {
        &base64::engine::general_purpose::STANDARD_NO_PAD
    };
    engine.decode(compact.trim_end_matches('=')).ok()
}

/// Reads the document in `s`, if it is one.
fn payload(s: &str, out: &mut Documents) {
    let Some((data, declared_text)) = base64_part(s) else {
        return;
    };
    // The kind is told from the head before the whole payload is decoded: a large image
    // costs nothing here.
    let head_len = data.len().min(64) & !3;
    if head_len < 8 {
        return;
    }
    let Some(head) = data.get(..head_len).and_then(decode) else {
        return;
    };
    let kind = extract::sniff(&head);
    let is_text = matches!(
        kind,
        FileKind::Text | FileKind::Csv | FileKind::Json | FileKind::Code | FileKind::Markup
    );
    let opened = match kind {
        FileKind::Pdf
        | FileKind::Docx
        | FileKind::Xlsx
        | FileKind::Pptx
        | FileKind::OpenDocument
        | FileKind::Zip
        | FileKind::Gzip
        | FileKind::Zstd
        | FileKind::Tar => true,
        // Archives and documents the extractor reports but does not open.
        FileKind::Bzip2
        | FileKind::Xz
        | FileKind::SevenZip
        | FileKind::Rar
        | FileKind::OleDocument => false,
        // Text in any encoding, and bytes declared as text whatever they start with (a
        // non-UTF-8 byte in front kept base64url text from the engine's own decoder).
        FileKind::Text | FileKind::Csv | FileKind::Json | FileKind::Code | FileKind::Markup => true,
        _ if declared_text => {
            if let Some(bytes) = (data.len() <= MAX_DOCUMENT / 3 * 4 + 4)
                .then(|| decode(data))
                .flatten()
            {
                out.texts.push(String::from_utf8_lossy(&bytes).into_owned());
            }
            return;
        }
        _ => return,
    };
    if !opened || data.len() > MAX_DOCUMENT / 3 * 4 + 4 {
        // Text that large is over the body limits already and read by the engine as it is.
        out.unscannable |= !is_text;
        return;
    }
    let Some(bytes) = decode(data) else {
        // It starts like a document and is not base64 to the end: not read, so not clean.
        // (A string that only starts like base64 text is prose, read as it is.)
        out.unscannable |= !is_text;
        return;
    };
    let limits = Limits {
        max_input_bytes: MAX_DOCUMENT as u64,
        ..Limits::default()
    };
    let extraction = extract::extract(None, None, &bytes, &limits);
    if !extraction.is_complete() {
        out.unscannable = true;
    }
    // Text found before a refusal is still scanned: a card seen early names its detector.
    if !extraction.text.is_empty() {
        out.texts.push(extraction.text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::io::Write;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn flate_pdf(text: &str) -> Vec<u8> {
        let content = format!("BT /F1 12 Tf 72 720 Td ({text}) Tj ET");
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(content.as_bytes()).unwrap();
        let stream = z.finish().unwrap();
        let mut pdf = b"%PDF-1.4\n1 0 obj\n<< /Length ".to_vec();
        pdf.extend(format!("{} /Filter /FlateDecode >>\nstream\n", stream.len()).bytes());
        pdf.extend(&stream);
        pdf.extend(b"\nendstream\nendobj\ntrailer\n<< >>\n%%EOF\n");
        pdf
    }

    #[test]
    fn a_compressed_pdf_is_read_in_every_dialect() {
        let pdf = b64(&flate_pdf("card 4556 7375 8689 9855"));
        let url_safe = pdf.replace('+', "-").replace('/', "_").replace('=', "");
        for body in [
            json!({"messages": [{"role": "user", "content": [{"type": "file", "file": {"filename": "a.pdf", "file_data": format!("data:application/pdf;base64,{pdf}")}}]}]}),
            json!({"input": [{"role": "user", "content": [{"type": "input_file", "filename": "a.pdf", "file_data": format!("data:application/pdf;base64,{url_safe}")}]}]}),
            json!({"messages": [{"role": "user", "content": [{"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": pdf}}]}]}),
        ] {
            let docs = documents(&body);
            assert!(!docs.unscannable, "{body}");
            assert!(
                docs.texts.concat().contains("4556 7375 8689 9855"),
                "{body}"
            );
        }
    }

    #[test]
    fn unreadable_documents_are_unscannable_and_images_are_left_alone() {
        let rar = b"Rar!\x1a\x07\x01\x00 and more bytes of an archive".to_vec();
        let body = json!({"source": {"type": "base64", "data": b64(&rar)}});
        assert!(documents(&body).unscannable);
        let mut pdf = b64(&flate_pdf("x"));
        pdf.push_str("!!not base64!!");
        assert!(documents(&json!({"data": pdf})).unscannable);
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR and the rest of an image".to_vec();
        let body = json!({"image_url": {"url": format!("data:image/png;base64,{}", b64(&png))}});
        let docs = documents(&body);
        assert!(!docs.unscannable && docs.texts.is_empty());
        let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(b"\xfb\xff card 4556 7375 8689 9855 ??>>");
        let docs = documents(&json!({"file_data": format!("data:text/plain;base64,{b64url}")}));
        assert!(docs.texts.concat().contains("4556 7375 8689 9855"));
        let text = json!({"data": "hello, this is not base64 at all!"});
        assert!(!documents(&text).unscannable);
    }
}
