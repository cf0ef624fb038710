//! Decoding a PDF stream through its filters: FlateDecode (metered like every decompressor),
//! ASCIIHexDecode and ASCII85Decode. Streams under any other filter (images, fonts) are not
//! text and are skipped. A damaged Flate stream yields what decoded before the damage, as
//! viewers show it.

use std::io::{ErrorKind, Read};

use super::syntax::{is_space, name_at, skip_space, value_of};
use crate::codec::{self, Codec};
use crate::extraction::RefusalKind;
use crate::walk::{Stop, Walker};

/// A filter this extractor decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Filter {
    Flate,
    AsciiHex,
    Ascii85,
}

/// The filters of `dict` in order; `None` when one is not supported.
fn filters(dict: &[u8]) -> Option<Vec<Filter>> {
    let Some(mut at) = value_of(dict, b"Filter") else {
        return Some(Vec::new());
    };
    let array = dict.get(at) == Some(&b'[');
    if array {
        at = skip_space(dict, at + 1);
    }
    let mut out = Vec::new();
    while let Some(name) = name_at(dict, at) {
        out.push(match name {
            b"FlateDecode" | b"Fl" => Filter::Flate,
            b"ASCIIHexDecode" | b"AHx" => Filter::AsciiHex,
            b"ASCII85Decode" | b"A85" => Filter::Ascii85,
            _ => return None,
        });
        if !array || out.len() > 8 {
            break;
        }
        at = skip_space(dict, at + 1 + name.len());
    }
    Some(out)
}

/// The decoded bytes of a stream, `None` when a filter is not supported. Output is capped at
/// `Limits::max_entry_bytes` (a longer stream is cut and noted).
pub(crate) fn decode(
    w: &mut Walker<'_>,
    path: &str,
    dict: &[u8],
    data: &[u8],
) -> Result<Option<Vec<u8>>, Stop> {
    let Some(filters) = filters(dict) else {
        return Ok(None);
    };
    let mut bytes = data.to_vec();
    for filter in filters {
        bytes = match filter {
            Filter::AsciiHex => ascii_hex(&bytes),
            Filter::Ascii85 => ascii85(&bytes),
            Filter::Flate => inflate(w, path, &bytes)?,
        };
    }
    Ok(Some(bytes))
}

fn inflate(w: &mut Walker<'_>, path: &str, data: &[u8]) -> Result<Vec<u8>, Stop> {
    let cap = usize::try_from(w.limits.max_entry_bytes).unwrap_or(usize::MAX);
    let mut out = Vec::new();
    let mut reader = match codec::open(
        Codec::Deflate,
        Box::new(data),
        w.limits.max_ratio,
        &w.budget,
    ) {
        Ok(reader) => reader,
        Err(e) => {
            w.failed(path, &e)?;
            return Ok(out);
        }
    };
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => {
                if out.len() + n > cap {
                    let max = w.limits.max_entry_bytes;
                    w.note(
                        RefusalKind::TooLarge,
                        path,
                        format!("PDF stream over {max} bytes"),
                    );
                    return Ok(out);
                }
                out.extend_from_slice(&buf[..n]);
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => {
                // A damaged stream keeps what decoded; a crossed limit stops everything.
                if w.budget.tripped().is_some() {
                    w.failed(path, &e)?;
                }
                return Ok(out);
            }
        }
    }
}

fn ascii_hex(data: &[u8]) -> Vec<u8> {
    let digits: Vec<u8> = data
        .iter()
        .take_while(|&&b| b != b'>')
        .filter_map(|&b| char::from(b).to_digit(16))
        .map(|d| d as u8)
        .collect();
    digits
        .chunks(2)
        .map(|pair| pair[0] << 4 | pair.get(1).copied().unwrap_or(0))
        .collect()
}

fn ascii85(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 5 * 4 + 4);
    let mut group = [0u8; 5];
    let mut len = 0;
    for &b in data {
        match b {
            b'~' => break,
            b'z' if len == 0 => out.extend_from_slice(&[0; 4]),
            b'!'..=b'u' => {
                group[len] = b - b'!';
                len += 1;
                if len == 5 {
                    out.extend_from_slice(&base85_word(&group).to_be_bytes());
                    len = 0;
                }
            }
            _ if is_space(b) => {}
            _ => break,
        }
    }
    if len > 1 {
        for slot in group.iter_mut().skip(len) {
            *slot = b'u' - b'!';
        }
        out.extend_from_slice(&base85_word(&group).to_be_bytes()[..len - 1]);
    }
    out
}

fn base85_word(group: &[u8; 5]) -> u32 {
    group.iter().fold(0u32, |acc, &d| {
        acc.wrapping_mul(85).wrapping_add(u32::from(d))
    })
}
