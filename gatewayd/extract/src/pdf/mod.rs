//! PDF text, read without a PDF library: streams are found by scanning (no cross-reference
//! table trusted), decoded through metered filters, fonts followed to their ToUnicode CMaps, and
//! the text-showing operators of every content stream read in file order. Encrypted PDFs are
//! reported, not guessed at; embedded files (attachments) are walked as nested files.
//!
//! What it cannot do: text drawn as vector outlines or images (scans) has no characters to find,
//! and a font with neither a ToUnicode CMap nor a Latin encoding yields no readable text.

mod cmap;
mod content;
mod filters;
mod fonts;
mod objects;
mod streams;
mod syntax;

use std::collections::{HashMap, HashSet};

use crate::extraction::RefusalKind;
use crate::kind::FileKind;
use crate::walk::{Flow, Walker};
use cmap::CMap;
use objects::Objects;
use streams::{streams, RawStream};
use syntax::{find, has_name, reference, skip_space, value_of};

/// Walks the PDF `bytes` found at `path`.
pub(crate) fn walk(w: &mut Walker<'_>, path: &str, depth: u32, bytes: &[u8]) -> Flow {
    let part = w.add_part(path, FileKind::Pdf, bytes.len() as u64, depth);
    if is_encrypted(bytes) {
        w.note(
            RefusalKind::Encrypted,
            path,
            "encrypted PDF: its text cannot be read",
        );
        return Ok(());
    }
    let raw: Vec<RawStream<'_>> = streams(bytes).collect();
    let object_streams = decode_object_streams(w, path, &raw)?;
    let mut objects = Objects::default();
    objects.add_file(bytes);
    for (dict, data) in &object_streams {
        objects.add_object_stream(dict, data);
    }
    let resources = fonts::font_resources(&objects);
    let mut font_numbers: Vec<u32> = resources.iter().map(|(_, n)| *n).collect();
    font_numbers.sort_unstable();
    font_numbers.dedup();
    let to_unicode = fonts::to_unicode_refs(&objects, &font_numbers);
    let wanted: HashSet<u32> = to_unicode.values().copied().collect();
    let mut cmaps: HashMap<u32, CMap> = HashMap::new();
    for stream in &raw {
        let Some(number) = stream.object.filter(|n| wanted.contains(n)) else {
            continue;
        };
        if cmaps.contains_key(&number) {
            continue;
        }
        if let Some(data) = filters::decode(w, path, stream.dict, stream.data)? {
            cmaps.insert(number, CMap::parse(&data));
        }
    }
    let fonts = fonts::build(&resources, &to_unicode, cmaps);

    let cap = usize::try_from(w.limits.max_output_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    let mut text = String::new();
    let mut attachments = Vec::new();
    for stream in &raw {
        if has_name(stream.dict, b"Type", b"EmbeddedFile") {
            attachments.push(stream);
            continue;
        }
        if is_not_text(stream.dict) || stream.object.is_some_and(|n| wanted.contains(&n)) {
            continue;
        }
        let Some(data) = filters::decode(w, path, stream.dict, stream.data)? else {
            continue;
        };
        if content::shows_text(&data) && !cmap::is_cmap(&data) {
            content::extract(&data, &fonts, &mut text, cap);
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
        }
        if text.len() >= cap {
            break;
        }
    }
    w.add_text(part, text.trim_end_matches('\n'))?;

    for (i, stream) in attachments.into_iter().enumerate() {
        w.enter(path, depth)?;
        let child = format!("{path}/attachment-{}", i + 1);
        if let Some(data) = filters::decode(w, &child, stream.dict, stream.data)? {
            let len = data.len() as u64;
            w.visit(
                &child,
                depth + 1,
                Box::new(std::io::Cursor::new(data)),
                Some(len),
            )?;
        }
    }
    Ok(())
}

/// An object stream's dictionary and its decoded bytes.
type ObjectStream<'s> = (&'s [u8], Vec<u8>);

/// Decodes every object stream (capped in total at `Limits::max_entry_bytes`).
fn decode_object_streams<'s>(
    w: &mut Walker<'_>,
    path: &str,
    raw: &[RawStream<'s>],
) -> Result<Vec<ObjectStream<'s>>, crate::walk::Stop> {
    let cap = w.limits.max_entry_bytes;
    let mut kept = 0u64;
    let mut out = Vec::new();
    for stream in raw.iter().filter(|s| has_name(s.dict, b"Type", b"ObjStm")) {
        if kept >= cap {
            break;
        }
        if let Some(data) = filters::decode(w, path, stream.dict, stream.data)? {
            kept += data.len() as u64;
            out.push((stream.dict, data));
        }
    }
    Ok(out)
}

/// Streams that never hold page text: images, fonts, metadata, cross-reference and object
/// streams.
fn is_not_text(dict: &[u8]) -> bool {
    has_name(dict, b"Subtype", b"Image")
        || has_name(dict, b"Type", b"XRef")
        || has_name(dict, b"Type", b"ObjStm")
        || has_name(dict, b"Type", b"Metadata")
        || has_name(dict, b"Subtype", b"XML")
        || has_name(dict, b"Subtype", b"Type1C")
        || has_name(dict, b"Subtype", b"CIDFontType0C")
        || has_name(dict, b"Subtype", b"OpenType")
        || value_of(dict, b"Length1").is_some()
        || value_of(dict, b"Length2").is_some()
}

/// Whether a trailer (or cross-reference stream) names an encryption dictionary.
fn is_encrypted(pdf: &[u8]) -> bool {
    let mut from = 0;
    while let Some(at) = find(pdf, b"/Encrypt", from) {
        from = at + 8;
        let value = skip_space(pdf, at + 8);
        if pdf.get(value..value + 2) == Some(b"<<") || reference(pdf, value).is_some() {
            return true;
        }
    }
    false
}
