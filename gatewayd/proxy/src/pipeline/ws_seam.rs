//! The seam between two WebSocket messages: a card sent as `4556 7375` in one message and
//! `8689 9855` in the next is whole only where they meet. What a scan reads there is the end
//! of the last data message's text and the start of this one's, joined with a blank and
//! without one (a number cut between two groups, and one cut inside a group). Both ends are
//! [`SEAM`] bytes at most, cut on character boundaries: the seam costs a scan of a few hundred
//! bytes whatever the messages' size. Must never keep more of a message than [`SEAM`] bytes.

/// Bytes kept of each side: more than a 19-digit card written with separators.
pub(crate) const SEAM: usize = 48;

/// The last [`SEAM`] bytes of `text` (from a character boundary).
pub(crate) fn tail(text: &str) -> &str {
    let mut from = text.len().saturating_sub(SEAM);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    &text[from..]
}

/// The first [`SEAM`] bytes of `text` (to a character boundary).
fn head(text: &str) -> &str {
    let mut to = SEAM.min(text.len());
    while !text.is_char_boundary(to) {
        to -= 1;
    }
    &text[..to]
}

/// What a scan reads between the last message's `tail` and `next`; empty without a tail.
pub(crate) fn seam(tail: &str, next: &str) -> String {
    if tail.is_empty() {
        return String::new();
    }
    let head = head(next);
    // Two line breaks between the joins: a number ends there.
    format!("{tail} {head}\n\n{tail}{head}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_split_over_two_messages_is_whole_in_the_seam() {
        let s = seam(tail("my card is 4556 7375"), "8689 9855 thanks");
        assert!(s.contains("4556 7375 8689 9855"), "{s}");
        let s = seam(tail("4556737"), "586899855");
        assert!(s.contains("4556737586899855"), "{s}");
        assert_eq!(seam("", "x"), "");
        let long = "é".repeat(100);
        assert!(tail(&long).len() <= SEAM && head(&long).len() <= SEAM);
    }
}
