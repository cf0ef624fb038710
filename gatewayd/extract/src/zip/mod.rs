//! Zip archives: the central directory is read and checked first (entry count, bounds,
//! overlap), then each entry is opened as a metered stream and walked like any file. Office
//! documents (docx, xlsx, pptx, OpenDocument) are zips too: they are recognised by their part
//! names and handed to [`crate::office`] instead.

mod directory;

use std::io::Read;

pub(crate) use directory::Entry;

use crate::codec::{self, Codec};
use crate::extraction::RefusalKind;
use crate::kind::FileKind;
use crate::office;
use crate::walk::{Flow, Stop, Walker};
use directory::DirError;

/// Walks the zip archive `bytes` found at `path`.
pub(crate) fn walk(w: &mut Walker<'_>, path: &str, depth: u32, bytes: &[u8]) -> Flow {
    let part = w.add_part(path, FileKind::Zip, bytes.len() as u64, depth);
    let entries = match directory::read(bytes, w.entries_left()) {
        Ok(entries) => entries,
        Err(DirError::TooMany(n)) => {
            let max = w.limits.max_entries;
            return Err(w.stop(
                RefusalKind::TooManyEntries,
                path,
                format!("zip declares {n} entries, more than the {max} allowed"),
            ));
        }
        Err(DirError::Overlap) => {
            return Err(w.stop(RefusalKind::Bomb, path, "zip entries overlap (a zip bomb)"));
        }
        Err(DirError::Corrupt(why)) => {
            w.note(RefusalKind::Corrupt, path, format!("corrupt zip: {why}"));
            return Ok(());
        }
    };
    w.count_entries(path, entries.len() as u64)?;
    if let Some(kind) = office::kind_of(&entries) {
        w.set_kind(part, kind);
        return office::walk(w, part, kind, path, depth, bytes, &entries);
    }
    let mut entered = false;
    for entry in entries.iter().filter(|e| !e.is_dir()) {
        if !entered {
            w.enter(path, depth)?;
            entered = true;
        }
        let child = format!("{path}/{}", entry.name);
        visit_entry(w, &child, depth + 1, bytes, entry)?;
    }
    Ok(())
}

/// Walks one entry of the zip `bytes` as the file `path`.
pub(crate) fn visit_entry(
    w: &mut Walker<'_>,
    path: &str,
    depth: u32,
    bytes: &[u8],
    entry: &Entry,
) -> Flow {
    match open_entry(w, bytes, entry) {
        Ok(reader) => w.visit(path, depth, reader, Some(entry.size)),
        Err((kind, reason)) => {
            w.add_part(path, FileKind::Binary, entry.size, depth);
            w.note(kind, path, reason);
            Ok(())
        }
    }
}

/// Reads one entry whole (capped at `Limits::max_entry_bytes`): `None` when it could not be
/// read (noted).
pub(crate) fn read_entry(
    w: &mut Walker<'_>,
    path: &str,
    bytes: &[u8],
    entry: &Entry,
) -> Result<Option<Vec<u8>>, Stop> {
    match open_entry(w, bytes, entry) {
        Ok(mut reader) => w.read_whole(path, &mut reader, &[]),
        Err((kind, reason)) => {
            w.note(kind, path, reason);
            Ok(None)
        }
    }
}

fn open_entry<'a>(
    w: &Walker<'_>,
    bytes: &'a [u8],
    entry: &Entry,
) -> Result<Box<dyn Read + 'a>, (RefusalKind, String)> {
    if entry.is_encrypted() {
        return Err((
            RefusalKind::Encrypted,
            "password-protected zip entry".into(),
        ));
    }
    let data = entry
        .data
        .clone()
        .and_then(|range| bytes.get(range))
        .ok_or((
            RefusalKind::Corrupt,
            "zip entry data out of bounds".to_string(),
        ))?;
    let codec = match entry.method {
        0 => return Ok(Box::new(data)),
        8 => Codec::RawDeflate,
        93 => Codec::Zstd,
        m => {
            return Err((
                RefusalKind::Unsupported,
                format!("zip compression method {m} is not supported"),
            ))
        }
    };
    codec::open(codec, Box::new(data), w.limits.max_ratio, &w.budget)
        .map_err(|e| (RefusalKind::Corrupt, e.to_string()))
}
