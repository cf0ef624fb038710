//! Dequantisation against the `gguf` package's values (testdata/quant_refs.txt) and both dot
//! product paths against a plain f64 dot product of the dequantised row.

use super::super::{dequantize, GgmlType};
use super::*;

const REFS: &str = include_str!("../../../testdata/quant_refs.txt");

fn ty(name: &str) -> GgmlType {
    match name {
        "F32" => GgmlType::F32,
        "F16" => GgmlType::F16,
        "BF16" => GgmlType::BF16,
        "Q4_0" => GgmlType::Q4_0,
        "Q4_1" => GgmlType::Q4_1,
        "Q8_0" => GgmlType::Q8_0,
        "Q4_K" => GgmlType::Q4K,
        "Q5_K" => GgmlType::Q5K,
        "Q6_K" => GgmlType::Q6K,
        other => panic!("unknown type {other}"),
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn cases() -> Vec<(GgmlType, Vec<u8>, Vec<f32>)> {
    let lines: Vec<&str> = REFS.lines().collect();
    lines
        .chunks_exact(2)
        .map(|pair| {
            let (name, bytes) = pair[0].split_once(' ').unwrap();
            let vals = pair[1]
                .split(' ')
                .map(|h| f32::from_bits(u32::from_str_radix(h, 16).unwrap()))
                .collect();
            (ty(name), hex(bytes), vals)
        })
        .collect()
}

fn close(a: f32, b: f32, rel: f32) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-3)
}

#[test]
fn dequantisation_matches_the_gguf_package() {
    let cases = cases();
    assert_eq!(cases.len(), 9, "one case per type");
    for (ty, bytes, want) in cases {
        let mut got = vec![0f32; want.len()];
        dequantize(ty, &bytes, &mut got).unwrap();
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(close(*g, *w, 1e-6), "{ty:?} value {i}: {g} != {w}");
        }
    }
}

#[test]
fn dequantise_refuses_mismatched_lengths() {
    let mut out = [0f32; 32];
    assert!(dequantize(GgmlType::Q8_0, &[0; 33], &mut out).is_err());
    assert!(dequantize(GgmlType::Q4K, &[0; 144], &mut out).is_err());
}

fn xs(n: usize) -> Vec<f32> {
    // Deterministic, varied signs and magnitudes.
    (0..n)
        .map(|i| ((i * 7919 % 211) as f32 / 105.0 - 1.0) * (1.0 + (i % 5) as f32))
        .collect()
}

#[test]
fn dot_row_equals_dequantise_then_dot() {
    for (ty, bytes, want) in cases() {
        let x = xs(want.len());
        let exact: f64 = want
            .iter()
            .zip(&x)
            .map(|(a, b)| *a as f64 * *b as f64)
            .sum();
        let norm: f64 = want
            .iter()
            .zip(&x)
            .map(|(a, b)| (*a as f64 * *b as f64).abs())
            .sum();
        let got = dot_row(ty, &bytes, &x) as f64;
        assert!(
            (got - exact).abs() <= 1e-5 * norm.max(1.0),
            "{ty:?}: {got} vs {exact}"
        );
    }
}

#[test]
fn integer_dot_is_within_q8_rounding_of_the_f32_dot() {
    let mut q = Q8_0Vec::default();
    for (ty, bytes, want) in cases() {
        let x = xs(want.len());
        quantize_q8_0(&x, &mut q);
        let got = q.dot(ty, &bytes);
        if !matches!(ty, GgmlType::Q4_0 | GgmlType::Q4_1 | GgmlType::Q8_0) {
            assert!(got.is_none());
            continue;
        }
        let got = got.unwrap() as f64;
        let exact: f64 = want
            .iter()
            .zip(&x)
            .map(|(a, b)| *a as f64 * *b as f64)
            .sum();
        // Each activation moves by at most half a step (amax/254) of its block.
        let bound: f64 = want
            .chunks(32)
            .zip(x.chunks(32))
            .map(|(w, xb)| {
                let amax = xb.iter().fold(0f32, |m, v| m.max(v.abs())) as f64;
                w.iter().map(|v| v.abs() as f64).sum::<f64>() * amax / 254.0
            })
            .sum();
        assert!(
            (got - exact).abs() <= bound * 1.01 + 1e-4,
            "{ty:?}: {got} vs {exact} (bound {bound})"
        );
    }
}

#[test]
fn f32_dot_handles_tails() {
    let a: Vec<f32> = (0..13).map(|i| i as f32).collect();
    assert_eq!(
        dot_f32(&a, &a),
        (0..13).map(|i| (i * i) as f32).sum::<f32>()
    );
}
