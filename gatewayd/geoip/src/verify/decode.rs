//! One MaxMind DB value header, read with every length checked against the section.
//!
//! Mirrors how `maxminddb` 0.26 reads control bytes, sizes and pointers, but rejects
//! anything that reader would index out of bounds on, overflow on or misread. It reads
//! one header at a time and never recurses; `walk` builds on it.

use std::ops::Range;

use crate::error::{DecodeError, DecodeFault};

pub(crate) const T_POINTER: u8 = 1;
pub(crate) const T_STRING: u8 = 2;
const T_DOUBLE: u8 = 3;
const T_BYTES: u8 = 4;
pub(crate) const T_U16: u8 = 5;
pub(crate) const T_U32: u8 = 6;
const T_MAP: u8 = 7;
const T_I32: u8 = 8;
pub(crate) const T_U64: u8 = 9;
pub(crate) const T_U128: u8 = 10;
const T_ARRAY: u8 = 11;
const T_BOOL: u8 = 14;
const T_FLOAT: u8 = 15;

/// The value that starts at some offset, as far as its header tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    /// A pointer to this offset of the same section.
    Pointer(usize),
    /// A value with no children; its payload lies within the section.
    Scalar { ty: u8, payload: Range<usize> },
    /// A map of this many key/value pairs; they follow the header.
    Map(usize),
    /// An array of this many values; they follow the header.
    Array(usize),
}

/// Reads the header at `pos`. Returns the item and where the next value starts: after
/// the payload for scalars and pointers, right after the header for maps and arrays.
pub(crate) fn item_at(buf: &[u8], pos: usize) -> Result<(Item, usize), DecodeError> {
    let mut cur = pos;
    let ctrl = take(buf, &mut cur, 1, pos)?
        .first()
        .copied()
        .unwrap_or_default();
    let mut ty = ctrl >> 5;
    if ty == 0 {
        let ext = take(buf, &mut cur, 1, pos)?
            .first()
            .copied()
            .unwrap_or_default();
        // Extended types 8..=15; 12 and 13 (cache container, end marker) never hold data.
        ty = match ext {
            1..=4 | 7 | 8 => ext + 7,
            other => return Err(DecodeFault::UnknownType(other.saturating_add(7)).at(pos)),
        };
    }
    let bits = usize::from(ctrl & 0x1f);
    if ty == T_POINTER {
        return pointer(buf, cur, bits, pos);
    }
    let size = match bits {
        0..=28 => bits,
        29 => 29 + be(take(buf, &mut cur, 1, pos)?),
        30 => 285 + be(take(buf, &mut cur, 2, pos)?),
        _ => 65_821 + be(take(buf, &mut cur, 3, pos)?),
    };
    let (name, size_ok) = match ty {
        T_MAP => return Ok((Item::Map(size), cur)),
        T_ARRAY => return Ok((Item::Array(size), cur)),
        T_BOOL => ("boolean", size <= 1),
        T_STRING => ("string", true),
        T_BYTES => ("bytes", true),
        T_DOUBLE => ("double", size == 8),
        T_FLOAT => ("float", size == 4),
        T_U16 => ("uint16", size <= 2),
        T_U32 => ("uint32", size <= 4),
        T_I32 => ("int32", size <= 4),
        T_U64 => ("uint64", size <= 8),
        T_U128 => ("uint128", size <= 16),
        other => return Err(DecodeFault::UnknownType(other).at(pos)),
    };
    if !size_ok {
        return Err(DecodeFault::BadSize { ty: name, size }.at(pos));
    }
    // A boolean keeps its value in the size bits and has no payload.
    let payload_len = if ty == T_BOOL { 0 } else { size };
    let start = cur;
    let payload = take(buf, &mut cur, payload_len, pos)?;
    if ty == T_STRING && std::str::from_utf8(payload).is_err() {
        return Err(DecodeFault::InvalidUtf8.at(pos));
    }
    Ok((
        Item::Scalar {
            ty,
            payload: start..cur,
        },
        cur,
    ))
}

/// The unsigned integer a scalar holds, if it is one and fits in 64 bits.
pub(crate) fn uint(buf: &[u8], item: &Item) -> Option<u64> {
    match item {
        Item::Scalar { ty, payload } if matches!(*ty, T_U16 | T_U32 | T_U64 | T_U128) => {
            let bytes = buf.get(payload.clone())?;
            let value = bytes
                .iter()
                .fold(0_u128, |acc, &b| (acc << 8) | u128::from(b));
            u64::try_from(value).ok()
        }
        _ => None,
    }
}

