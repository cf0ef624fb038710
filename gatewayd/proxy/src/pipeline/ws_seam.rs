//! The seam between two WebSocket messages: a card sent as `4556 7375` in one message and
//! `8689 9855` in the next is whole only where they meet. What a scan reads there is the end
//! of the last data message's text and the start of this one's, joined with a blank and
//! without one (a number cut between two groups, and one cut inside a group). Both ends are
//! [`SEAM`] bytes at most, cut on character boundaries: the seam costs a scan of a few hundred
//! bytes whatever the messages' size. Must never keep more of a message than [`SEAM`] bytes.
//!
//! A number sent over three or more messages (`4556`, `7375`, `8689`, `9855`, or a digit a
//! message) is whole in no seam of two: [`Window`] keeps the tail of the last messages joined
//! (with blanks, and without), [`SEAM`] bytes of each, so the seam with the next message
//! reaches back over as many short messages as fit.

/// Bytes kept of each side: more than a 19-digit card written with separators.
pub(crate) const SEAM: usize = 48;

/// The last [`SEAM`] bytes of `text` (from a character boundary).
fn tail(text: &str) -> &str {
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

/// The tails of the last messages of one direction, joined with a blank and without one.
#[derive(Debug, Default)]
pub(crate) struct Window {
    spaced: String,
    tight: String,
}

impl Window {
    /// What a scan reads between the window and `next` (empty before the first message);
    /// then `next` joins the window.
    pub(crate) fn push(&mut self, next: &str) -> String {
        let seam = if self.spaced.is_empty() {
            String::new()
        } else {
            let head = head(next);
            format!("{} {head}\n\n{}{head}\n", self.spaced, self.tight)
        };
        self.spaced = if self.spaced.is_empty() {
            tail(next).to_owned()
        } else {
            tail(&format!("{} {}", self.spaced, tail(next))).to_owned()
        };
        self.tight = tail(&format!("{}{}", self.tight, tail(next))).to_owned();
        seam
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_split_over_two_messages_is_whole_in_the_seam() {
        let seam = |a: &str, b: &str| {
            let mut w = Window::default();
            w.push(a);
            w.push(b)
        };
        let s = seam("my card is 4556 7375", "8689 9855 thanks");
        assert!(s.contains("4556 7375 8689 9855"), "{s}");
        let s = seam("4556737", "586899855");
        assert!(s.contains("4556737586899855"), "{s}");
        assert_eq!(Window::default().push("x"), "");
        let long = "é".repeat(100);
        let mut w = Window::default();
        assert_eq!(w.push(&long), "");
        assert!(w.spaced.len() <= SEAM && w.tight.len() <= SEAM);
        assert!(tail(&long).len() <= SEAM && head(&long).len() <= SEAM);
    }

    #[test]
    fn a_number_over_many_messages_is_whole_in_the_last_seam() {
        let mut w = Window::default();
        let seams: Vec<String> = ["my card", "4556", "7375", "8689", "9855"]
            .iter()
            .map(|m| w.push(m))
            .collect();
        assert!(seams[4].contains("4556 7375 8689 9855"), "{seams:?}");
        let mut w = Window::default();
        let last = "4556737586899855"
            .chars()
            .fold(String::new(), |_, c| w.push(&c.to_string()));
        assert!(last.contains("4556737586899855"), "{last}");
        assert!(last.contains("4 5 5 6 7 3 7 5 8 6 8 9 9 8 5 5"), "{last}");
        // Bounded: the window never holds more than SEAM bytes of each join.
        for _ in 0..1000 {
            w.push("hello there, another message of chat");
        }
        assert!(w.spaced.len() <= SEAM && w.tight.len() <= SEAM);
    }
}
