//! A zstd reader over any number of concatenated frames (skippable frames skipped), built on
//! `ruzstd`'s frame decoder. Each frame gets a fresh decoder, which never reserves its declared
//! window up front: memory grows only with output, and the caller's meter caps that.

use std::io::{self, BufRead, Read};

use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

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
            let mut decoder = FrameDecoder::new();
            match decoder.reset(&mut self.src) {
                Ok(()) => {
                    self.frame = Some(decoder);
                    return Ok(true);
                }
                Err(FrameDecoderError::ReadFrameHeaderError(
                    ReadFrameHeaderError::SkipFrame { length, .. },
                )) => {
                    let skipped = io::copy(&mut (&mut self.src).take(length.into()), &mut io::sink())?;
                    if skipped < u64::from(length) {
                        return Err(corrupt("truncated skippable frame"));
                    }
                }
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            }
        }
    }
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
