//! The names of the files an upload carries, from the head of its body: what the event of a
//! refused upload records, so the analyst sees which file was stopped without the gateway
//! reading (or keeping) the rest. Multipart parts are named by `filename*=` (RFC 8187) or
//! `filename=`; a file without a name, and a body that is itself a file, by the kind its
//! bytes show (`unnamed pdf`).
//!
//! It reads only the bytes it is given and never trusts a declared type to say whether a part
//! is a file. Names are bounded in number and length: they come from the client.

use extract::FileKind;

use super::multipart::file_name;

/// Most names recorded for one request.
const MAX_NAMES: usize = 32;
/// Longest name kept, in characters.
const MAX_NAME_CHARS: usize = 255;

/// The files in `head`, the first bytes of a body of `content_type`; `disposition` is the
/// request's own `Content-Disposition`, naming a body that is one file.
pub fn upload_names(content_type: &str, disposition: Option<&str>, head: &[u8]) -> Vec<String> {
    let boundary = content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        (name.trim().eq_ignore_ascii_case("boundary"))
            .then(|| value.trim().trim_matches('"').to_string())
    });
    let names = match boundary.filter(|b| !b.is_empty()) {
        Some(boundary) => multipart_names(&boundary, head),
        None => {
            let named = disposition.and_then(file_name);
            let kind = extract::sniff(head);
            match named {
                Some(name) => vec![name],
                None if !matches!(kind, FileKind::Text) => vec![unnamed(kind)],
                None => Vec::new(),
            }
        }
    };
    names
        .into_iter()
        .take(MAX_NAMES)
        .map(|n| {
            let clean: String = n.chars().filter(|c| !c.is_control()).collect();
            clean.chars().take(MAX_NAME_CHARS).collect()
        })
        .collect()
}

fn unnamed(kind: FileKind) -> String {
    format!("unnamed {kind}")
}

/// Each part whose headers are in `head`: its file name, or the kind of its (possibly cut)
/// content when that is a file.
fn multipart_names(boundary: &str, head: &[u8]) -> Vec<String> {
    let delimiter = format!("--{boundary}");
    let finder = memchr::memmem::Finder::new(delimiter.as_bytes());
    let starts: Vec<usize> = finder.find_iter(head).collect();
    let mut names = Vec::new();
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(head.len());
        let part = &head[start + delimiter.len()..end];
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let Some(split) = memchr::memmem::find(part, b"\r\n\r\n") else {
            continue;
        };
        let headers = String::from_utf8_lossy(&part[..split]);
        let content = &part[split + 4..];
        let disposition = headers.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("content-disposition")
                .then(|| value.trim().to_string())
        });
        match disposition.as_deref().and_then(file_name) {
            Some(name) => names.push(name),
            None => {
                let kind = extract::sniff(content);
                if !matches!(kind, FileKind::Text) && !content.is_empty() {
                    names.push(unnamed(kind));
                }
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_names_come_from_the_part_headers_even_when_the_head_is_cut() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n\
            --XyZ\r\ncontent-disposition: form-data; name=\"file\"; \
            filename*=UTF-8''Q3%20plan%20%C3%A9t%C3%A9.pdf\r\nContent-Type: application/pdf\r\n\r\n\
            %PDF-1.7 and the rest is cut";
        let names = upload_names("multipart/form-data; boundary=XyZ", None, body);
        assert_eq!(names, vec!["Q3 plan été.pdf".to_string()]);
        let plain =
            b"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\x07.txt\"\r\n\r\nx";
        assert_eq!(
            upload_names("multipart/form-data; boundary=\"b\"", None, plain),
            vec!["a.txt".to_string()]
        );
    }

    #[test]
    fn unnamed_files_are_named_by_their_kind() {
        let body = b"--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\n%PDF-1.7\n...";
        assert_eq!(
            upload_names("multipart/form-data; boundary=b", None, body),
            vec!["unnamed pdf".to_string()]
        );
        assert_eq!(
            upload_names("application/octet-stream", None, b"%PDF-1.4\n"),
            vec!["unnamed pdf".to_string()]
        );
        assert_eq!(
            upload_names(
                "application/pdf",
                Some("attachment; filename=\"board.pdf\""),
                b"%PDF-1.4\n"
            ),
            vec!["board.pdf".to_string()]
        );
        assert!(upload_names("text/plain", None, b"just words").is_empty());
    }
}
