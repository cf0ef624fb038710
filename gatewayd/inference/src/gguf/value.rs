//! Metadata values: the thirteen GGUF value types, arrays typed per element so a large
//! array costs about what it takes on disk.

use super::cursor::Cursor;
use crate::{Error, Result};

/// Arrays may nest; deeper than this is refused (no real model nests at all).
const MAX_DEPTH: usize = 4;

/// One metadata value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    String(String),
    Array(Array),
    U64(u64),
    I64(i64),
    F64(f64),
}

/// A typed array value.
#[derive(Debug, Clone, PartialEq)]
pub enum Array {
    U8(Vec<u8>),
    I8(Vec<i8>),
    U16(Vec<u16>),
    I16(Vec<i16>),
    U32(Vec<u32>),
    I32(Vec<i32>),
    F32(Vec<f32>),
    Bool(Vec<bool>),
    String(Vec<String>),
    Array(Vec<Array>),
    U64(Vec<u64>),
    I64(Vec<i64>),
    F64(Vec<f64>),
}

impl Array {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Self::U8(v) => v.len(),
            Self::I8(v) => v.len(),
            Self::U16(v) => v.len(),
            Self::I16(v) => v.len(),
            Self::U32(v) => v.len(),
            Self::I32(v) => v.len(),
            Self::F32(v) => v.len(),
            Self::Bool(v) => v.len(),
            Self::String(v) => v.len(),
            Self::Array(v) => v.len(),
            Self::U64(v) => v.len(),
            Self::I64(v) => v.len(),
            Self::F64(v) => v.len(),
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Value {
    /// An unsigned integer of any width (negative signed values are not).
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Self::U8(v) => Some(v.into()),
            Self::U16(v) => Some(v.into()),
            Self::U32(v) => Some(v.into()),
            Self::U64(v) => Some(v),
            Self::I8(v) => u64::try_from(v).ok(),
            Self::I16(v) => u64::try_from(v).ok(),
            Self::I32(v) => u64::try_from(v).ok(),
            Self::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// A float of either width, or an integer.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Self::F32(v) => Some(v.into()),
            Self::F64(v) => Some(v),
            _ => self.as_u64().map(|v| v as f64),
        }
    }

    /// The string, when this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// The array, when this is one.
    pub fn as_array(&self) -> Option<&Array> {
        match self {
            Self::Array(a) => Some(a),
            _ => None,
        }
    }
}

/// Bytes the smallest element of a type takes on disk (for bounding counts).
fn min_bytes(ty: u32) -> usize {
    match ty {
        0 | 1 | 7 => 1,
        2 | 3 => 2,
        4..=6 => 4,
        8 => 8,  // string: its length
        9 => 12, // array: element type and count
        _ => 8,
    }
}

pub(crate) fn read_value(c: &mut Cursor<'_>, ty: u32, depth: usize) -> Result<Value> {
    Ok(match ty {
        0 => Value::U8(c.u8("a u8 value")?),
        1 => Value::I8(c.u8("an i8 value")? as i8),
        2 => Value::U16(c.u16("a u16 value")?),
        3 => Value::I16(c.u16("an i16 value")? as i16),
        4 => Value::U32(c.u32("a u32 value")?),
        5 => Value::I32(c.u32("an i32 value")? as i32),
        6 => Value::F32(f32::from_bits(c.u32("an f32 value")?)),
        7 => Value::Bool(read_bool(c)?),
        8 => Value::String(c.string("a string value")?),
        9 => Value::Array(read_array(c, depth)?),
        10 => Value::U64(c.u64("a u64 value")?),
        11 => Value::I64(c.u64("an i64 value")? as i64),
        12 => Value::F64(f64::from_bits(c.u64("an f64 value")?)),
        other => return Err(c.error(format!("unknown metadata value type {other}"))),
    })
}

fn read_bool(c: &mut Cursor<'_>) -> Result<bool> {
    match c.u8("a bool value")? {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(c.error(format!("bool value is {other}, not 0 or 1"))),
    }
}

fn read_array(c: &mut Cursor<'_>, depth: usize) -> Result<Array> {
    if depth >= MAX_DEPTH {
        return Err(c.error(format!("arrays nested deeper than {MAX_DEPTH}")));
    }
    let ty = c.u32("an array's element type")?;
    if ty > 12 {
        return Err(c.error(format!("unknown array element type {ty}")));
    }
    let n = c.count(min_bytes(ty), "an array's length")?;
    fn many<T>(n: usize, mut f: impl FnMut() -> Result<T>) -> Result<Vec<T>> {
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(f()?);
        }
        Ok(v)
    }
    Ok(match ty {
        0 => Array::U8(c.take(n, "a u8 array")?.to_vec()),
        1 => Array::I8(c.take(n, "an i8 array")?.iter().map(|&b| b as i8).collect()),
        2 => Array::U16(many(n, || c.u16("a u16 array"))?),
        3 => Array::I16(many(n, || Ok(c.u16("an i16 array")? as i16))?),
        4 => Array::U32(many(n, || c.u32("a u32 array"))?),
        5 => Array::I32(many(n, || Ok(c.u32("an i32 array")? as i32))?),
        6 => Array::F32(many(n, || Ok(f32::from_bits(c.u32("an f32 array")?)))?),
        7 => Array::Bool(many(n, || read_bool(c))?),
        8 => Array::String(many(n, || c.string("a string array element"))?),
        9 => Array::Array(many(n, || read_array(c, depth + 1))?),
        10 => Array::U64(many(n, || c.u64("a u64 array"))?),
        11 => Array::I64(many(n, || Ok(c.u64("an i64 array")? as i64))?),
        12 => Array::F64(many(n, || Ok(f64::from_bits(c.u64("an f64 array")?)))?),
        _ => return Err(Error::Invalid("unreachable array type".into())),
    })
}
