//! GGUF, the llama.cpp model file: header, metadata, tensor directory, tensor data.
//!
//! [`Gguf::parse`] checks the whole directory before returning: version 2 or 3, every string
//! and array length against the bytes left, tensor shapes (at most four dimensions, rows a
//! whole number of blocks, no overflow), the alignment (a power of two), and that every
//! tensor's data lies inside the file at an aligned offset. After that, tensor data access
//! cannot go out of bounds. Version 1 (32-bit counts, 2023) is refused.
//!
//! The file is read into memory (the crate forbids `unsafe`, which memory mapping needs);
//! nothing else is allocated in proportion to a number the file claims.

mod cursor;
mod value;

use std::collections::HashMap;
use std::path::Path;

use crate::quant::GgmlType;
use crate::{Error, Result};
use cursor::Cursor;
pub use value::{Array, Value};

/// "GGUF" as a little-endian u32.
const MAGIC: &[u8; 4] = b"GGUF";
/// Alignment of tensor data when `general.alignment` is absent.
pub const DEFAULT_ALIGNMENT: u64 = 32;
/// Dimensions a tensor may have (ggml's limit).
const MAX_DIMS: u32 = 4;

/// One entry of the tensor directory.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    /// ggml order: `dims[0]` is the row length (contiguous), `dims[1]` the number of rows.
    pub dims: Vec<u64>,
    pub ty: GgmlType,
    /// Offset of the data from the start of the data section.
    pub offset: u64,
    /// Bytes of data.
    pub bytes: u64,
}

impl TensorInfo {
    /// Number of elements.
    pub fn elements(&self) -> u64 {
        self.dims.iter().product()
    }
}

/// A parsed GGUF file holding its bytes.
#[derive(Debug)]
pub struct Gguf {
    bytes: Vec<u8>,
    pub version: u32,
    pub alignment: u64,
    /// Start of the data section in the file.
    pub data_offset: u64,
    metadata: Vec<(String, Value)>,
    meta_index: HashMap<String, usize>,
    tensors: Vec<TensorInfo>,
    tensor_index: HashMap<String, usize>,
}

impl Gguf {
    /// Reads and parses a file.
    pub fn open(path: &Path) -> Result<Self> {
        Self::parse(std::fs::read(path)?)
    }

    /// Parses a whole file held in memory.
    pub fn parse(bytes: Vec<u8>) -> Result<Self> {
        let mut c = Cursor::new(&bytes);
        if c.take(4, "the magic")? != MAGIC {
            return Err(Error::Malformed {
                offset: 0,
                reason: "not a GGUF file (magic is not \"GGUF\")".into(),
            });
        }
        let version = c.u32("the version")?;
        if version != 2 && version != 3 {
            return Err(Error::Unsupported(format!(
                "GGUF version {version} (versions 2 and 3 are read)"
            )));
        }
        // A tensor info is at least name length + n_dims + one dim + type + offset.
        let n_tensors = c.count(8 + 4 + 8 + 4 + 8, "the tensor count")?;
        // A key-value pair is at least key length + value type + one byte.
        let n_kv = c.count(8 + 4 + 1, "the metadata count")?;

        let mut metadata = Vec::with_capacity(n_kv);
        let mut meta_index = HashMap::with_capacity(n_kv);
        for _ in 0..n_kv {
            let at = c.pos();
            let key = c.string("a metadata key")?;
            let ty = c.u32("a metadata value type")?;
            let value = value::read_value(&mut c, ty, 0)?;
            if meta_index.insert(key.clone(), metadata.len()).is_some() {
                return Err(Error::Malformed {
                    offset: at as u64,
                    reason: format!("metadata key {key:?} appears twice"),
                });
            }
            metadata.push((key, value));
        }

        let alignment = match meta_index.get("general.alignment") {
            None => DEFAULT_ALIGNMENT,
            Some(&i) => match metadata[i].1 {
                Value::U32(a) if a.is_power_of_two() => a.into(),
                ref other => {
                    return Err(Error::Malformed {
                        offset: c.pos() as u64,
                        reason: format!("general.alignment {other:?} is not a power-of-two u32"),
                    })
                }
            },
        };

        let mut infos = Vec::with_capacity(n_tensors);
        let mut tensor_index = HashMap::with_capacity(n_tensors);
        for _ in 0..n_tensors {
            let at = c.pos();
            let info = read_tensor_info(&mut c)?;
            if !info.offset.is_multiple_of(alignment) {
                return Err(c.error(format!(
                    "tensor {:?} data offset {} is not a multiple of the alignment {alignment}",
                    info.name, info.offset
                )));
            }
            if tensor_index
                .insert(info.name.clone(), infos.len())
                .is_some()
            {
                return Err(Error::Malformed {
                    offset: at as u64,
                    reason: format!("tensor {:?} appears twice", info.name),
                });
            }
            infos.push(info);
        }

        let data_offset = align_up(c.pos() as u64, alignment);
        let file_len = bytes.len() as u64;
        for t in &infos {
            let end = data_offset
                .checked_add(t.offset)
                .and_then(|s| s.checked_add(t.bytes));
            if end.is_none_or(|e| e > file_len) {
                return Err(Error::Malformed {
                    offset: file_len,
                    reason: format!(
                        "file ends before tensor {:?}'s data ({} bytes at {} past the data start {data_offset})",
                        t.name, t.bytes, t.offset
                    ),
                });
            }
        }
        Ok(Self {
            bytes,
            version,
            alignment,
            data_offset,
            metadata,
            meta_index,
            tensors: infos,
            tensor_index,
        })
    }

