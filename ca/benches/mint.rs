//! Leaf minting cost (a cache miss) against a cache hit: what a new intercepted host costs.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use ca::{Authority, LeafCache, LeafIssuer, ServerIdentity};
use criterion::{criterion_group, criterion_main, Criterion};

fn bench_mint(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (authority, _) = Authority::load_or_create(dir.path()).expect("CA");
    let issuer = LeafIssuer::new(authority);
    let host = ServerIdentity::parse("bench.example.com").expect("host");
    c.bench_function("leaf_mint_p256", |b| {
        b.iter(|| issuer.mint(&host).expect("mint"))
    });
    let (authority, _) = Authority::load_or_create(dir.path()).expect("CA");
    let cache = LeafCache::new(LeafIssuer::new(authority), 1024);
    cache.leaf_for(&host).expect("warm");
    c.bench_function("leaf_cache_hit", |b| {
        b.iter(|| cache.leaf_for(&host).expect("hit"))
    });
}

criterion_group!(benches, bench_mint);
criterion_main!(benches);
