//! The walk over a file and everything nested in it. One [`Walker`] per extraction holds the
//! shared limits state (expansion budget, entry count, text so far, the refusal); each file is
//! sniffed from its first bytes and handed to the reader for its kind, which comes back here
//! for the files it contains.
//!
//! Architecture invariant: every byte that comes out of a decompressor passes through a meter
//! charged to this walker's budget, and every file read into memory is capped at
//! `Limits::max_entry_bytes`; a limit crossed stops the walk (a [`Stop`]) at once.

use std::io::{self, Cursor, Read};
use std::rc::Rc;

use crate::codec::{self, Codec};
use crate::extraction::{Extraction, Part, Refusal, RefusalKind};
use crate::kind::{sniff, FileKind, SNIFF_BYTES};
use crate::limits::Limits;
use crate::meter::{read_capped, read_head, Budget, Capped, Counted};
use crate::{pdf, tar, text, zip};

/// The walk was stopped by a limit; the refusal is already recorded.
#[derive(Debug)]
pub(crate) struct Stop;

/// Go on, or stop the whole walk.
pub(crate) type Flow = Result<(), Stop>;

/// The state of one extraction.
pub(crate) struct Walker<'l> {
    pub(crate) limits: &'l Limits,
    pub(crate) budget: Rc<Budget>,
    content_type: Option<&'l str>,
    entries: u64,
    /// Whether the recorded refusal ended the walk.
    fatal: bool,
    out: Extraction,
}

impl<'l> Walker<'l> {
    pub(crate) fn new(limits: &'l Limits, input_len: u64, content_type: Option<&'l str>) -> Self {
        Self {
            limits,
            budget: Budget::new(limits.expansion_budget(input_len)),
            content_type,
            entries: 0,
            fatal: false,
            out: Extraction::default(),
        }
    }

    pub(crate) fn finish(self) -> Extraction {
        self.out
    }

    /// Records why something was not inspected. A refusal that stops the walk replaces one
    /// that did not; otherwise the first one stays.
    pub(crate) fn note(&mut self, kind: RefusalKind, path: &str, reason: impl Into<String>) {
        self.record(kind, path, reason.into(), false);
    }

    fn record(&mut self, kind: RefusalKind, path: &str, reason: String, fatal: bool) {
        let replace = self.out.refused.is_none() || (fatal && !self.fatal);
        self.fatal |= fatal;
        if replace {
            self.out.refused = Some(Refusal {
                kind,
                path: path.to_string(),
                reason,
            });
        }
    }

    /// Records a refusal that ends the walk.
    pub(crate) fn stop(
        &mut self,
        kind: RefusalKind,
        path: &str,
        reason: impl Into<String>,
    ) -> Stop {
        self.record(kind, path, reason.into(), true);
        Stop
    }

    /// Counts `n` archive entries against `Limits::max_entries`.
    pub(crate) fn count_entries(&mut self, path: &str, n: u64) -> Flow {
        self.entries = self.entries.saturating_add(n);
        if self.entries > self.limits.max_entries {
            let max = self.limits.max_entries;
            return Err(self.stop(
                RefusalKind::TooManyEntries,
                path,
                format!("more than {max} archive entries"),
            ));
        }
        Ok(())
    }

    /// Entries the limit still allows.
    pub(crate) fn entries_left(&self) -> u64 {
        self.limits.max_entries.saturating_sub(self.entries)
    }

    /// Checks that the files inside a container at `depth` may be opened.
    pub(crate) fn enter(&mut self, path: &str, depth: u32) -> Flow {
        let max = self.limits.depth();
        if depth >= max {
            return Err(self.stop(
                RefusalKind::TooDeep,
                path,
                format!("archives nested more than {max} deep"),
            ));
        }
        Ok(())
    }

    pub(crate) fn add_part(&mut self, path: &str, kind: FileKind, bytes: u64, depth: u32) -> usize {
        self.out.parts.push(Part {
            path: path.to_string(),
            kind,
            bytes,
            text_bytes: 0,
            text_start: self.out.text.len(),
            depth,
        });
        self.out.parts.len() - 1
    }

    pub(crate) fn set_kind(&mut self, part: usize, kind: FileKind) {
        if let Some(p) = self.out.parts.get_mut(part) {
            p.kind = kind;
        }
    }

    /// Appends `text` as the text of part `part`, cut (and the walk stopped) at the output
    /// limit.
    pub(crate) fn add_text(&mut self, part: usize, text: &str) -> Flow {
        if text.is_empty() {
            return Ok(());
        }
        let max = usize::try_from(self.limits.max_output_bytes).unwrap_or(usize::MAX);
        let room = max.saturating_sub(self.out.text.len());
        let start = self.out.text.len();
        let whole = text.len() < room;
        if whole {
            self.out.text.push_str(text);
            self.out.text.push('\n');
        } else {
            let mut cut = room;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            self.out.text.push_str(&text[..cut]);
        }
        let path = match self.out.parts.get_mut(part) {
            Some(p) => {
                p.text_start = start;
                p.text_bytes = (self.out.text.len() - start) as u64;
                p.path.clone()
            }
            None => String::new(),
        };
        if whole {
            Ok(())
        } else {
            Err(self.stop(
                RefusalKind::TooLarge,
                &path,
                format!("text over the {max}-byte limit"),
            ))
        }
    }

