//! What a file is, told from its first bytes (magic numbers), never from its name: a `.txt`
//! that is really a zip is opened as a zip. Text subtypes (CSV, JSON, code) are told later,
//! from the decoded text, by [`crate::text`].

use std::fmt;

/// How many leading bytes [`sniff`] wants (a tar header's magic sits at offset 257).
pub(crate) const SNIFF_BYTES: usize = 4096;

/// The type of one file or body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FileKind {
    /// Prose or any other UTF-8 (or UTF-16 / Latin-1) text.
    Text,
    /// Comma-, tab- or semicolon-separated values.
    Csv,
    /// JSON or JSON lines.
    Json,
    /// Source code in a common language.
    Code,
    /// XML or HTML.
    Markup,
    /// PDF document.
    Pdf,
    /// Word document (Office Open XML).
    Docx,
    /// Excel workbook (Office Open XML).
    Xlsx,
    /// PowerPoint deck (Office Open XML).
    Pptx,
    /// OpenDocument text, spreadsheet or presentation.
    OpenDocument,
    /// Zip archive.
    Zip,
    /// gzip stream.
    Gzip,
    /// Zstandard stream.
    Zstd,
    /// tar archive.
    Tar,
    /// bzip2 stream (reported, not opened).
    Bzip2,
    /// xz stream (reported, not opened).
    Xz,
    /// 7-Zip archive (reported, not opened).
    SevenZip,
    /// RAR archive (reported, not opened).
    Rar,
    /// Legacy Office (OLE compound file: .doc, .xls, .ppt, .msg).
    OleDocument,
    /// Image (PNG, JPEG, GIF, WebP, BMP, TIFF, ICO).
    Image,
    /// Audio (MP3, FLAC, Ogg, WAV).
    Audio,
    /// Video (MP4, QuickTime, Matroska/WebM, AVI).
    Video,
    /// Executable or library (ELF, PE, Mach-O, WebAssembly).
    Executable,
    /// SQLite database.
    Sqlite,
    /// Any other binary.
    Binary,
}

impl FileKind {
    /// A stable lower-case name for events and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Text => "text",
            FileKind::Csv => "csv",
            FileKind::Json => "json",
            FileKind::Code => "code",
            FileKind::Markup => "markup",
            FileKind::Pdf => "pdf",
            FileKind::Docx => "docx",
            FileKind::Xlsx => "xlsx",
            FileKind::Pptx => "pptx",
            FileKind::OpenDocument => "opendocument",
            FileKind::Zip => "zip",
            FileKind::Gzip => "gzip",
            FileKind::Zstd => "zstd",
            FileKind::Tar => "tar",
            FileKind::Bzip2 => "bzip2",
            FileKind::Xz => "xz",
            FileKind::SevenZip => "7z",
            FileKind::Rar => "rar",
            FileKind::OleDocument => "ole",
            FileKind::Image => "image",
            FileKind::Audio => "audio",
            FileKind::Video => "video",
            FileKind::Executable => "executable",
            FileKind::Sqlite => "sqlite",
            FileKind::Binary => "binary",
        }
    }

    /// Whether the gateway reads text out of this kind (directly or from what it contains).
    pub fn is_inspected(self) -> bool {
        !matches!(
            self,
            FileKind::Bzip2
                | FileKind::Xz
                | FileKind::SevenZip
                | FileKind::Rar
                | FileKind::OleDocument
                | FileKind::Image
                | FileKind::Audio
                | FileKind::Video
                | FileKind::Executable
                | FileKind::Sqlite
                | FileKind::Binary
        )
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of a file from its first bytes. `Text` means "no magic and looks like text": the
/// caller decodes it and tells the subtype; `Binary` means unknown binary.
pub(crate) fn sniff(head: &[u8]) -> FileKind {
    const MAGIC: &[(usize, &[u8], FileKind)] = &[
        (0, b"PK\x03\x04", FileKind::Zip),
        (0, b"PK\x05\x06", FileKind::Zip),
        (0, b"PK\x07\x08", FileKind::Zip),
        (0, b"\x1f\x8b", FileKind::Gzip),
        (0, b"\x28\xb5\x2f\xfd", FileKind::Zstd),
        (257, b"ustar", FileKind::Tar),
        (0, b"BZh", FileKind::Bzip2),
        (0, b"\xfd7zXZ\x00", FileKind::Xz),
        (0, b"7z\xbc\xaf\x27\x1c", FileKind::SevenZip),
        (0, b"Rar!\x1a\x07", FileKind::Rar),
        (
            0,
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
            FileKind::OleDocument,
        ),
        (0, b"\x89PNG\r\n\x1a\n", FileKind::Image),
        (0, b"\xff\xd8\xff", FileKind::Image),
        (0, b"GIF87a", FileKind::Image),
        (0, b"GIF89a", FileKind::Image),
        (0, b"II*\x00", FileKind::Image),
        (0, b"MM\x00*", FileKind::Image),
        (0, b"\x00\x00\x01\x00", FileKind::Image),
        (0, b"ID3", FileKind::Audio),
        (0, b"fLaC", FileKind::Audio),
        (0, b"OggS", FileKind::Audio),
        (4, b"ftyp", FileKind::Video),
        (0, b"\x1a\x45\xdf\xa3", FileKind::Video),
        (0, b"\x7fELF", FileKind::Executable),
        (0, b"\xcf\xfa\xed\xfe", FileKind::Executable),
        (0, b"\xce\xfa\xed\xfe", FileKind::Executable),
        (0, b"\xca\xfe\xba\xbe", FileKind::Executable),
        (0, b"\x00asm", FileKind::Executable),
        (0, b"SQLite format 3\x00", FileKind::Sqlite),
    ];
    for (offset, magic, kind) in MAGIC {
        if head.get(*offset..offset + magic.len()) == Some(*magic) {
            return *kind;
        }
    }
    if head.starts_with(b"RIFF") {
        return match head.get(8..12) {
            Some(b"WEBP") => FileKind::Image,
            Some(b"WAVE") => FileKind::Audio,
            Some(b"AVI ") => FileKind::Video,
            _ => FileKind::Binary,
        };
    }
    if head.starts_with(b"MZ") && head.len() >= 64 {
        return FileKind::Executable;
    }
    if head.starts_with(b"BM") && head.len() >= 26 && head.get(6..10) == Some(&[0, 0, 0, 0]) {
        return FileKind::Image;
    }
    if memchr_slice(&head[..head.len().min(1024)], b"%PDF-") {
        return FileKind::Pdf;
    }
    if is_old_tar(head) {
        return FileKind::Tar;
    }
    if crate::text::looks_like_text(head) {
        FileKind::Text
    } else {
        FileKind::Binary
    }
}

fn memchr_slice(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A pre-POSIX tar header: no magic, but its checksum field must match its bytes.
fn is_old_tar(head: &[u8]) -> bool {
    let Some(header) = head.get(..512) else {
        return false;
    };
    let field = &header[148..156];
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|b| *b == b' ')
        .take_while(|b| (b'0'..=b'7').contains(b))
        .collect();
    if digits.is_empty() || header[0] == 0 {
        return false;
    }
    let Ok(text) = std::str::from_utf8(&digits) else {
        return false;
    };
    let Ok(stored) = u32::from_str_radix(text, 8) else {
        return false;
    };
    let sum: u32 = header
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(*b)
            }
        })
        .sum();
    stored == sum
}
