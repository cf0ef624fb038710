//! Record framing: how one opaque record is laid out inside a segment file.
//!
//! ```text
//! +-------+----------------+----------------+-----------------+
//! | magic | length: u32 LE | crc32: u32 LE  | payload         |
//! | 0xA1  | payload bytes  | of the payload | `length` bytes  |
//! +-------+----------------+----------------+-----------------+
//! ```
//!
//! The magic byte doubles as the format version. Reading never trusts the length field: it is
//! checked against [`MAX_RECORD_BYTES`] before anything is allocated, and the payload is read
//! incrementally, so a lying length on a short file cannot make the reader reserve memory.

use std::io::{self, Read};

use crate::error::SkipReason;

/// First byte of every frame; also the format version (v1).
pub const MAGIC_V1: u8 = 0xA1;
/// Bytes of framing before each payload: magic, length, checksum.
pub const HEADER_LEN: usize = 9;
/// The largest payload a frame may carry. A length field above this is corruption.
pub const MAX_RECORD_BYTES: u32 = 16 * 1024 * 1024;

/// Up-front capacity for one payload; larger payloads grow as their bytes actually arrive.
const PREALLOC_LIMIT: usize = 64 * 1024;

/// Bytes a payload of `payload_len` takes on disk.
pub(crate) fn frame_len(payload_len: usize) -> u64 {
    HEADER_LEN as u64 + payload_len as u64
}

/// Appends the frame for `payload` to `out`. The caller has checked the size limit.
pub(crate) fn encode_into(out: &mut Vec<u8>, payload: &[u8]) {
    // Lossless: callers reject payloads over MAX_RECORD_BYTES (a u32) before encoding.
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    out.reserve(HEADER_LEN + payload.len());
    out.push(MAGIC_V1);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// A validated frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    pub len: u32,
    pub crc: u32,
}

/// What the next bytes of a segment turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum HeaderRead {
    /// A good header; its payload follows.
    Frame(FrameHeader),
    /// Clean end of file at a frame boundary.
    End,
    /// End of file inside the header: a torn write.
    Torn,
    /// The header is impossible.
    Corrupt(SkipReason),
}

/// What reading a payload produced.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PayloadRead {
    Complete,
    /// End of file inside the payload: a torn write.
    Torn,
    Corrupt(SkipReason),
}

/// Reads frames from a byte stream, tracking the offset of the next unread byte.
pub(crate) struct FrameReader<R> {
    inner: R,
    offset: u64,
}

impl<R: Read> FrameReader<R> {
    /// `inner` is positioned at `offset` of its segment.
    pub(crate) fn new(inner: R, offset: u64) -> Self {
        FrameReader { inner, offset }
    }

    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    pub(crate) fn read_header(&mut self) -> io::Result<HeaderRead> {
        let mut header = [0u8; HEADER_LEN];
        let got = read_full(&mut self.inner, &mut header)?;
        self.offset += got as u64;
        if got == 0 {
            return Ok(HeaderRead::End);
        }
        if header[0] != MAGIC_V1 {
            return Ok(HeaderRead::Corrupt(SkipReason::BadMagic {
                found: header[0],
                expected: MAGIC_V1,
            }));
        }
        if got < HEADER_LEN {
            return Ok(HeaderRead::Torn);
        }
        let len = u32::from_le_bytes([header[1], header[2], header[3], header[4]]);
        let crc = u32::from_le_bytes([header[5], header[6], header[7], header[8]]);
        if len > MAX_RECORD_BYTES {
            return Ok(HeaderRead::Corrupt(SkipReason::LengthTooLarge {
                len,
                max: MAX_RECORD_BYTES,
            }));
        }
        Ok(HeaderRead::Frame(FrameHeader { len, crc }))
    }

    /// Reads the payload of `header` into `buf` (cleared first) and checks it.
    pub(crate) fn read_payload(
        &mut self,
        header: FrameHeader,
        buf: &mut Vec<u8>,
    ) -> io::Result<PayloadRead> {
        buf.clear();
        let want = header.len as usize;
        buf.reserve(want.min(PREALLOC_LIMIT));
        let got = (&mut self.inner)
            .take(u64::from(header.len))
            .read_to_end(buf)?;
        self.offset += got as u64;
        if got < want {
            return Ok(PayloadRead::Torn);
        }
        let actual = crc32fast::hash(buf);
        if actual != header.crc {
            return Ok(PayloadRead::Corrupt(SkipReason::ChecksumMismatch {
                expected: header.crc,
                actual,
            }));
        }
        Ok(PayloadRead::Complete)
    }
}