    /// A read of `path` failed: past a limit that is a bomb and stops the walk; otherwise the
    /// content is corrupt, noted, and the walk goes on.
    pub(crate) fn failed(&mut self, path: &str, err: &io::Error) -> Flow {
        match self.budget.tripped() {
            Some(trip) => {
                let reason = trip.reason(self.limits.max_ratio);
                Err(self.stop(RefusalKind::Bomb, path, reason))
            }
            None => {
                self.note(RefusalKind::Corrupt, path, err.to_string());
                Ok(())
            }
        }
    }

    /// Reads a whole file into memory, capped at `Limits::max_entry_bytes`: `None` when it was
    /// too large or unreadable (noted).
    pub(crate) fn read_whole(
        &mut self,
        path: &str,
        src: &mut dyn Read,
        prefix: &[u8],
    ) -> Result<Option<Vec<u8>>, Stop> {
        match read_capped(src, self.limits.max_entry_bytes, prefix) {
            Ok(Capped::Whole(bytes)) => Ok(Some(bytes)),
            Ok(Capped::Over) => {
                let max = self.limits.max_entry_bytes;
                self.note(
                    RefusalKind::TooLarge,
                    path,
                    format!("file over {max} bytes"),
                );
                Ok(None)
            }
            Err(e) => self.failed(path, &e).map(|()| None),
        }
    }

    /// Inspects one file, `depth` archives deep, read from `src`. `declared` is the size its
    /// archive claims, used only for reporting.
    pub(crate) fn visit(
        &mut self,
        path: &str,
        depth: u32,
        src: Box<dyn Read + '_>,
        declared: Option<u64>,
    ) -> Flow {
        let (mut src, count) = Counted::new(src);
        let head = match read_head(&mut src, SNIFF_BYTES) {
            Ok(head) => head,
            Err(e) => {
                self.add_part(path, FileKind::Binary, declared.unwrap_or(0), depth);
                return self.failed(path, &e);
            }
        };
        let kind = sniff(&head);
        match kind {
            FileKind::Gzip | FileKind::Zstd | FileKind::Tar => {
                let part = self.add_part(path, kind, 0, depth);
                let rest: Box<dyn Read + '_> = Box::new(Cursor::new(head).chain(src));
                let flow = if kind == FileKind::Tar {
                    tar::walk(self, path, depth, rest)
                } else {
                    self.decompress(path, depth, kind, rest)
                };
                if let Some(p) = self.out.parts.get_mut(part) {
                    p.bytes = declared.unwrap_or(count.get());
                }
                flow
            }
            FileKind::Zip | FileKind::Pdf | FileKind::Text => {
                let Some(bytes) = self.read_whole(path, &mut src, &head)? else {
                    self.add_part(path, kind, declared.unwrap_or(count.get()), depth);
                    return Ok(());
                };
                match kind {
                    FileKind::Zip => zip::walk(self, path, depth, &bytes),
                    FileKind::Pdf => pdf::walk(self, path, depth, &bytes),
                    _ => self.text_file(path, depth, &bytes),
                }
            }
            other => {
                // Not text, but read to its end all the same (into nothing): the meters see
                // every decompressed byte, so a bomb of zeros is caught even though zeros are
                // "binary", and the size reported is the real one.
                let part = self.add_part(path, other, declared.unwrap_or(0), depth);
                let flow = match io::copy(&mut src, &mut io::sink()) {
                    Ok(_) => Ok(()),
                    Err(e) => self.failed(path, &e),
                };
                if let Some(p) = self.out.parts.get_mut(part) {
                    p.bytes = count.get();
                }
                flow
            }
        }
    }

    fn text_file(&mut self, path: &str, depth: u32, bytes: &[u8]) -> Flow {
        let Some(decoded) = text::decode(bytes) else {
            self.add_part(path, FileKind::Binary, bytes.len() as u64, depth);
            return Ok(());
        };
        let name = path.rsplit('/').next();
        let content_type = if depth == 0 { self.content_type } else { None };
        let kind = text::classify(&decoded, name, content_type);
        let part = self.add_part(path, kind, bytes.len() as u64, depth);
        self.add_text(part, &decoded)
    }

    fn decompress(
        &mut self,
        path: &str,
        depth: u32,
        kind: FileKind,
        src: Box<dyn Read + '_>,
    ) -> Flow {
        self.enter(path, depth)?;
        let codec = if kind == FileKind::Zstd {
            Codec::Zstd
        } else {
            Codec::Gzip
        };
        match codec::open(codec, src, self.limits.max_ratio, &self.budget) {
            Ok(inner) => {
                let child = format!("{path}/{}", decompressed_name(path));
                self.visit(&child, depth + 1, inner, None)
            }
            Err(e) => self.failed(path, &e),
        }
    }
}

/// The name of what a compressed file holds: `logs.tar.gz` holds `logs.tar`.
fn decompressed_name(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    let lower = name.to_ascii_lowercase();
    for (suffix, replacement) in [
        (".tgz", ".tar"),
        (".tzst", ".tar"),
        (".gz", ""),
        (".gzip", ""),
        (".zst", ""),
        (".zstd", ""),
    ] {
        if lower.ends_with(suffix) && name.len() > suffix.len() {
            return format!("{}{replacement}", &name[..name.len() - suffix.len()]);
        }
    }
    "content".to_string()
}
