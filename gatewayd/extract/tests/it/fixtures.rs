//! Fixture builders: every file the tests read is made here, from code, with the same crates a
//! real producer would use (zip, flate2, tar, brotli, ruzstd) or by hand where the test needs a
//! file no honest tool writes (bombs, overlapping entries, hand-written PDFs).

use std::io::{Cursor, Write};

use flate2::write::{GzEncoder, ZlibEncoder};
use flate2::{Compress, Compression, FlushCompress};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// A zip of `(name, bytes)` entries, deflated.
pub fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    zip_with(entries, CompressionMethod::Deflated)
}

/// A zip of `(name, bytes)` entries with one compression method.
pub fn zip_with(entries: &[(&str, &[u8])], method: CompressionMethod) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(method);
    for (name, bytes) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

const CONTENT_TYPES: &[u8] = br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>"#;

/// A Word document whose body has one paragraph per item of `paragraphs`.
pub fn docx(paragraphs: &[&str]) -> Vec<u8> {
    let body: String = paragraphs
        .iter()
        .map(|p| format!(r#"<w:p><w:r><w:t xml:space="preserve">{p}</w:t></w:r></w:p>"#))
        .collect();
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
  <w:body>
    {body}
  </w:body>
</w:document>"#
    );
    zip(&[
        ("[Content_Types].xml", CONTENT_TYPES),
        ("word/document.xml", document.as_bytes()),
    ])
}

/// An Excel workbook with one sheet: rows of cells, text cells through the shared strings.
pub fn xlsx(rows: &[&[&str]]) -> Vec<u8> {
    let mut shared = Vec::new();
    let mut sheet = String::new();
    for (r, row) in rows.iter().enumerate() {
        sheet.push_str(&format!(r#"<row r="{}">"#, r + 1));
        for cell in row.iter() {
            if cell.parse::<f64>().is_ok() {
                sheet.push_str(&format!("<c><v>{cell}</v></c>"));
            } else {
                sheet.push_str(&format!(r#"<c t="s"><v>{}</v></c>"#, shared.len()));
                shared.push(format!("<si><t>{cell}</t></si>"));
            }
        }
        sheet.push_str("</row>");
    }
    let shared_xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{0}" uniqueCount="{0}">{1}</sst>"#,
        shared.len(),
        shared.concat()
    );
    let sheet_xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{sheet}</sheetData></worksheet>"#
    );
    zip(&[
        ("[Content_Types].xml", CONTENT_TYPES),
        ("xl/workbook.xml", b"<workbook/>"),
        ("xl/sharedStrings.xml", shared_xml.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet_xml.as_bytes()),
    ])
}

/// A PowerPoint deck with one slide per item, numbered as PowerPoint does.
pub fn pptx(slides: &[&str]) -> Vec<u8> {
    let xml: Vec<(String, String)> = slides
        .iter()
        .enumerate()
        .map(|(i, text)| {
            (
                format!("ppt/slides/slide{}.xml", i + 1),
                format!(
                    r#"<p:sld xmlns:a="a" xmlns:p="p"><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>{text}</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>"#
                ),
            )
        })
        .collect();
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", CONTENT_TYPES),
        ("ppt/presentation.xml", b"<p:presentation/>"),
    ];
    // Stored in reverse so that the reader must order slides itself.
    for (name, body) in xml.iter().rev() {
        entries.push((name, body.as_bytes()));
    }
    zip(&entries)
}

/// gzip of `bytes`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// zlib (RFC 1950) of `bytes`: HTTP `deflate` done right.
pub fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Raw deflate (RFC 1951) of `bytes`: HTTP `deflate` as some servers send it.
pub fn raw_deflate(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Brotli of `bytes`.
pub fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        writer.write_all(bytes).unwrap();
    }
    out
}

/// Zstandard of `bytes`.
pub fn zstd(bytes: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(bytes, ruzstd::encoding::CompressionLevel::Fastest)
}

/// A tar of `(name, bytes)` regular files.
pub fn tar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = ::tar::Builder::new(Vec::new());
    for (name, bytes) in entries {
        let mut header = ::tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, *bytes).unwrap();
    }
    builder.into_inner().unwrap()
}

/// A raw deflate stream that expands to `mib` MiB of zeros, made without ever holding them: a
/// 1 MiB block ending in a full flush (byte-aligned, self-contained) repeated, then a final
/// empty block. 1 GiB of zeros costs about 1 MB.
pub fn zeros_deflate(mib: usize) -> Vec<u8> {
    let zeros = vec![0u8; 1 << 20];
    let mut compress = Compress::new(Compression::best(), false);
    let mut chunk = Vec::with_capacity(8 << 10);
    compress
        .compress_vec(&zeros, &mut chunk, FlushCompress::Full)
        .unwrap();
    assert_eq!(
        compress.total_in(),
        1 << 20,
        "one call compresses the whole MiB"
    );
    let mut tail = Vec::with_capacity(64);
    compress
        .compress_vec(&[], &mut tail, FlushCompress::Finish)
        .unwrap();
    let mut stream = Vec::with_capacity(chunk.len() * mib + tail.len());
    for _ in 0..mib {
        stream.extend_from_slice(&chunk);
    }
    stream.extend_from_slice(&tail);
    stream
}

