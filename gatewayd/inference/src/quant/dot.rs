//! Dot products of one quantised row with an activation vector.
//!
//! Two paths, as in llama.cpp: [`dot_row`] dequantises a block at a time into a stack buffer
//! and multiplies in f32 (every type); for Q4_0, Q4_1 and Q8_0 rows, [`Q8_0Vec`] holds the
//! activations quantised to 8 bits per 32-value block and `Q8_0Vec::dot` multiplies in
//! integers, one float multiply per block. Loops run over fixed-size arrays with independent
//! lane accumulators so they vectorise.

use super::dequant;
use super::half::{bf16_to_f32, f16_le};
use super::types::{GgmlType, QK_K};

/// f32 dot product with eight independent accumulators (vectorises to one AVX register).
#[inline]
pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ar, br) = (ac.remainder(), bc.remainder());
    for (x, y) in ac.zip(bc) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut tail = 0f32;
    for (x, y) in ar.iter().zip(br) {
        tail += x * y;
    }
    acc.iter().sum::<f32>() + tail
}

/// Dot product of a row of `ty` (its bytes) with `x` (as many values as the row holds).
pub fn dot_row(ty: GgmlType, row: &[u8], x: &[f32]) -> f32 {
    match ty {
        GgmlType::F32 => {
            let mut acc = [0f32; 8];
            for (b, xs) in row.chunks_exact(32).zip(x.chunks_exact(8)) {
                for i in 0..8 {
                    let w =
                        f32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]]);
                    acc[i] += w * xs[i];
                }
            }
            let done = (x.len() / 8) * 8;
            let mut tail = 0f32;
            for (b, xv) in row[done * 4..].chunks_exact(4).zip(&x[done..]) {
                tail += f32::from_le_bytes([b[0], b[1], b[2], b[3]]) * xv;
            }
            acc.iter().sum::<f32>() + tail
        }
        GgmlType::F16 | GgmlType::BF16 => {
            let conv = |b: &[u8]| {
                if ty == GgmlType::F16 {
                    f16_le([b[0], b[1]])
                } else {
                    bf16_to_f32(u16::from_le_bytes([b[0], b[1]]))
                }
            };
            let mut buf = [0f32; 64];
            let mut sum = 0f32;
            for (b, xs) in row.chunks(128).zip(x.chunks(64)) {
                let n = xs.len();
                for (v, h) in buf.iter_mut().zip(b.chunks_exact(2)) {
                    *v = conv(h);
                }
                sum += dot_f32(&buf[..n], xs);
            }
            sum
        }
        _ => {
            let (bl, bb) = (ty.block_len(), ty.block_bytes());
            let mut buf = [0f32; QK_K];
            let mut sum = 0f32;
            for (b, xs) in row.chunks_exact(bb).zip(x.chunks_exact(bl)) {
                let y = &mut buf[..bl];
                match ty {
                    GgmlType::Q4_0 => dequant::q4_0(b, y),
                    GgmlType::Q4_1 => dequant::q4_1(b, y),
                    GgmlType::Q8_0 => dequant::q8_0(b, y),
                    GgmlType::Q4K => dequant::q4_k(b, y),
                    GgmlType::Q5K => dequant::q5_k(b, y),
                    _ => dequant::q6_k(b, y),
                }
                sum += dot_f32(y, xs);
            }
            sum
        }
    }
}

/// Activations quantised to Q8_0 (32-value blocks: a scale and 32 signed bytes), with each
/// block's scaled sum for the Q4_1 path.
#[derive(Debug, Clone, Default)]
pub struct Q8_0Vec {
    pub d: Vec<f32>,
    pub s: Vec<f32>,
    pub qs: Vec<i8>,
}

/// Quantises `x` (a multiple of 32 values) to Q8_0 into `out`, reusing its buffers.
pub fn quantize_q8_0(x: &[f32], out: &mut Q8_0Vec) {
    let n = x.len() / 32;
    out.d.clear();
    out.s.clear();
    out.qs.clear();
    out.qs.resize(n * 32, 0);
    for (xs, qs) in x.chunks_exact(32).zip(out.qs.chunks_exact_mut(32)) {
        let amax = xs.iter().fold(0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        let mut sum = 0i32;
        for (q, v) in qs.iter_mut().zip(xs) {
            *q = (v * id).round() as i8;
            sum += *q as i32;
        }
        out.d.push(d);
        out.s.push(d * sum as f32);
    }
}

impl Q8_0Vec {
    /// Integer dot product with a Q4_0, Q4_1 or Q8_0 row; `None` for other types.
    pub fn dot(&self, ty: GgmlType, row: &[u8]) -> Option<f32> {
        match ty {
            GgmlType::Q8_0 => self.dot_q8_0(row),
            GgmlType::Q4_0 => self.dot_q4(row, false),
            GgmlType::Q4_1 => self.dot_q4(row, true),
            _ => None,
        }
    }

    // One function per row type, each a plain loop over blocks around a fixed-size kernel:
    // folded into a single function with a `match` per block, LLVM kept the kernels scalar
    // (8x slower than llama.cpp); on their own they vectorise (vpmovsx + vpmaddwd).

    fn dot_q8_0(&self, row: &[u8]) -> Option<f32> {
        let mut sum = 0f32;
        for ((b, d8), q8) in row
            .chunks_exact(34)
            .zip(&self.d)
            .zip(self.qs.chunks_exact(32))
        {
            let (Ok(w), Ok(q8)) = (<&[u8; 32]>::try_from(&b[2..34]), <&[i8; 32]>::try_from(q8))
            else {
                return None;
            };
            sum += f16_le([b[0], b[1]]) * d8 * q8_0_block(w, q8) as f32;
        }
        Some(sum)
    }

    fn dot_q4(&self, row: &[u8], q41: bool) -> Option<f32> {
        let bb = if q41 { 20 } else { 18 };
        let off = if q41 { 0 } else { 8 };
        let mut sum = 0f32;
        let blocks = self.d.iter().zip(&self.s).zip(self.qs.chunks_exact(32));
        for (b, ((d8, s8), q8)) in row.chunks_exact(bb).zip(blocks) {
            let (Ok(qs), Ok(q8)) = (
                <&[u8; 16]>::try_from(&b[bb - 16..]),
                <&[i8; 32]>::try_from(q8),
            ) else {
                return None;
            };
            sum += f16_le([b[0], b[1]]) * d8 * q4_block(qs, q8, off) as f32;
            if q41 {
                sum += f16_le([b[2], b[3]]) * s8;
            }
        }
        Some(sum)
    }
}

/// Σ w·q over one Q8_0 block (signed bytes both sides).
#[inline(always)]
fn q8_0_block(w: &[u8; 32], q8: &[i8; 32]) -> i32 {
    let mut acc = 0i32;
    for j in 0..32 {
        acc += (w[j] as i8 as i32) * (q8[j] as i32);
    }
    acc
}

/// Σ (nibble − off)·q over one Q4_0/Q4_1 block: low nibbles are values 0..16, high 16..32.
#[inline(always)]
fn q4_block(qs: &[u8; 16], q8: &[i8; 32], off: i32) -> i32 {
    let mut acc = 0i32;
    for j in 0..16 {
        acc += ((qs[j] & 0x0f) as i32 - off) * q8[j] as i32;
        acc += ((qs[j] >> 4) as i32 - off) * q8[j + 16] as i32;
    }
    acc
}

#[cfg(test)]
#[path = "dot/tests.rs"]
mod tests;
