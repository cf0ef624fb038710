//! Dequantisation: blocks of every supported type back to f32 (ggml's reference formulas).

use super::half::{bf16_to_f32, f16_le};
use super::types::{GgmlType, QK_K};
use crate::{Error, Result};

/// Dequantises a whole number of blocks of `ty` from `src` into `dst`
/// (`dst.len()` values; `src` must hold exactly their blocks).
pub fn dequantize(ty: GgmlType, src: &[u8], dst: &mut [f32]) -> Result<()> {
    let blocks = dst.len() / ty.block_len();
    if !dst.len().is_multiple_of(ty.block_len()) || src.len() != blocks * ty.block_bytes() {
        return Err(Error::Invalid(format!(
            "{} bytes of {ty:?} do not hold {} values",
            src.len(),
            dst.len()
        )));
    }
    dequantize_row(ty, src, dst);
    Ok(())
}

/// As [`dequantize`] without the length check: callers pass matching lengths (extra output
/// values are left as they are).
pub fn dequantize_row(ty: GgmlType, src: &[u8], dst: &mut [f32]) {
    let bl = ty.block_len();
    let bb = ty.block_bytes();
    for (b, y) in src.chunks_exact(bb).zip(dst.chunks_exact_mut(bl)) {
        match ty {
            GgmlType::F32 => y[0] = f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            GgmlType::F16 => y[0] = f16_le([b[0], b[1]]),
            GgmlType::BF16 => y[0] = bf16_to_f32(u16::from_le_bytes([b[0], b[1]])),
            GgmlType::Q4_0 => q4_0(b, y),
            GgmlType::Q4_1 => q4_1(b, y),
            GgmlType::Q8_0 => q8_0(b, y),
            GgmlType::Q4K => q4_k(b, y),
            GgmlType::Q5K => q5_k(b, y),
            GgmlType::Q6K => q6_k(b, y),
        }
    }
}

pub(crate) fn q4_0(b: &[u8], y: &mut [f32]) {
    let d = f16_le([b[0], b[1]]);
    let qs = &b[2..18];
    for j in 0..16 {
        y[j] = ((qs[j] & 0x0f) as i32 - 8) as f32 * d;
        y[j + 16] = ((qs[j] >> 4) as i32 - 8) as f32 * d;
    }
}

pub(crate) fn q4_1(b: &[u8], y: &mut [f32]) {
    let d = f16_le([b[0], b[1]]);
    let m = f16_le([b[2], b[3]]);
    let qs = &b[4..20];
    for j in 0..16 {
        y[j] = (qs[j] & 0x0f) as f32 * d + m;
        y[j + 16] = (qs[j] >> 4) as f32 * d + m;
    }
}

pub(crate) fn q8_0(b: &[u8], y: &mut [f32]) {
    let d = f16_le([b[0], b[1]]);
    for (v, &q) in y.iter_mut().zip(&b[2..34]) {
        *v = (q as i8) as f32 * d;
    }
}

/// The 6-bit scale and min of sub-block `j` (0..8) of a Q4_K / Q5_K super-block.
#[inline]
pub(crate) fn scale_min_k4(j: usize, q: &[u8]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        (
            (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4),
            (q[j + 4] >> 4) | ((q[j] >> 6) << 4),
        )
    }
}

pub(crate) fn q4_k(b: &[u8], y: &mut [f32]) {
    let d = f16_le([b[0], b[1]]);
    let dmin = f16_le([b[2], b[3]]);
    let scales = &b[4..16];
    let qs = &b[16..144];
    for j in 0..QK_K / 64 {
        let (sc1, m1) = scale_min_k4(2 * j, scales);
        let (sc2, m2) = scale_min_k4(2 * j + 1, scales);
        let (d1, m1) = (d * sc1 as f32, dmin * m1 as f32);
        let (d2, m2) = (d * sc2 as f32, dmin * m2 as f32);
        let q = &qs[32 * j..32 * j + 32];
        let out = &mut y[64 * j..64 * j + 64];
        for l in 0..32 {
            out[l] = d1 * (q[l] & 0x0f) as f32 - m1;
            out[l + 32] = d2 * (q[l] >> 4) as f32 - m2;
        }
    }
}

pub(crate) fn q5_k(b: &[u8], y: &mut [f32]) {
    let d = f16_le([b[0], b[1]]);
    let dmin = f16_le([b[2], b[3]]);
    let scales = &b[4..16];
    let qh = &b[16..48];
    let qs = &b[48..176];
    for j in 0..QK_K / 64 {
        let (sc1, m1) = scale_min_k4(2 * j, scales);
        let (sc2, m2) = scale_min_k4(2 * j + 1, scales);
        let (d1, m1) = (d * sc1 as f32, dmin * m1 as f32);
        let (d2, m2) = (d * sc2 as f32, dmin * m2 as f32);
        let (u1, u2) = (1u8 << (2 * j), 2u8 << (2 * j));
        let q = &qs[32 * j..32 * j + 32];
        let out = &mut y[64 * j..64 * j + 64];
        for l in 0..32 {
            let h1 = if qh[l] & u1 != 0 { 16 } else { 0 };
            let h2 = if qh[l] & u2 != 0 { 16 } else { 0 };
            out[l] = d1 * ((q[l] & 0x0f) + h1) as f32 - m1;
            out[l + 32] = d2 * ((q[l] >> 4) + h2) as f32 - m2;
        }
    }
}

pub(crate) fn q6_k(b: &[u8], y: &mut [f32]) {
    let ql_all = &b[0..128];
    let qh_all = &b[128..192];
    let sc_all = &b[192..208];
    let d = f16_le([b[208], b[209]]);
    for n in 0..2 {
        let ql = &ql_all[64 * n..64 * n + 64];
        let qh = &qh_all[32 * n..32 * n + 32];
        let sc = &sc_all[8 * n..8 * n + 8];
        let out = &mut y[128 * n..128 * n + 128];
        for l in 0..32 {
            let is = l / 16;
            let q1 = ((ql[l] & 0x0f) | ((qh[l] & 3) << 4)) as i32 - 32;
            let q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) as i32 - 32;
            let q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) as i32 - 32;
            let q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) as i32 - 32;
            out[l] = d * (sc[is] as i8) as f32 * q1 as f32;
            out[l + 32] = d * (sc[is + 2] as i8) as f32 * q2 as f32;
            out[l + 64] = d * (sc[is + 4] as i8) as f32 * q3 as f32;
            out[l + 96] = d * (sc[is + 6] as i8) as f32 * q4 as f32;
        }
    }
}
