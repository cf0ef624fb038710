use super::*;

fn run(stop: &[&str], tokens: &[&[u8]]) -> (Vec<String>, String, bool) {
    let stop: Vec<String> = stop.iter().map(|s| s.to_string()).collect();
    let mut t = StopText::new(&stop);
    let mut pieces = Vec::new();
    let mut stopped = false;
    for tok in tokens {
        let (piece, s) = t.push(tok);
        if !piece.is_empty() {
            pieces.push(piece);
        }
        if s {
            stopped = true;
            break;
        }
    }
    if !stopped {
        let rest = t.flush();
        if !rest.is_empty() {
            pieces.push(rest);
        }
    }
    (pieces, t.into_text(), stopped)
}

#[test]
fn a_stop_string_split_across_tokens_ends_the_text_before_it() {
    let (pieces, text, stopped) = run(
        &["\nUser:"],
        &[b"Hello", b" there", b"\nUs", b"er:", b" more"],
    );
    assert!(stopped);
    assert_eq!(text, "Hello there");
    assert_eq!(pieces.concat(), "Hello there");
    // "\nUs" was held back until it was known to be the stop string.
    assert!(!pieces.iter().any(|p| p.contains("\nUs")), "{pieces:?}");
}

#[test]
fn held_back_text_that_is_not_a_stop_string_is_released() {
    let (pieces, text, stopped) = run(&["STOP"], &[b"a S", b"TO", b"p", b"!"]);
    assert!(!stopped);
    assert_eq!(text, "a STOp!");
    assert_eq!(pieces.concat(), "a STOp!");
}

#[test]
fn characters_split_across_tokens_are_sent_whole() {
    // "é" is C3 A9; "日" is E6 97 A5.
    let (pieces, text, _) = run(&[], &[b"caf\xc3", b"\xa9 \xe6", b"\x97", b"\xa5"]);
    assert_eq!(text, "café 日");
    assert!(pieces.iter().all(|p| !p.contains('\u{fffd}')), "{pieces:?}");
    // Bytes that can never be UTF-8 are replaced, not held forever; a cut character at the
    // end is replaced when the completion ends.
    let (_, text, _) = run(&[], &[b"a\xff", b"b\xe6\x97"]);
    assert_eq!(text, "a\u{fffd}b\u{fffd}");
}