/// Fills `buf` as far as the stream allows; returns how many bytes were read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn frames(payloads: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in payloads {
            encode_into(&mut out, p);
        }
        out
    }

    fn read_all(bytes: &[u8]) -> (Vec<Vec<u8>>, HeaderOrPayload) {
        let mut reader = FrameReader::new(bytes, 0);
        let mut out = Vec::new();
        loop {
            match reader.read_header().unwrap() {
                HeaderRead::Frame(h) => {
                    let mut buf = Vec::new();
                    match reader.read_payload(h, &mut buf).unwrap() {
                        PayloadRead::Complete => out.push(buf),
                        other => return (out, HeaderOrPayload::Payload(other)),
                    }
                }
                other => return (out, HeaderOrPayload::Header(other)),
            }
        }
    }

    #[derive(Debug, PartialEq, Eq)]
    enum HeaderOrPayload {
        Header(HeaderRead),
        Payload(PayloadRead),
    }

    #[test]
    fn round_trip_including_empty_record() {
        let bytes = frames(&[b"alpha", b"", b"gamma"]);
        assert_eq!(
            bytes.len() as u64,
            frame_len(5) + frame_len(0) + frame_len(5)
        );
        let (records, end) = read_all(&bytes);
        assert_eq!(records, vec![b"alpha".to_vec(), vec![], b"gamma".to_vec()]);
        assert_eq!(end, HeaderOrPayload::Header(HeaderRead::End));
    }

    #[test]
    fn torn_header_and_torn_payload() {
        let bytes = frames(&[b"alpha", b"beta"]);
        let first = frame_len(5) as usize;
        let (records, end) = read_all(&bytes[..first + 4]);
        assert_eq!(records.len(), 1);
        assert_eq!(end, HeaderOrPayload::Header(HeaderRead::Torn));
        let (records, end) = read_all(&bytes[..bytes.len() - 1]);
        assert_eq!(records.len(), 1);
        assert_eq!(end, HeaderOrPayload::Payload(PayloadRead::Torn));
    }

    #[test]
    fn flipped_payload_byte_is_a_checksum_mismatch() {
        let mut bytes = frames(&[b"alpha"]);
        bytes[HEADER_LEN + 2] ^= 0x10;
        let (records, end) = read_all(&bytes);
        assert!(records.is_empty());
        assert!(matches!(
            end,
            HeaderOrPayload::Payload(PayloadRead::Corrupt(SkipReason::ChecksumMismatch { .. }))
        ));
    }

    #[test]
    fn huge_length_is_corruption_not_an_allocation() {
        let mut bytes = frames(&[b"alpha"]);
        bytes[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
        let (_, end) = read_all(&bytes);
        assert_eq!(
            end,
            HeaderOrPayload::Header(HeaderRead::Corrupt(SkipReason::LengthTooLarge {
                len: u32::MAX,
                max: MAX_RECORD_BYTES
            }))
        );
    }

    #[test]
    fn length_under_the_limit_on_a_short_file_reserves_little() {
        let mut bytes = frames(&[b"alpha"]);
        bytes[1..5].copy_from_slice(&MAX_RECORD_BYTES.to_le_bytes());
        let mut reader = FrameReader::new(&bytes[..], 0);
        let HeaderRead::Frame(h) = reader.read_header().unwrap() else {
            panic!("expected a header");
        };
        let mut buf = Vec::new();
        assert_eq!(reader.read_payload(h, &mut buf).unwrap(), PayloadRead::Torn);
        assert!(buf.capacity() < 1024 * 1024, "capacity {}", buf.capacity());
    }

    #[test]
    fn bad_magic_is_corruption() {
        let mut bytes = frames(&[b"alpha"]);
        bytes[0] = 0x00;
        let (_, end) = read_all(&bytes);
        assert!(matches!(
            end,
            HeaderOrPayload::Header(HeaderRead::Corrupt(SkipReason::BadMagic { found: 0, .. }))
        ));
    }
}
