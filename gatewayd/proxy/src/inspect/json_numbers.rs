//! A card split over JSON *numbers*: `{"a":4556,"b":7375,"c":8689,"d":9855}` is one card to
//! whoever reads the members together, but the walk writes each number on its own line with
//! its key between (`a`, `4556`, `b`, `7375`...), where no number runs on. This module appends
//! the runs of neighbouring integer members that are grouped as a card is printed (4-4-4-x,
//! 4-6-5, 4-6-4, 8-8, or 13 to 19 single digits), joined with a blank, a line each, for the
//! card detector to check (Luhn, issuer).
//!
//! Arrays are not joined here: the walk already writes an array's numbers one a line, which
//! the detector reads as one number when the whole array is one (`[4556, 7375, 8689, 9855]`).
//! Only card-grouped runs are written, never every pair of numbers (a bounding box or a user id
//! next to a timestamp must not become a card), and what is appended is never longer than the
//! body: bounded by the caller's byte budget. Must never repeat anything but the digits.

/// One integer member value of the walk: where its digits lie in the walk's output, and its
/// position among all values (neighbours are consecutive positions).
#[derive(Debug, Clone, Copy)]
pub(super) struct IntMember {
    pub from: usize,
    pub to: usize,
    pub ordinal: usize,
}

/// Appends to `out` each run of neighbouring members of `ints` grouped like a card, joined
/// with a blank, as long as the total appended stays within `budget` bytes.
pub(super) fn join_numbers(out: &mut Vec<u8>, ints: &[IntMember], budget: usize) {
    let limit = out.len().saturating_add(budget);
    for k in 0..ints.len() {
        // The longest run of neighbours from `k` that a card could be (19 digits at most).
        let mut lens: Vec<usize> = Vec::new();
        let mut digits = 0;
        for (j, m) in ints[k..].iter().enumerate() {
            if j > 0 && m.ordinal != ints[k + j - 1].ordinal + 1 {
                break;
            }
            digits += m.to - m.from;
            if digits > 19 {
                break;
            }
            lens.push(m.to - m.from);
        }
        // No issuer's cards start with 0, 1, 7, 8 or 9.
        let first = out.get(ints[k].from).copied().unwrap_or(b'0');
        if !(b'2'..=b'6').contains(&first) {
            continue;
        }
        for n in 2..=lens.len() {
            if !card_grouped(&lens[..n]) {
                continue;
            }
            let need = lens[..n].iter().sum::<usize>() + n + 2;
            if out.len() + need > limit {
                return;
            }
            // A blank line first: two line breaks end a number.
            out.push(b'\n');
            for (i, m) in ints[k..k + n].iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                out.extend_from_within(m.from..m.to);
            }
            out.push(b'\n');
        }
    }
}

/// Whether groups of these lengths are how a card is written (the detector's groupings of
/// more than one group).
fn card_grouped(lens: &[usize]) -> bool {
    if lens.len() >= 13 && lens.iter().all(|l| *l == 1) {
        return true;
    }
    match lens {
        [4, 6, 5] | [4, 6, 4] | [8, 8] => true,
        [a, b, c, last] => [a, b, c].iter().all(|g| **g == 4) && (1..=4).contains(last),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::inspect::json::json_text;

    #[test]
    fn a_card_over_numeric_members_is_joined() {
        let out = json_text(br#"{"a":4556,"b":7375,"c":8689,"d":9855}"#);
        assert!(
            out.text.contains("\n\n4556 7375 8689 9855\n"),
            "{}",
            out.text
        );
        let digits: Vec<String> = "4556737586899855"
            .chars()
            .enumerate()
            .map(|(i, c)| format!("\"d{i}\":{c}"))
            .collect();
        let out = json_text(format!("{{\"x\":12,{}}}", digits.join(",")).as_bytes());
        assert!(
            out.text.contains("\n4 5 5 6 7 3 7 5 8 6 8 9 9 8 5 5\n"),
            "{}",
            out.text
        );
        let out = json_text(br#"{"id":7,"a":4556,"b":737586,"c":89985}"#);
        assert!(out.text.contains("\n4556 737586 89985\n"), "{}", out.text);
    }

    #[test]
    fn other_numbers_are_not_joined() {
        for body in [
            // Not neighbours: a string between.
            &br#"{"a":4556,"b":7375,"s":"x","c":8689,"d":9855}"#[..],
            // Not grouped like a card: a user id and a timestamp, a box of small numbers.
            br#"{"user":412345,"created":1733580000}"#,
            br#"{"x":412,"y":300,"w":512,"h":384}"#,
            // Floats and negatives are not card groups.
            br#"{"a":4556.5,"b":-7375,"c":8689,"d":9855}"#,
            // Arrays are left as the walk writes them.
            br#"[4556, 7375, 1, 8689, 9855]"#,
        ] {
            let out = json_text(body);
            assert!(!out.text.contains("\n\n"), "{}", out.text);
        }
    }

    #[test]
    fn what_is_appended_stays_within_the_body() {
        let body = format!(
            "{{{}}}",
            (0..5000)
                .map(|i| format!("\"k{i}\":1"))
                .collect::<Vec<_>>()
                .join(",")
        );
        let out = json_text(body.as_bytes());
        assert!(out.text.len() <= 3 * body.len(), "{}", out.text.len());
    }
}
