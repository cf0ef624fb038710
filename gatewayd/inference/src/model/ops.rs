//! The decoder's elementwise and per-head operations, as llama.cpp computes them.

use super::config::Arch;
use crate::quant::dot_f32;

/// `out = x / rms(x) * w`, the mean square accumulated in f64.
pub(crate) fn rms_norm(x: &[f32], w: &[f32], eps: f32, out: &mut [f32]) {
    let ss: f64 = x.iter().map(|v| (*v as f64) * (*v as f64)).sum();
    let scale = 1.0 / ((ss / x.len() as f64) as f32 + eps).sqrt();
    for ((o, v), w) in out.iter_mut().zip(x).zip(w) {
        *o = v * scale * w;
    }
}

/// The rotation angle factors of one position: `theta_i = pos * base^(-2i/dims) * scale / ff_i`.
pub(crate) fn rope_table(
    pos: usize,
    dims: usize,
    base: f32,
    scale: f32,
    factors: Option<&[f32]>,
    cos: &mut Vec<f32>,
    sin: &mut Vec<f32>,
) {
    cos.clear();
    sin.clear();
    let step = base.powf(-2.0 / dims as f32);
    let mut theta = pos as f32;
    for i in 0..dims / 2 {
        let ff = factors.and_then(|f| f.get(i)).copied().unwrap_or(1.0);
        let t = scale * theta / ff;
        cos.push(t.cos());
        sin.push(t.sin());
        theta *= step;
    }
}

/// Rotates the first `2 * cos.len()` dimensions of one head in place.
pub(crate) fn rope(arch: Arch, head: &mut [f32], cos: &[f32], sin: &[f32]) {
    let half = cos.len();
    for i in 0..half {
        let (a, b) = match arch {
            Arch::Llama => (2 * i, 2 * i + 1),
            Arch::Qwen2 => (i, i + half),
        };
        let (x0, x1) = (head[a], head[b]);
        head[a] = x0 * cos[i] - x1 * sin[i];
        head[b] = x0 * sin[i] + x1 * cos[i];
    }
}

/// Softmax in place (max subtracted first; an all-`-inf` input gives zeros, not NaN).
pub(crate) fn softmax(x: &mut [f32]) {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if !max.is_finite() {
        x.iter_mut().for_each(|v| *v = 0.0);
        return;
    }
    let mut sum = 0f64;
    for v in x.iter_mut() {
        *v = (*v - max).exp();
        sum += *v as f64;
    }
    let inv = (1.0 / sum) as f32;
    x.iter_mut().for_each(|v| *v *= inv);
}

/// `gate = silu(gate) * up`.
pub(crate) fn swiglu(gate: &mut [f32], up: &[f32]) {
    for (g, u) in gate.iter_mut().zip(up) {
        *g = *g / (1.0 + (-*g).exp()) * u;
    }
}

/// One query head attending over `len` cached positions of its key/value head.
/// `keys`/`values` hold positions of `stride` floats, this head's slice at `off`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn attend(
    q: &[f32],
    keys: &[f32],
    values: &[f32],
    len: usize,
    stride: usize,
    off: usize,
    scores: &mut Vec<f32>,
    out: &mut [f32],
) {
    let d = q.len();
    let scale = 1.0 / (d as f32).sqrt();
    scores.clear();
    for p in 0..len {
        let k = &keys[p * stride + off..p * stride + off + d];
        scores.push(dot_f32(q, k) * scale);
    }
    softmax(scores);
    out.iter_mut().for_each(|v| *v = 0.0);
    for (p, w) in scores.iter().enumerate() {
        let v = &values[p * stride + off..p * stride + off + d];
        for (o, x) in out.iter_mut().zip(v) {
            *o += w * x;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rms_norm_of_a_constant_is_the_weight() {
        let mut out = [0f32; 4];
        rms_norm(&[3.0; 4], &[1.0, 2.0, 3.0, 4.0], 0.0, &mut out);
        assert_eq!(out, [1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn rope_at_position_zero_is_identity_and_preserves_norm() {
        let (mut c, mut s) = (Vec::new(), Vec::new());
        rope_table(0, 4, 10000.0, 1.0, None, &mut c, &mut s);
        let mut h = [1.0, 2.0, 3.0, 4.0];
        rope(Arch::Llama, &mut h, &c, &s);
        assert_eq!(h, [1.0, 2.0, 3.0, 4.0]);
        rope_table(7, 4, 10000.0, 1.0, Some(&[1.0, 8.0]), &mut c, &mut s);
        rope(Arch::Qwen2, &mut h, &c, &s);
        let n: f32 = h.iter().map(|v| v * v).sum();
        assert!((n - 30.0).abs() < 1e-4);
        // Pair 0 turned by 7 radians; pair 1 by 7 * 10000^-0.5 / 8.
        assert!(
            (c[0] - 7f32.cos()).abs() < 1e-6 && (c[1] - (7.0f32 / 100.0 / 8.0).cos()).abs() < 1e-6
        );
    }

    #[test]
    fn softmax_sums_to_one_and_survives_all_minus_infinity() {
        let mut x = [1.0, 2.0, 3.0];
        softmax(&mut x);
        assert!((x.iter().sum::<f32>() - 1.0).abs() < 1e-6 && x[2] > x[1]);
        let mut y = [f32::NEG_INFINITY; 2];
        softmax(&mut y);
        assert_eq!(y, [0.0, 0.0]);
    }
}
