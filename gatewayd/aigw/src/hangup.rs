//! The usage of a stream whose caller hung up (or whose provider cut it) before it ended:
//! what the provider reported so far (Anthropic's `message_start` gives the input and a first output count; OpenAI reports
//! nothing until its last chunk), and for the output, when more deltas were relayed than the
//! provider had counted, the deltas relayed — flagged `counted` so the row says the number is
//! the gateway's, not the provider's (and the cost is then `usage_suspect`, or unknown when
//! the provider reported nothing at all).
//!
//! Never: mark counted tokens as reported.

use crate::dialect::{Usage, UsageFlags, MAX_TOKENS};

/// `reported` completed with the `deltas` relayed.
pub fn usage(reported: Usage, deltas: u64) -> Usage {
    let mut usage = reported;
    let counted = deltas.min(MAX_TOKENS);
    if counted > usage.output {
        usage.output = counted;
        usage.flags.insert(UsageFlags::COUNTED);
    }
    usage
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reported_tokens_are_kept_and_missing_output_is_counted_and_flagged() {
        // OpenAI: nothing reported before the hang-up.
        let counted = usage(Usage::default(), 7);
        assert_eq!((counted.output, counted.reported), (7, false));
        assert_eq!(counted.flags.names(), ["counted"]);
        // Anthropic: message_start's input and first output count, then 5 deltas.
        let start = Usage {
            input: 23,
            output: 1,
            reported: true,
            ..Usage::default()
        };
        let got = usage(start, 5);
        assert_eq!((got.input, got.output, got.reported), (23, 5, true));
        assert_eq!(got.flags.names(), ["counted"]);
        // The provider's count, when higher, stands unflagged.
        let whole = Usage {
            output: 9,
            reported: true,
            ..Usage::default()
        };
        assert_eq!(usage(whole, 4), whole);
    }
}
