//! The parts of a `multipart/form-data` body: text fields as they are, files (named by
//! `filename=` or `filename*=`, or told by their bytes) through the document and archive
//! extractor. Works on bytes, so binary files (docx, zip, pdf) survive intact.
//!
//! It must never trust a part's declared name or type to decide whether it is a file, and
//! never drop bytes silently: what it cannot attribute to a part is reported as `leftover`, so
//! the caller scans the raw body too.

use super::extract::{file_text, percent_decode, Extracted};

/// Text of a multipart body. `leftover` is true when some of the body was not inside a
/// well-formed part (no delimiter at all, a part without headers, text outside the parts).
pub fn multipart(body: &[u8], boundary: &str) -> (Extracted, bool) {
    let mut out = Extracted::default();
    let delimiter = format!("--{boundary}");
    let finder = memchr::memmem::Finder::new(delimiter.as_bytes());
    let starts: Vec<usize> = finder.find_iter(body).collect();
    let mut leftover = match (starts.first(), starts.last()) {
        (Some(&first), Some(&last)) => {
            let epilogue = body.get(last + delimiter.len()..).unwrap_or_default();
            let epilogue = epilogue.strip_prefix(b"--").unwrap_or(epilogue);
            !is_blank(&body[..first]) || !is_blank(epilogue) || starts.len() < 2
        }
        _ => true,
    };
    let mut texts = Vec::new();
    for pair in starts.windows(2) {
        let part = &body[pair[0] + delimiter.len()..pair[1]];
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let Some(split) = memchr::memmem::find(part, b"\r\n\r\n") else {
            leftover |= !is_blank(part);
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
        let kind = extract::sniff(content);
        let file_name = file_name(&disposition).or_else(|| {
            // A part without a name whose bytes are a file is a file all the same.
            (kind != extract::FileKind::Text && !content.is_empty()).then(|| "part".to_string())
        });
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
                out.holds_file = true;
                out.file_names.push(name);
            }
            None => texts.push(String::from_utf8_lossy(content).into_owned()),
        }
    }
    out.text = texts.join("\n");
    (out, leftover)
}

fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// The file name of a Content-Disposition: `filename*=` (RFC 6266 / RFC 8187: charset, an
/// optional language, then percent-encoded bytes) first, then `filename=`.
pub(super) fn file_name(disposition: &str) -> Option<String> {
    let params: Vec<(String, &str)> = disposition
        .split(';')
        .filter_map(|p| {
            let (name, value) = p.split_once('=')?;
            Some((name.trim().to_ascii_lowercase(), value.trim()))
        })
        .collect();
    let extended = params.iter().find(|(n, _)| n == "filename*").map(|(_, v)| {
        let v = v.trim_matches('"');
        // charset'language'value: the value is what follows the second quote.
        let encoded = v.splitn(3, '\'').nth(2).unwrap_or(v);
        percent_decode(encoded.as_bytes(), false)
    });
    extended.or_else(|| {
        params
            .iter()
            .find(|(n, _)| n == "filename")
            .map(|(_, v)| v.trim_matches('"').to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_file_names_and_unnamed_files_are_files() {
        assert_eq!(
            file_name("form-data; name=\"f\"; filename*=UTF-8''card%20x.docx").as_deref(),
            Some("card x.docx")
        );
        assert_eq!(
            file_name("form-data; filename=\"a.txt\"").as_deref(),
            Some("a.txt")
        );
        assert_eq!(file_name("form-data; name=\"q\""), None);
        let body =
            b"--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nPK\x03\x04zz\r\n--b--\r\n";
        let (out, leftover) = multipart(body, "b");
        assert!(out.holds_file, "a zip is a file whatever the part says");
        assert!(!leftover);
    }

    #[test]
    fn text_outside_the_parts_is_leftover() {
        let (_, leftover) = multipart(b"card 4539\r\n--b\r\n\r\nx\r\n--b--", "b");
        assert!(leftover);
        let (_, leftover) = multipart(b"{\"prompt\": \"x\"}", "b");
        assert!(leftover, "no delimiter at all");
    }
}