fn pointer(
    buf: &[u8],
    mut cur: usize,
    bits: usize,
    pos: usize,
) -> Result<(Item, usize), DecodeError> {
    // maxminddb 0.26 runs pointer size bits through the size extension when they exceed
    // 28, which misreads the pointer; no writer emits those, so refuse them.
    if bits > 28 {
        return Err(DecodeFault::PointerEncoding.at(pos));
    }
    let len = ((bits >> 3) & 0x3) + 1;
    let base = if len == 4 { 0 } else { bits & 0x7 };
    let bytes = take(buf, &mut cur, len, pos)?;
    let raw = bytes
        .iter()
        .fold(base, |acc, &b| (acc << 8) | usize::from(b));
    let bias = match len {
        2 => 2048,
        3 => 526_336,
        _ => 0,
    };
    Ok((Item::Pointer(raw + bias), cur))
}

fn take<'a>(
    buf: &'a [u8],
    cur: &mut usize,
    len: usize,
    pos: usize,
) -> Result<&'a [u8], DecodeError> {
    let end = cur
        .checked_add(len)
        .ok_or_else(|| DecodeFault::Truncated.at(pos))?;
    let bytes = buf
        .get(*cur..end)
        .ok_or_else(|| DecodeFault::Truncated.at(pos))?;
    *cur = end;
    Ok(bytes)
}

fn be(bytes: &[u8]) -> usize {
    bytes.iter().fold(0, |acc, &b| (acc << 8) | usize::from(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(buf: &[u8]) -> DecodeFault {
        item_at(buf, 0).unwrap_err().fault
    }

    #[test]
    fn reads_scalars_and_containers() {
        assert_eq!(
            item_at(b"\x43abc", 0).unwrap(),
            (
                Item::Scalar {
                    ty: T_STRING,
                    payload: 1..4
                },
                4
            )
        );
        assert_eq!(item_at(b"\xe2", 0).unwrap(), (Item::Map(2), 1));
        assert_eq!(item_at(b"\x02\x04", 0).unwrap(), (Item::Array(2), 2));
        let (item, next) = item_at(b"\xc2\x01\x02", 0).unwrap();
        assert_eq!(uint(b"\xc2\x01\x02", &item), Some(0x0102));
        assert_eq!(next, 3);
    }

    #[test]
    fn reads_pointers_of_every_width() {
        assert_eq!(item_at(b"\x21\x02", 0).unwrap().0, Item::Pointer(0x102));
        assert_eq!(
            item_at(b"\x29\x00\x00", 0).unwrap().0,
            Item::Pointer(0x10000 + 2048)
        );
        assert_eq!(
            item_at(b"\x30\x00\x00\x01", 0).unwrap().0,
            Item::Pointer(1 + 526_336)
        );
        assert_eq!(
            item_at(b"\x38\x01\x00\x00\x00", 0).unwrap().0,
            Item::Pointer(0x0100_0000)
        );
        assert_eq!(fault(b"\x3d\x00\x00\x00\x00"), DecodeFault::PointerEncoding);
    }

    #[test]
    fn rejects_what_the_reader_would_trip_on() {
        assert_eq!(fault(b""), DecodeFault::Truncated);
        assert_eq!(fault(b"\x45abc"), DecodeFault::Truncated);
        assert_eq!(fault(b"\x5d"), DecodeFault::Truncated);
        assert_eq!(fault(b"\x00"), DecodeFault::Truncated);
        assert_eq!(fault(b"\x00\xff"), DecodeFault::UnknownType(255));
        assert_eq!(fault(b"\x00\x05"), DecodeFault::UnknownType(12));
        assert_eq!(fault(b"\x42\xff\xfe"), DecodeFault::InvalidUtf8);
        assert!(matches!(
            fault(b"\xa3\x00\x00\x00"),
            DecodeFault::BadSize { .. }
        ));
        assert!(matches!(fault(b"\x64abcd"), DecodeFault::BadSize { .. }));
        assert!(matches!(fault(b"\x02\x07"), DecodeFault::BadSize { .. }));
    }
}