/// A gzip member around a raw deflate stream (CRC and size left zero: a bomb never gets there).
pub fn gzip_raw(deflate: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.extend_from_slice(deflate);
    out.extend_from_slice(&[0; 8]);
    out
}

/// One entry of a hand-made zip.
pub struct RawEntry<'a> {
    pub name: &'a str,
    pub method: u16,
    pub flags: u16,
    pub data: &'a [u8],
    pub size: u32,
}

/// A zip written field by field, so tests can make archives no library would: pre-compressed
/// bombs, encrypted flags, entries sharing one local header.
pub fn raw_zip(entries: &[RawEntry<'_>], share_first_header: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    let mut first_offset = None;
    for entry in entries {
        let offset = match (share_first_header, first_offset) {
            (true, Some(offset)) => offset,
            _ => {
                let offset = out.len() as u32;
                out.extend_from_slice(b"PK\x03\x04");
                out.extend_from_slice(&20u16.to_le_bytes());
                out.extend_from_slice(&entry.flags.to_le_bytes());
                out.extend_from_slice(&entry.method.to_le_bytes());
                out.extend_from_slice(&[0; 8]); // time, date, crc
                out.extend_from_slice(&(entry.data.len() as u32).to_le_bytes());
                out.extend_from_slice(&entry.size.to_le_bytes());
                out.extend_from_slice(&(entry.name.len() as u16).to_le_bytes());
                out.extend_from_slice(&0u16.to_le_bytes());
                out.extend_from_slice(entry.name.as_bytes());
                out.extend_from_slice(entry.data);
                first_offset.get_or_insert(offset);
                offset
            }
        };
        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&entry.flags.to_le_bytes());
        central.extend_from_slice(&entry.method.to_le_bytes());
        central.extend_from_slice(&[0; 8]);
        central.extend_from_slice(&(entry.data.len() as u32).to_le_bytes());
        central.extend_from_slice(&entry.size.to_le_bytes());
        central.extend_from_slice(&(entry.name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 8]); // extra, comment, disk, internal attrs
        central.extend_from_slice(&[0; 4]); // external attrs
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(entry.name.as_bytes());
    }
    let central_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// A PDF with the given content streams (each `(dict extras, data)`) on one page, fonts `F1`
/// (WinAnsi Helvetica) and, when `cmap` is given, `F2` (Identity-H with that ToUnicode CMap).
/// Written by hand with a correct cross-reference table.
pub fn pdf(contents: &[(&str, Vec<u8>)], cmap: Option<&str>) -> Vec<u8> {
    let mut objects: Vec<Vec<u8>> = Vec::new();
    let content_refs: Vec<String> = (0..contents.len())
        .map(|i| format!("{} 0 R", 6 + i))
        .collect();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    objects.push(b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec());
    objects.push(
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents [{}] >>",
            content_refs.join(" ")
        )
        .into_bytes(),
    );
    objects.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );
    let cmap_number = 6 + contents.len();
    objects.push(
        format!(
            "<< /Type /Font /Subtype /Type0 /BaseFont /Subset /Encoding /Identity-H /ToUnicode {cmap_number} 0 R >>"
        )
        .into_bytes(),
    );
    for (extra, data) in contents {
        let mut object = format!("<< /Length {} {extra} >>\nstream\n", data.len()).into_bytes();
        object.extend_from_slice(data);
        object.extend_from_slice(b"\nendstream");
        objects.push(object);
    }
    let cmap = cmap.unwrap_or("");
    let mut object = format!("<< /Length {} >>\nstream\n", cmap.len()).into_bytes();
    object.extend_from_slice(cmap.as_bytes());
    object.extend_from_slice(b"\nendstream");
    objects.push(object);

    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(object);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// ASCII85 (Adobe) encoding of `bytes`, ending in `~>`.
pub fn ascii85(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let mut word = [0u8; 4];
        word[..chunk.len()].copy_from_slice(chunk);
        let mut n = u32::from_be_bytes(word);
        if chunk.len() == 4 && n == 0 {
            out.push(b'z');
            continue;
        }
        let mut digits = [0u8; 5];
        for d in digits.iter_mut().rev() {
            *d = (n % 85) as u8 + b'!';
            n /= 85;
        }
        out.extend_from_slice(&digits[..chunk.len() + 1]);
    }
    out.extend_from_slice(b"~>");
    out
}

/// A small deterministic generator (xorshift64*), so fuzz loops repeat exactly.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// The AWS documentation's example access key id, as a person would paste it.
pub const AWS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
