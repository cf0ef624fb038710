//! A deterministic fuzz loop: random bytes, and every fixture mutated (bytes flipped, cut,
//! spliced), through `extract` and `decode_content`. Nothing may panic (the crate's panic wall
//! would turn one into an "internal error" refusal, so that is checked too) and the loop must
//! finish in bounded time.

use std::time::{Duration, Instant};

use extract::{decode_content, extract, Limits};

use crate::fixtures::{self, Rng};

fn check(bytes: &[u8], limits: &Limits) {
    let out = extract(Some("fuzz.bin"), None, bytes, limits);
    if let Some(refused) = &out.refused {
        assert!(
            !refused.reason.contains("internal error"),
            "panic inside extract: {bytes:?}"
        );
    }
    assert!(out.text.len() as u64 <= limits.max_output_bytes);
    for encoding in ["gzip", "deflate", "br", "zstd"] {
        if let Err(e) = decode_content(encoding, bytes, limits) {
            assert!(
                !e.to_string().contains("internal error"),
                "panic inside decode: {bytes:?}"
            );
        }
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let docx = fixtures::docx(&["hello", "world"]);
    vec![
        docx.clone(),
        fixtures::xlsx(&[&["a", "1"], &["b", "2"]]),
        fixtures::pptx(&["one", "two"]),
        fixtures::zip(&[("inner.docx", &docx), ("a.txt", b"text")]),
        fixtures::gzip(&fixtures::tar(&[("a.txt", b"tar text"), ("b.csv", b"a,b\n1,2\n")])),
        fixtures::zstd(b"zstd text"),
        fixtures::brotli(b"brotli text"),
        fixtures::pdf(
            &[("/Filter /FlateDecode", fixtures::zlib(b"BT /F1 9 Tf [(a)-300(b)] TJ (c) Tj ET"))],
            Some("begincmap 1 begincodespacerange <00> <FF> endcodespacerange 1 beginbfrange <00> <FF> <0041> endbfrange endcmap"),
        ),
    ]
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for _ in 0..=rng.below(8) {
        if bytes.is_empty() {
            break;
        }
        match rng.below(4) {
            0 => {
                let at = rng.below(bytes.len());
                bytes[at] = rng.next_u64() as u8;
            }
            1 => bytes.truncate(rng.below(bytes.len())),
            2 => {
                let at = rng.below(bytes.len());
                let n = rng.below(32);
                let junk = rng.bytes(n);
                bytes.splice(at..at, junk);
            }
            _ => {
                let at = rng.below(bytes.len());
                let len = rng.below(bytes.len() - at);
                bytes.drain(at..at + len);
            }
        }
    }
    bytes
}

#[test]
fn random_bytes_never_panic() {
    let limits = Limits::default();
    let mut rng = Rng::new(0x5eed);
    for i in 0..1500 {
        let len = rng.below(if i % 10 == 0 { 8192 } else { 512 });
        let mut bytes = rng.bytes(len);
        // Give some inputs a real magic number so the deeper readers run on garbage.
        let magics: [&[u8]; 6] = [
            b"PK\x03\x04",
            b"\x1f\x8b\x08\x00",
            b"%PDF-1.4\n",
            b"\x28\xb5\x2f\xfd",
            b"BT (",
            b"{\"",
        ];
        if i % 3 == 0 {
            let magic = magics[rng.below(magics.len())];
            bytes.splice(0..0, magic.iter().copied());
        }
        check(&bytes, &limits);
    }
}

#[test]
fn mutated_fixtures_never_panic_and_stay_fast() {
    let limits = Limits {
        max_output_bytes: 1 << 20,
        ..Limits::default()
    };
    let mut rng = Rng::new(42);
    let started = Instant::now();
    for seed in seeds() {
        check(&seed, &limits);
        for _ in 0..150 {
            check(&mutate(&mut rng, &seed), &limits);
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn pathological_inputs_finish_fast() {
    let repeat = |unit: &[u8], head: &[u8]| {
        let mut bytes = head.to_vec();
        while bytes.len() < 4 << 20 {
            bytes.extend_from_slice(unit);
        }
        bytes
    };
    let cases = [
        ("object headers", repeat(b"1 0 obj ", b"%PDF-1.7\n")),
        ("empty streams", repeat(b"<<>>stream\n", b"%PDF-1.7\n")),
        ("nested dicts", repeat(b"<<", b"%PDF-1.7\n")),
        (
            "font resources",
            repeat(b"1 0 obj /Font << /F1 1 0 R ", b"%PDF-1.7\n"),
        ),
        ("unclosed strings", repeat(b"BT ((((", b"%PDF-1.7\n")),
        ("zip signatures", repeat(b"PK\x05\x06", b"PK\x03\x04")),
        ("one long csv line", repeat(b"a,", b"")),
        ("deep xml", {
            let inner = repeat(b"<w:p>", b"<w:document>");
            fixtures::zip(&[("word/document.xml", &inner)])
        }),
    ];
    for (name, bytes) in cases {
        let started = Instant::now();
        let out = extract(Some("slow.bin"), None, &bytes, &Limits::default());
        assert!(out.text.len() <= 20 << 20);
        let took = started.elapsed();
        println!("{name}: {took:?}");
        assert!(took < Duration::from_secs(3), "{name} took {took:?}");
    }
}
