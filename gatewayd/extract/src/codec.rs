//! The compression codecs the gateway expands (HTTP Content-Encoding and compressed files), each
//! opened as a metered streaming reader: nothing is ever decompressed in one shot.

use std::io::{self, BufReader, Read};
use std::rc::Rc;

use flate2::read::{DeflateDecoder, MultiGzDecoder, ZlibDecoder};

use crate::meter::{read_head, Budget, Counted, Meter};
use crate::zstd::ZstdReader;

/// A compression format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Codec {
    /// gzip (RFC 1952), members concatenated.
    Gzip,
    /// HTTP `deflate`: zlib (RFC 1950) as the RFC says, raw deflate (RFC 1951) as some servers
    /// send it; told apart by the zlib header check.
    Deflate,
    /// Raw deflate, as inside zip entries.
    RawDeflate,
    /// Brotli (RFC 7932).
    Brotli,
    /// Zstandard (RFC 8878).
    Zstd,
}

impl Codec {
    /// The codec for a Content-Encoding token; `Ok(None)` for identity.
    pub(crate) fn from_token(token: &str) -> Result<Option<Self>, ()> {
        match token.trim().to_ascii_lowercase().as_str() {
            "" | "identity" => Ok(None),
            "gzip" | "x-gzip" => Ok(Some(Codec::Gzip)),
            "deflate" => Ok(Some(Codec::Deflate)),
            "br" => Ok(Some(Codec::Brotli)),
            "zstd" => Ok(Some(Codec::Zstd)),
            _ => Err(()),
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Codec::Gzip => "gzip",
            Codec::Deflate | Codec::RawDeflate => "deflate",
            Codec::Brotli => "br",
            Codec::Zstd => "zstd",
        }
    }
}

/// True when `head` starts with a valid zlib header (deflate method, checksum of the two bytes).
pub(crate) fn is_zlib(head: &[u8]) -> bool {
    match head {
        [cmf, flg, ..] => {
            cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
        }
        _ => false,
    }
}

/// Opens `src` as a `codec` stream whose output is metered against `ratio` and `budget`.
pub(crate) fn open<'a>(
    codec: Codec,
    mut src: Box<dyn Read + 'a>,
    ratio: u64,
    budget: &Rc<Budget>,
) -> io::Result<Box<dyn Read + 'a>> {
    let head = if codec == Codec::Deflate {
        read_head(&mut src, 2)?
    } else {
        Vec::new()
    };
    let zlib = is_zlib(&head);
    let (input, consumed) = Counted::new(io::Cursor::new(head).chain(src));
    let decoder: Box<dyn Read + 'a> = match codec {
        Codec::Gzip => Box::new(MultiGzDecoder::new(input)),
        Codec::Deflate if zlib => Box::new(ZlibDecoder::new(input)),
        Codec::Deflate | Codec::RawDeflate => Box::new(DeflateDecoder::new(input)),
        Codec::Brotli => Box::new(brotli_decompressor::Decompressor::new(input, 8192)),
        Codec::Zstd => Box::new(ZstdReader::new(BufReader::new(input))),
    };
    Ok(Box::new(Meter::new(
        decoder,
        consumed,
        ratio,
        Rc::clone(budget),
    )))
}
