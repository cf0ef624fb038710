//! The security team's TOML files: the shipped policy and examples, and the shipped catalog,
//! damaged line by line and byte by byte.

use proptest::prelude::*;
use warden_fuzz::toml_sources::{catalog_toml, policy_toml};

use crate::mutate::damaged;

fn policies() -> Vec<Vec<u8>> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies");
    let mut texts = vec![std::fs::read(format!("{root}/default-policy.toml")).unwrap()];
    for entry in std::fs::read_dir(format!("{root}/examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            texts.push(std::fs::read(path).unwrap());
        }
    }
    texts
}

/// Valid text with lines dropped, swapped or repeated, then damaged bytes.
fn reshuffled(texts: Vec<Vec<u8>>) -> impl Strategy<Value = String> {
    (
        prop::sample::select(texts),
        prop::collection::vec((any::<usize>(), any::<usize>(), 0u8..3), 0..4),
    )
        .prop_flat_map(|(text, moves)| {
            let text = String::from_utf8(text).unwrap();
            let mut lines: Vec<&str> = text.lines().collect();
            for (a, b, kind) in moves {
                let n = lines.len().max(1);
                let (a, b) = (a % n, b % n);
                match kind {
                    0 if a < lines.len() => {
                        lines.remove(a);
                    }
                    1 if a < lines.len() && b < lines.len() => lines.swap(a, b),
                    _ if a < lines.len() => lines.insert(b % (lines.len() + 1), lines[a]),
                    _ => {}
                }
            }
            damaged(lines.join("\n").into_bytes())
        })
        .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

proptest! {
    #![proptest_config(crate::config(256))]

    #[test]
    fn a_damaged_policy_loads_or_says_where_it_is_wrong(text in reshuffled(policies())) {
        policy_toml(&text);
    }

    #[test]
    fn a_damaged_catalog_loads_or_says_where_it_is_wrong(
        text in reshuffled(
            policies::Catalog::embedded_sources()
                .iter()
                .map(|(_, text)| text.as_bytes().to_vec())
                .collect(),
        ),
    ) {
        catalog_toml(&text);
    }
}

#[test]
fn the_shipped_files_load() {
    for text in policies() {
        assert!(policy_toml(std::str::from_utf8(&text).unwrap()));
    }
    for (_, text) in policies::Catalog::embedded_sources() {
        assert!(catalog_toml(text));
    }
}
