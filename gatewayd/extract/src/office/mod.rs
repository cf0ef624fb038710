//! Office documents inside their zip: Word (docx), Excel (xlsx), PowerPoint (pptx) and
//! OpenDocument. The parts that hold what a person wrote are read (body, headers, footers,
//! notes, comments; shared strings and sheets; slides and speaker notes) and turned into plain
//! text; files embedded in the document are walked as nested files. Each part is read capped
//! and metered like any zip entry.

mod sheet;
mod xml;

use crate::extraction::RefusalKind;
use crate::kind::FileKind;
use crate::walk::{Flow, Walker};
use crate::zip::{self, Entry};

/// The office kind of a zip, from the names of its parts.
pub(crate) fn kind_of(entries: &[Entry]) -> Option<FileKind> {
    let has = |name: &str| entries.iter().any(|e| e.name == name);
    if has("word/document.xml") {
        Some(FileKind::Docx)
    } else if has("xl/workbook.xml") {
        Some(FileKind::Xlsx)
    } else if has("ppt/presentation.xml") {
        Some(FileKind::Pptx)
    } else if has("mimetype") && has("content.xml") {
        Some(FileKind::OpenDocument)
    } else {
        None
    }
}

/// Extracts the text of the office document `bytes` (already recorded as part `part`).
pub(crate) fn walk(
    w: &mut Walker<'_>,
    part: usize,
    kind: FileKind,
    path: &str,
    depth: u32,
    bytes: &[u8],
    entries: &[Entry],
) -> Flow {
    let cap = usize::try_from(w.limits.max_output_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    let mut text = String::new();
    if kind == FileKind::Xlsx {
        let shared = match entries.iter().find(|e| e.name == "xl/sharedStrings.xml") {
            Some(entry) => {
                let at = format!("{path}/{}", entry.name);
                match zip::read_entry(w, &at, bytes, entry)? {
                    Some(xml) => sheet::shared_strings(&xml, cap).unwrap_or_else(|(partial, e)| {
                        w.note(RefusalKind::Corrupt, &at, format!("corrupt XML: {e}"));
                        partial
                    }),
                    None => Vec::new(),
                }
            }
            None => Vec::new(),
        };
        for entry in numbered(entries, "xl/worksheets/sheet") {
            let at = format!("{path}/{}", entry.name);
            if let Some(xml) = zip::read_entry(w, &at, bytes, entry)? {
                if let Err(e) = sheet::rows(&xml, &shared, &mut text, cap) {
                    w.note(RefusalKind::Corrupt, &at, format!("corrupt XML: {e}"));
                }
            }
            if text.len() >= cap {
                break;
            }
        }
    } else {
        for entry in text_parts(kind, entries) {
            let at = format!("{path}/{}", entry.name);
            if let Some(xml) = zip::read_entry(w, &at, bytes, entry)? {
                if let Err(e) = xml::paragraphs(&xml, &mut text, cap) {
                    w.note(RefusalKind::Corrupt, &at, format!("corrupt XML: {e}"));
                }
            }
            if text.len() >= cap {
                break;
            }
        }
    }
    w.add_text(part, &text)?;
    let mut entered = false;
    for entry in entries.iter().filter(|e| is_embedded(&e.name)) {
        if !entered {
            w.enter(path, depth)?;
            entered = true;
        }
        zip::visit_entry(
            w,
            &format!("{path}/{}", entry.name),
            depth + 1,
            bytes,
            entry,
        )?;
    }
    Ok(())
}

/// The parts of a docx, pptx or OpenDocument that hold text, in reading order.
fn text_parts(kind: FileKind, entries: &[Entry]) -> Vec<&Entry> {
    match kind {
        FileKind::Docx => {
            let mut parts: Vec<&Entry> = entries
                .iter()
                .filter(|e| e.name == "word/document.xml")
                .collect();
            for prefix in ["word/header", "word/footer"] {
                parts.extend(numbered(entries, prefix));
            }
            for name in [
                "word/footnotes.xml",
                "word/endnotes.xml",
                "word/comments.xml",
            ] {
                parts.extend(entries.iter().filter(|e| e.name == name));
            }
            parts
        }
        FileKind::Pptx => {
            let mut parts = numbered(entries, "ppt/slides/slide");
            parts.extend(numbered(entries, "ppt/notesSlides/notesSlide"));
            parts
        }
        _ => entries.iter().filter(|e| e.name == "content.xml").collect(),
    }
}

/// Entries named `{prefix}{N}.xml`, in the order of N (slide2 before slide10).
fn numbered<'e>(entries: &'e [Entry], prefix: &str) -> Vec<&'e Entry> {
    let mut found: Vec<(u64, &Entry)> = entries
        .iter()
        .filter_map(|e| {
            let number = e.name.strip_prefix(prefix)?.strip_suffix(".xml")?;
            let n = if number.is_empty() {
                0
            } else {
                number.parse().ok()?
            };
            Some((n, e))
        })
        .collect();
    found.sort_by_key(|(n, _)| *n);
    found.into_iter().map(|(_, e)| e).collect()
}

/// Files embedded in a document (a workbook inside a deck, an attachment in a Word file).
fn is_embedded(name: &str) -> bool {
    ["word/embeddings/", "ppt/embeddings/", "xl/embeddings/"]
        .iter()
        .any(|p| name.starts_with(p) && name.len() > p.len() && !name.ends_with('/'))
}
