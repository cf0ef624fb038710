//! Weight matrices as checked views into the GGUF data, and the matrix-vector product.

use crate::gguf::{Gguf, TensorInfo};
use crate::quant::{dequantize_row, dot_row, GgmlType, Q8_0Vec};
use crate::{Error, Result};

/// A 2-D (or 1-D, one row) weight: `rows` rows of `cols` values, row-major in the file.
#[derive(Debug, Clone)]
pub struct Matrix {
    pub ty: GgmlType,
    pub rows: usize,
    pub cols: usize,
    start: usize,
    row_bytes: usize,
}

/// Below this many multiply-adds a product runs on the calling thread (spawning costs more).
const PARALLEL_MIN_WORK: usize = 1 << 18;

impl Matrix {
    /// The tensor `name`, checked to be `cols` × `rows` (ggml order: `dims == [cols, rows]`).
    pub fn load(g: &Gguf, name: &str, cols: usize, rows: usize) -> Result<Self> {
        let t = g
            .tensor(name)
            .ok_or_else(|| Error::Missing(format!("tensor {name}")))?;
        Self::check(g, t, cols, rows)
    }

    /// As [`Matrix::load`], `None` when the tensor is absent.
    pub fn load_optional(g: &Gguf, name: &str, cols: usize, rows: usize) -> Result<Option<Self>> {
        g.tensor(name)
            .map(|t| Self::check(g, t, cols, rows))
            .transpose()
    }

    fn check(g: &Gguf, t: &TensorInfo, cols: usize, rows: usize) -> Result<Self> {
        let want: &[u64] = &[cols as u64, rows as u64];
        let got = t.dims.as_slice();
        let same = got == want || (rows == 1 && got == &want[..1]);
        if !same {
            return Err(Error::Unsupported(format!(
                "tensor {} has shape {got:?}, the metadata implies {want:?}",
                t.name
            )));
        }
        let start = (g.data_offset + t.offset) as usize;
        let row_bytes = t.ty.row_bytes(cols as u64)? as usize;
        Ok(Self {
            ty: t.ty,
            rows,
            cols,
            start,
            row_bytes,
        })
    }

    fn row<'a>(&self, file: &'a [u8], r: usize) -> &'a [u8] {
        let s = self.start + r * self.row_bytes;
        &file[s..s + self.row_bytes]
    }

    /// Row `r` as f32 into `out` (`cols` values).
    pub fn row_f32(&self, file: &[u8], r: usize, out: &mut [f32]) {
        dequantize_row(self.ty, self.row(file, r), out);
    }

    /// Whether products use the activations quantised to Q8_0 (as llama.cpp does).
    pub fn wants_q8(&self) -> bool {
        matches!(self.ty, GgmlType::Q4_0 | GgmlType::Q4_1 | GgmlType::Q8_0)
    }

    /// `out = self · x`; `xq` must be `x` quantised when [`Matrix::wants_q8`].
    pub fn matvec(&self, file: &[u8], x: &[f32], xq: &Q8_0Vec, out: &mut [f32], threads: usize) {
        let work = self.rows * self.cols;
        let threads = threads.max(1);
        if threads == 1 || work < PARALLEL_MIN_WORK {
            self.rows_into(file, x, xq, 0, out);
            return;
        }
        let per = self.rows.div_ceil(threads);
        std::thread::scope(|s| {
            for (i, chunk) in out.chunks_mut(per).enumerate() {
                s.spawn(move || self.rows_into(file, x, xq, i * per, chunk));
            }
        });
    }

    fn rows_into(&self, file: &[u8], x: &[f32], xq: &Q8_0Vec, first: usize, out: &mut [f32]) {
        let q8 = self.wants_q8();
        for (i, o) in out.iter_mut().enumerate() {
            let row = self.row(file, first + i);
            *o = match q8.then(|| xq.dot(self.ty, row)).flatten() {
                Some(v) => v,
                None => dot_row(self.ty, row, x),
            };
        }
    }
}

/// Reads a 1-D f32-convertible vector (norm weights, biases, RoPE factors).
pub(crate) fn vector(g: &Gguf, name: &str, len: usize) -> Result<Vec<f32>> {
    let m = Matrix::load(g, name, len, 1)?;
    let mut out = vec![0f32; len];
    m.row_f32(g.bytes(), 0, &mut out);
    Ok(out)
}

pub(crate) fn vector_optional(g: &Gguf, name: &str, len: usize) -> Result<Option<Vec<f32>>> {
    if g.tensor(name).is_none() {
        return Ok(None);
    }
    vector(g, name, len).map(Some)
}
