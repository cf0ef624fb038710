//! Quantised matrix-vector products: the integer Q8_0-activation path and the block-wise
//! f32 path against a naive one (dequantise the whole row into a Vec, then dot).
#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is the failure report

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use inference::quant::{dequantize, dot_row, quantize_q8_0, GgmlType, Q8_0Vec};

const COLS: usize = 4096;
const ROWS: usize = 256;

/// Random-looking blocks with finite f16 scales (0x2c00 = 0.0625 region).
fn rows(ty: GgmlType) -> Vec<u8> {
    let bytes = ROWS * COLS / ty.block_len() * ty.block_bytes();
    let mut state = 0x1234_5678u32;
    let mut out: Vec<u8> = (0..bytes)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect();
    for b in out.chunks_exact_mut(ty.block_bytes()) {
        match ty {
            GgmlType::Q6K => b[208..210].copy_from_slice(&0x2c00u16.to_le_bytes()),
            _ => {
                b[0..2].copy_from_slice(&0x2c00u16.to_le_bytes());
                if matches!(ty, GgmlType::Q4_1 | GgmlType::Q4K | GgmlType::Q5K) {
                    b[2..4].copy_from_slice(&0x2c00u16.to_le_bytes());
                }
            }
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let x: Vec<f32> = (0..COLS)
        .map(|i| ((i * 31 % 97) as f32 - 48.0) / 48.0)
        .collect();
    let mut xq = Q8_0Vec::default();
    quantize_q8_0(&x, &mut xq);
    let mut g = c.benchmark_group("matvec_256x4096");
    g.throughput(Throughput::Elements((ROWS * COLS) as u64));
    for ty in [
        GgmlType::Q4_0,
        GgmlType::Q4_1,
        GgmlType::Q8_0,
        GgmlType::Q4K,
        GgmlType::Q6K,
    ] {
        let w = rows(ty);
        let rb = COLS / ty.block_len() * ty.block_bytes();
        if xq.dot(ty, &w[..rb]).is_some() {
            g.bench_function(format!("{ty:?}/int8"), |b| {
                b.iter(|| {
                    w.chunks_exact(rb)
                        .map(|r| xq.dot(ty, r).unwrap())
                        .sum::<f32>()
                })
            });
        }
        g.bench_function(format!("{ty:?}/f32_blocks"), |b| {
            b.iter(|| w.chunks_exact(rb).map(|r| dot_row(ty, r, &x)).sum::<f32>())
        });
        g.bench_function(format!("{ty:?}/naive"), |b| {
            b.iter(|| {
                w.chunks_exact(rb)
                    .map(|r| {
                        let mut row = vec![0f32; COLS];
                        dequantize(ty, r, &mut row).unwrap();
                        row.iter().zip(&x).map(|(a, b)| a * b).sum::<f32>()
                    })
                    .sum::<f32>()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
