//! Numbers in JSON as AI traffic carries them (embedding vectors, token ids, coordinates,
//! timestamps, bounding boxes, price lists, table rows): none may be taken for a card now that
//! numeric tokens are read together (issue 17). And the positives they must not hide: a card
//! as a list of its groups, or base64 of non-ASCII text, of base64, of gzip.

use super::{negative, positive, Case};
use base64::Engine;
use dlp::samples::{Sample, SampleRng};
use std::io::Write;

fn list(values: impl Iterator<Item = String>) -> String {
    values.collect::<Vec<_>>().join(", ")
}

/// Realistic numeric JSON bodies, `n` of each kind.
pub fn negatives(rng: &mut SampleRng, n: usize) -> Vec<Case> {
    let mut out = Vec::new();
    for _ in 0..n {
        let embedding = list((0..256).map(|_| {
            let v = (rng.next_u64() % 2_000_000) as f64 / 1e8 - 0.01;
            format!("{v:.10}")
        }));
        out.push(negative(
            "embedding vector",
            format!(r#"{{"object":"embedding","index":0,"embedding":[{embedding}]}}"#),
        ));
        let tokens = list((0..300).map(|_| rng.below(100_257).to_string()));
        out.push(negative(
            "token ids",
            format!(r#"{{"model":"gpt-4o","prompt":[{tokens}],"max_tokens":64}}"#),
        ));
        let coords = list((0..40).map(|_| {
            format!(
                "[{:.6}, {:.6}]",
                (rng.next_u64() % 360_000_000) as f64 / 1e6 - 180.0,
                (rng.next_u64() % 180_000_000) as f64 / 1e6 - 90.0
            )
        }));
        out.push(negative(
            "GeoJSON coordinates",
            format!(r#"{{"type":"LineString","coordinates":[{coords}]}}"#),
        ));
        let start = 1_700_000_000 + rng.below(50_000_000) as u64;
        let seconds = list((0..50).map(|k| (start + 60 * k).to_string()));
        let millis =
            list((0..50).map(|k| ((start + k) * 1000 + rng.below(1000) as u64).to_string()));
        out.push(negative(
            "timestamps",
            format!(r#"{{"t":[{seconds}],"t_ms":[{millis}]}}"#),
        ));
        // Boxes on an 8K frame: four numbers of four digits, some starting with 4 or 5.
        let boxes = list((0..20).map(|_| {
            let (x, y) = (rng.below(6000), rng.below(3600));
            format!(
                "[{x}, {y}, {}, {}]",
                x + 100 + rng.below(1500),
                y + 100 + rng.below(600)
            )
        }));
        out.push(negative(
            "bounding boxes",
            format!(r#"{{"detections":{{"boxes":[{boxes}]}}}}"#),
        ));
        let prices = list((0..4).map(|_| (999 + rng.below(9000)).to_string()));
        out.push(negative(
            "prices in cents",
            format!(r#"{{"sku":"A-{}","tiers":[{prices}]}}"#, rng.below(999)),
        ));
        let row = list((0..6).map(|_| rng.below(100_000).to_string()));
        out.push(negative("a table row", format!("[{row}]")));
    }
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(bytes).unwrap();
    z.finish().unwrap()
}

/// A card written as a list of its groups, and in nested or non-ASCII encodings.
pub fn positives(rng: &mut SampleRng, n: usize) -> Vec<Case> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut out = Vec::new();
    for _ in 0..n {
        let card = loop {
            let c: String = Sample::CreditCard
                .generate(rng)
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            if c.len() == 16 {
                break c;
            }
        };
        let groups: Vec<&str> = (0..4).map(|k| &card[4 * k..4 * k + 4]).collect();
        out.push(positive(
            "card as a list of its groups",
            "credit_card",
            "my card is ",
            &groups.join(", "),
            " thanks",
        ));
        let spaced = groups.join(" ");
        let utf16: Vec<u8> = format!("номер карты {spaced}")
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        for (name, run) in [
            ("base64 of UTF-16", b64.encode(&utf16)),
            (
                "base64 of Cyrillic and a card",
                b64.encode(format!("карта {spaced} до 12/29")),
            ),
            (
                "base64 of base64",
                b64.encode(b64.encode(format!("card {spaced}"))),
            ),
            (
                "base64 of gzip",
                b64.encode(gzip(format!("pay {spaced}").as_bytes())),
            ),
        ] {
            out.push(positive(name, "credit_card", r#"{"file":""#, &run, r#""}"#));
        }
    }
    out
}
