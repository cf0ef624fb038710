//! Tests of exact data match: normalisation, columns, salts, and refusals of bad input.

use super::*;

const SALT: &[u8] = b"per-deployment-salt-0001";

fn spans(set: &EdmSet, text: &str) -> Vec<String> {
    set.find(text.as_bytes())
        .into_iter()
        .map(|(s, e)| text[s..e].to_owned())
        .collect()
}

#[test]
fn values_match_in_any_spelling() {
    let csv = "name,account,notes\nJane Q. Doe,DE-4471-0093,vip\n\"Müller, Jörg\",7731 0042,\n";
    let set = EdmSet::from_csv("customers", csv, SALT, &EdmOptions::default()).unwrap();
    assert_eq!(set.len(), 4); // "vip" is too short
    assert_eq!(set.skipped(), 1);
    let text = "Escalation for jane q doe (acct de 4471 0093) and JÖRG MÜLLER? No: müller jörg.";
    assert_eq!(
        spans(&set, text),
        ["jane q doe", "de 4471 0093", "müller jörg"]
    );
}

#[test]
fn columns_pick_what_is_sensitive() {
    let csv = "name,city\nAda Lovelace,London\n";
    let opts = EdmOptions {
        columns: Some(vec!["name".into()]),
        ..EdmOptions::default()
    };
    let set = EdmSet::from_csv("people", csv, SALT, &opts).unwrap();
    assert_eq!(
        spans(&set, "Ada Lovelace lived in London"),
        ["Ada Lovelace"]
    );
    let bad = EdmOptions {
        columns: Some(vec!["email".into()]),
        ..EdmOptions::default()
    };
    let err = EdmSet::from_csv("people", csv, SALT, &bad).unwrap_err();
    assert!(err.to_string().contains("no column `email`"), "{err}");
}

#[test]
fn only_hashes_are_kept() {
    let set =
        EdmSet::from_values("s", ["Project Nightingale"], SALT, &EdmOptions::default()).unwrap();
    let shown = format!("{set:?}");
    assert!(!shown.to_lowercase().contains("nightingale"), "{shown}");
    // A different salt gives different hashes: the same text no longer matches.
    let other = EdmSet::from_values(
        "s",
        ["Project Nightingale"],
        b"another-salt-value-xyz",
        &EdmOptions::default(),
    )
    .unwrap();
    assert!(set.hashes.is_disjoint(&other.hashes));
}

#[test]
fn bad_input_is_refused() {
    assert!(EdmSet::from_values("s", ["x"], b"short", &EdmOptions::default()).is_err());
    let err = EdmSet::from_csv("s", "a\n\"open", SALT, &EdmOptions::default()).unwrap_err();
    assert!(err.to_string().contains(":2:"), "{err}");
    assert_eq!(normalize("  --  "), None);
    assert_eq!(normalize("A-b  C"), Some(("a b c".to_owned(), 3)));
}
