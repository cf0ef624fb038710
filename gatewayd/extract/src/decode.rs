//! HTTP Content-Encoding decoding: `gzip`, `x-gzip`, `deflate` (zlib or raw), `br`, `zstd`,
//! `identity`, and comma-separated chains of them, decoded last-applied first as one streaming
//! pipeline. Output is capped and every layer metered, so a bomb is refused after at most the
//! limits' worth of work and memory, never after expanding in full.

use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::codec::{self, Codec};
use crate::error::ExtractError;
use crate::limits::Limits;
use crate::meter::{read_capped, Budget, Capped};

/// Decodes `body` sent with the Content-Encoding header value `encoding`.
///
/// Returns the decoded bytes, at most `limits.max_output_bytes` of them. A stream that expands
/// more than `limits.max_ratio` times what it consumed (past a 1 MiB grace) is a
/// [`ExtractError::Bomb`]; so is a chain of more encodings than `limits.max_depth`.
pub fn decode_content(
    encoding: &str,
    body: &[u8],
    limits: &Limits,
) -> Result<Vec<u8>, ExtractError> {
    // A second wall around third-party decoders, as in `extract`: a bug there becomes an
    // error the policy handles, not a lost request.
    catch_unwind(AssertUnwindSafe(|| decode_checked(encoding, body, limits))).unwrap_or_else(|_| {
        Err(ExtractError::Corrupt {
            encoding: encoding.trim().to_string(),
            detail: "internal error while decoding".to_string(),
        })
    })
}

fn decode_checked(encoding: &str, body: &[u8], limits: &Limits) -> Result<Vec<u8>, ExtractError> {
    let len = body.len() as u64;
    if len > limits.max_input_bytes {
        return Err(ExtractError::InputTooLarge {
            len,
            limit: limits.max_input_bytes,
        });
    }
    let mut codecs = Vec::new();
    for token in encoding.split(',') {
        match Codec::from_token(token) {
            Ok(Some(codec)) => codecs.push(codec),
            Ok(None) => {}
            Err(()) => return Err(ExtractError::UnknownEncoding(token.trim().to_string())),
        }
    }
    let label = codecs
        .iter()
        .map(|c| c.name())
        .collect::<Vec<_>>()
        .join(", ");
    if codecs.is_empty() {
        return if len > limits.max_output_bytes {
            Err(ExtractError::OutputTooLarge {
                limit: limits.max_output_bytes,
            })
        } else {
            Ok(body.to_vec())
        };
    }
    let depth = limits.depth().max(1) as usize;
    if codecs.len() > depth {
        return Err(ExtractError::Bomb {
            encoding: label,
            reason: format!("more than {depth} nested encodings"),
        });
    }
    let budget = Budget::new(limits.expansion_budget(len));
    let corrupt_or_bomb = |detail: String| match budget.tripped() {
        Some(trip) => ExtractError::Bomb {
            encoding: label.clone(),
            reason: trip.reason(limits.max_ratio),
        },
        None => ExtractError::Corrupt {
            encoding: label.clone(),
            detail,
        },
    };
    // Encodings are listed in the order they were applied: undo the last one first.
    let mut reader: Box<dyn Read + '_> = Box::new(body);
    for codec in codecs.iter().rev() {
        reader = codec::open(*codec, reader, limits.max_ratio, &budget)
            .map_err(|e| corrupt_or_bomb(e.to_string()))?;
    }
    match read_capped(&mut reader, limits.max_output_bytes, &[]) {
        Ok(Capped::Whole(out)) => Ok(out),
        Ok(Capped::Over) => Err(ExtractError::OutputTooLarge {
            limit: limits.max_output_bytes,
        }),
        Err(e) => Err(corrupt_or_bomb(e.to_string())),
    }
}
