//! tar archives (ustar, GNU, pax, and pre-POSIX), read as a stream entry by entry: a tar.gz is
//! never held in memory whole. Regular files are walked; links, devices and directories are
//! counted as entries and skipped.

use std::io::Read;

use crate::walk::{Flow, Walker};

/// Walks the tar archive read from `src`, found at `path`.
pub(crate) fn walk(w: &mut Walker<'_>, path: &str, depth: u32, src: Box<dyn Read + '_>) -> Flow {
    let mut archive = tar::Archive::new(src);
    let entries = match archive.entries() {
        Ok(entries) => entries,
        Err(e) => return w.failed(path, &e),
    };
    let mut entered = false;
    for entry in entries {
        let mut entry = match entry {
            Ok(entry) => entry,
            Err(e) => return w.failed(path, &e),
        };
        w.count_entries(path, 1)?;
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_contiguous() || kind.is_gnu_sparse()) {
            continue;
        }
        if !entered {
            w.enter(path, depth)?;
            entered = true;
        }
        let name: String = String::from_utf8_lossy(&entry.path_bytes())
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        let size = entry.size();
        let child = format!("{path}/{}", name.trim_start_matches("./"));
        w.visit(&child, depth + 1, Box::new(&mut entry), Some(size))?;
    }
    Ok(())
}
