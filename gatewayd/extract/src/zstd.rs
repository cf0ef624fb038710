//! A zstd reader over any number of concatenated frames (skippable frames skipped), built on
//! `ruzstd`'s frame decoder. Each frame gets a fresh decoder, which never reserves its declared
//! window up front; and a frame whose window (the history a decoder must keep) is over
//! [`MAX_WINDOW`] is refused before decoding, so memory stays bounded however long the output.

use std::io::{self, BufRead, Read};

use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

/// The largest window accepted: zstd levels 1-19 use at most 8 MiB; only `--ultra`/`--long`
/// go beyond. (The reference decoder's own default limit is 128 MiB.)
pub(crate) const MAX_WINDOW: u64 = 32 << 20;

/// Decodes a zstd stream of one or more frames.
pub(crate) struct ZstdReader<R> {
    src: R,
    frame: Option<FrameDecoder>,
}

impl<R: BufRead> ZstdReader<R> {
    pub(crate) fn new(src: R) -> Self {
        Self { src, frame: None }
    }

    /// Starts the next frame; `false` at the clean end of the stream.
    fn next_frame(&mut self) -> io::Result<bool> {
        loop {
            if self.src.fill_buf()?.is_empty() {
                return Ok(false);
            }
            let header = read_header(&mut self.src)?;
            if let Some(window) = window_size(&header) {
                if window > MAX_WINDOW {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "zstd window of {window} bytes is over the {MAX_WINDOW}-byte limit"
                        ),
                    ));
                }
            }
            let mut decoder = FrameDecoder::new();
            match decoder.reset(io::Cursor::new(header)) {
                Ok(()) => {
                    self.frame = Some(decoder);
                    return Ok(true);
                }
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    length,
                    ..
                })) => {
                    let skipped =
                        io::copy(&mut (&mut self.src).take(length.into()), &mut io::sink())?;
                    if skipped < u64::from(length) {
                        return Err(corrupt("truncated skippable frame"));
                    }
                }
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            }
        }
    }
}

/// Reads one frame header (or a skippable frame's magic and length) from `src`.
fn read_header(src: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut header = vec![0u8; 5];
    src.read_exact(&mut header[..4])?;
    let magic = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
    if magic & 0xffff_fff0 == 0x184d_2a50 {
        header.truncate(4);
        header.extend_from_slice(&read_n::<4>(src)?);
        return Ok(header);
    }
    if magic != 0xfd2f_b528 {
        header.truncate(4);
        return Ok(header);
    }
    src.read_exact(&mut header[4..5])?;
    let descriptor = header[4];
    let single_segment = descriptor & 0x20 != 0;
    let dict_len = [0, 1, 2, 4][usize::from(descriptor & 3)];
    let size_len = match descriptor >> 6 {
        0 => usize::from(single_segment),
        1 => 2,
        2 => 4,
        _ => 8,
    };
    let rest = usize::from(!single_segment) + dict_len + size_len;
    let start = header.len();
    header.resize(start + rest, 0);
    src.read_exact(&mut header[start..])?;
    Ok(header)
}

fn read_n<const N: usize>(src: &mut impl Read) -> io::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    src.read_exact(&mut bytes)?;
    Ok(bytes)
}

/// The window size a zstd frame header declares (its content size for single-segment frames).
fn window_size(header: &[u8]) -> Option<u64> {
    let descriptor = *header.get(4)?;
    if descriptor & 0x20 == 0 {
        let window = *header.get(5)?;
        let base = 1u64 << (10 + u32::from(window >> 3));
        return Some(base + base / 8 * u64::from(window & 7));
    }
    let dict_len = [0, 1, 2, 4][usize::from(descriptor & 3)];
    let size = header.get(5 + dict_len..)?;
    Some(match size.len() {
        1 => u64::from(size[0]),
        2 => u64::from(u16::from_le_bytes([size[0], size[1]])) + 256,
        4 => u64::from(u32::from_le_bytes([size[0], size[1], size[2], size[3]])),
        8 => u64::from_le_bytes(size.try_into().ok()?),
        _ => return None,
    })
}

fn corrupt(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

impl<R: BufRead> Read for ZstdReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let Some(decoder) = self.frame.as_mut() else {
                if !self.next_frame()? {
                    return Ok(0);
                }
                continue;
            };
            while decoder.can_collect() < buf.len() && !decoder.is_finished() {
                let before = (decoder.bytes_read_from_source(), decoder.can_collect());
                let want = buf.len() - decoder.can_collect();
                decoder
                    .decode_blocks(&mut self.src, BlockDecodingStrategy::UptoBytes(want))
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                if (decoder.bytes_read_from_source(), decoder.can_collect()) == before
                    && !decoder.is_finished()
                {
                    return Err(corrupt("zstd frame makes no progress"));
                }
            }
            let n = decoder.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
            if decoder.is_finished() {
                self.frame = None;
                continue;
            }
            return Err(corrupt("zstd frame ended early"));
        }
    }
}