    /// A metadata value by key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.meta_index.get(key).map(|&i| &self.metadata[i].1)
    }

    /// All metadata in file order.
    pub fn metadata(&self) -> &[(String, Value)] {
        &self.metadata
    }

    /// The tensor directory in file order.
    pub fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    /// A tensor's directory entry by name.
    pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        self.tensor_index.get(name).map(|&i| &self.tensors[i])
    }

    /// The whole file.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// A tensor's data (in bounds: checked by `parse`).
    pub fn data(&self, t: &TensorInfo) -> &[u8] {
        let start = (self.data_offset + t.offset) as usize;
        &self.bytes[start..start + t.bytes as usize]
    }
}

fn align_up(x: u64, a: u64) -> u64 {
    x.div_ceil(a).saturating_mul(a)
}

fn read_tensor_info(c: &mut Cursor<'_>) -> Result<TensorInfo> {
    let name = c.string("a tensor name")?;
    let n_dims = c.u32("a tensor's dimension count")?;
    if n_dims == 0 || n_dims > MAX_DIMS {
        return Err(c.error(format!(
            "tensor {name:?} has {n_dims} dimensions (1 to {MAX_DIMS})"
        )));
    }
    let mut dims = Vec::with_capacity(n_dims as usize);
    for _ in 0..n_dims {
        dims.push(c.u64("a tensor dimension")?);
    }
    let ty_id = c.u32("a tensor type")?;
    let ty = GgmlType::from_id(ty_id).map_err(|e| match e {
        Error::Unsupported(m) => Error::Unsupported(format!("tensor {name:?}: {m}")),
        other => other,
    })?;
    let offset = c.u64("a tensor data offset")?;
    let overflow = || c.error(format!("tensor {name:?} shape {dims:?} overflows"));
    let mut rows: u64 = 1;
    for &d in &dims[1..] {
        rows = rows.checked_mul(d).ok_or_else(overflow)?;
    }
    dims[0].checked_mul(rows).ok_or_else(overflow)?;
    let row = ty
        .row_bytes(dims[0])
        .map_err(|e| c.error(format!("tensor {name:?}: {e}")))?;
    let bytes = row.checked_mul(rows).ok_or_else(overflow)?;
    Ok(TensorInfo {
        name,
        dims,
        ty,
        offset,
        bytes,
    })
}

#[cfg(test)]
mod tests;
