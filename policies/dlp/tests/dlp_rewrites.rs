#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Rewrites of a card that a person still reads as the card (attack review, item 3): each is
//! found, over the bytes that carry it, and near-misses stay clean.

use dlp::DlpEngine;

const CARD: &str = "4556737586899855";

/// `(start, end)` of each credit-card finding of the `financial` profile in `text`.
fn cards(text: &str) -> Vec<(usize, usize)> {
    let engine = DlpEngine::shipped().unwrap();
    engine
        .scan_profile("financial", text)
        .unwrap()
        .findings
        .iter()
        .filter(|f| f.detector == "credit_card")
        .map(|f| (f.start, f.end))
        .collect()
}

fn whole(text: &str, inner: &str) -> Vec<(usize, usize)> {
    let at = text.find(inner).unwrap();
    vec![(at, at + inner.len())]
}

#[test]
fn other_separators_and_one_digit_at_a_time() {
    for card in [
        "4556/7375/8689/9855",
        "4556_7375_8689_9855",
        "4 5 5 6 7 3 7 5 8 6 8 9 9 8 5 5",
    ] {
        let text = format!("pay with {card} today");
        assert_eq!(cards(&text), whole(&text, card), "{card}");
    }
}

#[test]
fn unicode_digits_fold_to_ascii() {
    let full_width: String = CARD
        .chars()
        .map(|c| char::from_u32(0xFF10 + c.to_digit(10).unwrap()).unwrap())
        .collect();
    let arabic: String = CARD
        .chars()
        .map(|c| char::from_u32(0x0660 + c.to_digit(10).unwrap()).unwrap())
        .collect();
    let bold: String = CARD
        .chars()
        .map(|c| char::from_u32(0x1D7CE + c.to_digit(10).unwrap()).unwrap())
        .collect();
    let mixed = "４556 ７375 8689 9855";
    for card in [&full_width[..], &arabic, &bold, mixed] {
        let text = format!("card: {card}.");
        assert_eq!(cards(&text), whole(&text, card), "{card}");
    }
}

#[test]
fn html_character_references_are_read_as_digits() {
    for card in [
        "&#52;556 7375 8689 9855",
        "&#x34;&#x35;&#53;&#54;&#32;7375 8689 9855",
        "&#52;&#53;&#53;&#54;&#55;&#51;&#55;&#53;&#56;&#54;&#56;&#57;&#57;&#56;&#53;&#53;",
    ] {
        let text = format!("<p>{card}</p>");
        assert_eq!(cards(&text), whole(&text, card), "{card}");
    }
    // References of other characters, and broken ones, stay what they are.
    assert!(cards("&#52 556 7375 8689 9855").is_empty());
    assert!(cards("&amp;&#60;&#x;&#+52;").is_empty());
}

#[test]
fn base64_of_a_card_is_found_over_the_run() {
    let text = "payload NDU1NiA3Mzc1IDg2ODkgOTg1NQ== end";
    assert_eq!(cards(text), whole(text, "NDU1NiA3Mzc1IDg2ODkgOTg1NQ=="));
    let url = "data:text/plain;base64,NDU1NjczNzU4Njg5OTg1NQ==";
    assert_eq!(cards(url).len(), 1);
}

#[test]
fn near_misses_stay_clean() {
    for text in [
        "4556/7375/8689/9856",           // Luhn fails
        "see 2024/12/07 and 10/11/12",   // dates
        "path /usr/4556/7375/8689/9855", // inside a path token
        "v1_4556_7375_8689_9855",        // inside an identifier
        "1 2 3 4 5 6 7 8 9 10 11 12",    // counting
        "ＡＢＣ１２３",
        "SGVsbG8gd29ybGQsIHRoaXMgaXMgYmFzZTY0IHRleHQ=", // base64 prose
    ] {
        assert!(cards(text).is_empty(), "{text}");
    }
}

#[test]
fn a_card_behind_more_than_64_kib_of_base64_is_found() {
    use base64::Engine;
    // Review 2, finding 8: padding a run past the decoder's window hid the card in it.
    for pad in [70_000, 200_000] {
        let plain = format!(
            "{} card 4556 7375 8689 9855 end",
            "lorem ipsum ".repeat(pad / 12)
        );
        for engine in [
            &base64::engine::general_purpose::STANDARD,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ] {
            let text = format!("file {}", engine.encode(&plain));
            assert!(text.len() > 1 << 16);
            assert_eq!(cards(&text).len(), 1, "{pad}");
        }
    }
}
