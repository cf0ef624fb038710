//! Text files: telling text from binary, decoding it (UTF-8, UTF-16 with a BOM, else Latin-1),
//! and naming its subtype (CSV, JSON, code, markup) from the content. A name or content type
//! only breaks a tie between text subtypes; it never makes binary into text.

use crate::kind::FileKind;

/// Whether `head` (a file's first bytes) reads as text: no NUL, almost no control bytes.
pub(crate) fn looks_like_text(head: &[u8]) -> bool {
    if head.starts_with(b"\xff\xfe") || head.starts_with(b"\xfe\xff") {
        return true;
    }
    if head.contains(&0) {
        return false;
    }
    let controls = head
        .iter()
        .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b)) || b == 0x7f)
        .count();
    controls * 100 <= head.len()
}

/// Decodes a text file to UTF-8, or `None` when it is not text after all.
pub(crate) fn decode(bytes: &[u8]) -> Option<String> {
    if let Some(rest) = bytes.strip_prefix(b"\xef\xbb\xbf") {
        return Some(String::from_utf8_lossy(rest).into_owned());
    }
    if let Some(rest) = bytes.strip_prefix(b"\xff\xfe") {
        return Some(utf16(rest, u16::from_le_bytes));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xfe\xff") {
        return Some(utf16(rest, u16::from_be_bytes));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Some(text.to_string()),
        // Cut inside the last character (a truncated read): keep what is whole.
        Err(e) if e.error_len().is_none() => {
            Some(String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned())
        }
        Err(_) if looks_like_text(bytes) => Some(bytes.iter().map(|&b| char::from(b)).collect()),
        Err(_) => None,
    }
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| unit([pair[0], pair[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

/// The subtype of decoded text, from its content first and the hints only as a tie-break.
pub(crate) fn classify(
    text: &str,
    name_hint: Option<&str>,
    content_type: Option<&str>,
) -> FileKind {
    let by_content = classify_content(text);
    if by_content != FileKind::Text {
        return by_content;
    }
    hinted(name_hint, content_type).unwrap_or(FileKind::Text)
}

fn classify_content(text: &str) -> FileKind {
    let trimmed = text.trim();
    let lower_start: String = trimmed
        .chars()
        .take(15)
        .collect::<String>()
        .to_ascii_lowercase();
    if (trimmed.starts_with('{') && trimmed.ends_with('}'))
        || (trimmed.starts_with('[') && trimmed.ends_with(']'))
    {
        return FileKind::Json;
    }
    if ["<?xml", "<!doctype", "<html", "<svg"]
        .iter()
        .any(|p| lower_start.starts_with(p))
    {
        return FileKind::Markup;
    }
    let lines: Vec<&str> = trimmed
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .take(40)
        .collect();
    if lines.len() >= 2 && is_csv(&lines) {
        return FileKind::Csv;
    }
    if is_code(&lines) {
        return FileKind::Code;
    }
    FileKind::Text
}

fn is_csv(lines: &[&str]) -> bool {
    [',', '\t', ';', '|'].iter().any(|&sep| {
        let first = lines[0].matches(sep).count();
        let same = lines
            .iter()
            .filter(|l| l.matches(sep).count() == first)
            .count();
        first >= 1 && same * 10 >= lines.len() * 9
    })
}

fn is_code(lines: &[&str]) -> bool {
    const STARTS: &[&str] = &[
        "import ",
        "from ",
        "def ",
        "class ",
        "fn ",
        "pub ",
        "let ",
        "const ",
        "var ",
        "function ",
        "#include",
        "package ",
        "public ",
        "private ",
        "return ",
        "if (",
        "for (",
        "func ",
        "use ",
        "#!/",
        "async ",
        "struct ",
        "impl ",
        "namespace ",
        "using ",
        "export ",
        "module ",
        "@",
        "//",
        "/*",
        "} ",
    ];
    if lines.first().is_some_and(|l| l.starts_with("#!/")) {
        return true;
    }
    let code = lines
        .iter()
        .filter(|l| {
            let t = l.trim_start();
            STARTS.iter().any(|s| t.starts_with(s))
                || t.ends_with(';')
                || t.ends_with('{')
                || t == "}"
                || (t.ends_with(':') && (t.starts_with("if ") || t.starts_with("for ")))
        })
        .count();
    lines.len() >= 2 && code * 10 >= lines.len() * 3
}

fn hinted(name_hint: Option<&str>, content_type: Option<&str>) -> Option<FileKind> {
    let ext = name_hint
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase());
    let by_ext = ext.as_deref().and_then(|e| match e {
        "csv" | "tsv" => Some(FileKind::Csv),
        "json" | "jsonl" | "ndjson" => Some(FileKind::Json),
        "xml" | "html" | "htm" | "svg" => Some(FileKind::Markup),
        "rs" | "py" | "js" | "ts" | "tsx" | "jsx" | "go" | "java" | "kt" | "c" | "h" | "cc"
        | "cpp" | "hpp" | "cs" | "rb" | "php" | "swift" | "scala" | "sh" | "sql" | "m" | "lua"
        | "pl" => Some(FileKind::Code),
        _ => None,
    });
    by_ext.or_else(|| {
        let essence = content_type?.split(';').next()?.trim().to_ascii_lowercase();
        match essence.as_str() {
            "text/csv" | "text/tab-separated-values" => Some(FileKind::Csv),
            "application/json" | "application/x-ndjson" => Some(FileKind::Json),
            "text/html" | "application/xml" | "text/xml" => Some(FileKind::Markup),
            _ => None,
        }
    })
}
