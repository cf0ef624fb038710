//! Whole values checked once, with bounded nesting and bounded expansion.
//!
//! `maxminddb` decodes a record by recursing into maps, arrays and pointers, and decodes
//! all of it on every lookup. A pointer cycle would overflow its stack (an abort, not a
//! panic) and a "billion laughs" record would make each lookup enormous, so both are
//! refused here. Pointer targets are memoised, so checking a whole file stays linear.

use std::collections::HashMap;

use super::decode::{item_at, Item, T_STRING};
use crate::error::{DecodeError, DecodeFault};

/// Deepest nesting of containers and pointers a value may have.
pub(crate) const MAX_DEPTH: u32 = 32;
/// Most values one record may expand to, counting through pointers (a GeoLite2-City
/// record has a few hundred).
pub(crate) const MAX_VALUES: u64 = 50_000;

/// What decoding a value in full costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    /// Levels of nesting, 1 for a scalar.
    pub height: u32,
    /// Values visited when decoding it, pointers followed.
    pub values: u64,
}

const SCALAR: Shape = Shape {
    height: 1,
    values: 1,
};

/// Checks values of one section (data or metadata); pointers are relative to it.
pub(crate) struct SectionCheck<'a> {
    buf: &'a [u8],
    checked_targets: HashMap<usize, Shape>,
}

impl<'a> SectionCheck<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self {
            buf,
            checked_targets: HashMap::new(),
        }
    }

    /// Checks the record a search-tree record points at.
    pub(crate) fn record(&mut self, offset: usize) -> Result<Shape, DecodeError> {
        self.target(offset, offset, 0)
    }

    /// Checks the value at `pos`, entered at nesting `depth`. Returns its shape and the
    /// offset right after it.
    pub(crate) fn value(&mut self, pos: usize, depth: u32) -> Result<(Shape, usize), DecodeError> {
        if depth >= MAX_DEPTH {
            return Err(DecodeFault::TooDeep(MAX_DEPTH).at(pos));
        }
        let (item, next) = item_at(self.buf, pos)?;
        match item {
            Item::Pointer(target) => {
                let shape = self.target(pos, target, depth + 1)?;
                Ok((wrap(shape, 1), next))
            }
            Item::Scalar { .. } => Ok((SCALAR, next)),
            Item::Map(entries) => self.container(pos, next, entries, depth, true),
            Item::Array(elements) => self.container(pos, next, elements, depth, false),
        }
    }

    fn target(&mut self, from: usize, target: usize, depth: u32) -> Result<Shape, DecodeError> {
        if target >= self.buf.len() {
            return Err(DecodeFault::PointerOutOfRange(target).at(from));
        }
        if let Some(shape) = self.checked_targets.get(&target) {
            if depth + shape.height > MAX_DEPTH {
                return Err(DecodeFault::TooDeep(MAX_DEPTH).at(target));
            }
            return Ok(*shape);
        }
        if let (Item::Pointer(_), _) = item_at(self.buf, target)? {
            return Err(DecodeFault::PointerToPointer.at(target));
        }
        let (shape, _) = self.value(target, depth)?;
        self.checked_targets.insert(target, shape);
        Ok(shape)
    }

    fn container(
        &mut self,
        pos: usize,
        mut cur: usize,
        count: usize,
        depth: u32,
        is_map: bool,
    ) -> Result<(Shape, usize), DecodeError> {
        let mut shape = SCALAR;
        for _ in 0..count {
            if is_map {
                cur = self.key(cur)?;
                shape.values += 1;
            }
            let (child, next) = self.value(cur, depth + 1)?;
            shape.height = shape.height.max(child.height + 1);
            shape.values = shape.values.saturating_add(child.values);
            if shape.values > MAX_VALUES {
                return Err(DecodeFault::TooLarge(MAX_VALUES).at(pos));
            }
            cur = next;
        }
        Ok((shape, cur))
    }

    /// Checks a map key (a string, or a pointer to one); returns the offset after it.
    fn key(&mut self, pos: usize) -> Result<usize, DecodeError> {
        let (item, next) = item_at(self.buf, pos)?;
        let key = match item {
            Item::Pointer(target) if target >= self.buf.len() => {
                return Err(DecodeFault::PointerOutOfRange(target).at(pos));
            }
            Item::Pointer(target) => item_at(self.buf, target)?.0,
            direct => direct,
        };
        match key {
            Item::Scalar { ty: T_STRING, .. } => Ok(next),
            _ => Err(DecodeFault::NonStringKey.at(pos)),
        }
    }
}

fn wrap(inner: Shape, extra: u64) -> Shape {
    Shape {
        height: inner.height + 1,
        values: inner.values.saturating_add(extra),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(buf: &[u8]) -> Result<Shape, DecodeFault> {
        SectionCheck::new(buf).record(0).map_err(|e| e.fault)
    }

    #[test]
    fn measures_nested_values() {
        // {"a": [1, "x"]}
        let buf = b"\xe1\x41a\x02\x04\xa1\x01\x41x";
        assert_eq!(
            check(buf),
            Ok(Shape {
                height: 3,
                values: 5
            })
        );
    }

    #[test]
    fn follows_pointers_once_and_counts_their_expansion() {
        // offset 0: {"k": ptr 7, "l": ptr 7}; offset 7: "abc"
        let shape = check(b"\xe2\x41k\x20\x09\x41l\x20\x09\x43abc").unwrap();
        assert_eq!(shape.height, 3);
        assert_eq!(shape.values, 1 + 2 * (1 + 2));
    }

    #[test]
    fn rejects_cycles_and_pointer_chains() {
        // [ptr 0]: an array containing a pointer to itself.
        assert_eq!(
            check(b"\x01\x04\x20\x00"),
            Err(DecodeFault::TooDeep(MAX_DEPTH))
        );
        // [ptr 3], offset 3: ptr 0
        assert_eq!(
            check(b"\x01\x04\x20\x04\x20\x00"),
            Err(DecodeFault::PointerToPointer)
        );
        assert_eq!(
            check(b"\x01\x04\x20\x40"),
            Err(DecodeFault::PointerOutOfRange(0x40))
        );
    }

    #[test]
    fn rejects_non_string_keys_and_exponential_records() {
        assert_eq!(
            check(b"\xe1\xa1\x01\xa1\x01"),
            Err(DecodeFault::NonStringKey)
        );
        // Each level: an array of 16 pointers to the level below; 16^5 values in all.
        let mut buf = vec![0xa1, 0x01];
        let mut below = 0_u8;
        for _ in 0..5 {
            let here = u8::try_from(buf.len()).unwrap();
            buf.extend_from_slice(&[0x10, 0x04]);
            for _ in 0..16 {
                buf.extend_from_slice(&[0x20, below]);
            }
            below = here;
        }
        let mut check = SectionCheck::new(&buf);
        let err = check.record(usize::from(below)).unwrap_err();
        assert_eq!(err.fault, DecodeFault::TooLarge(MAX_VALUES));
    }
}
