//! Row types for the tables the gateway writes, serialised as RowBinary by the `clickhouse`
//! crate. Field names are column names; a test checks each type against its table.
//!
//! Times are `DateTime('UTC')` columns: seconds since the Unix epoch as `u32`
//! (see [`unix_seconds`]). Strings that come from requests are bounded by the writer
//! ([`bounded`]) so one row can never grow without limit.

mod ai_request;
mod app_status_change;
mod dlp_finding;
mod http_event;

pub use ai_request::{AiRequest, AI_TEXT_MAX_BYTES};
pub use app_status_change::AppStatusChange;
pub use dlp_finding::{DlpFinding, SNIPPET_MAX_BYTES};
pub use http_event::{HttpEvent, AUDIT_PROMPT_MAX_BYTES, PATH_MAX_BYTES};

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch for a `DateTime` column. Times before 1970 become 0 and times
/// after 2106 saturate, the range the column type can hold.
pub fn unix_seconds(at: SystemTime) -> u32 {
    let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    u32::try_from(secs).unwrap_or(u32::MAX)
}

/// `text` cut to at most `max` bytes on a character boundary.
pub fn bounded(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bounded_cuts_on_char_boundary() {
        assert_eq!(bounded("héllo", 2), "h");
        assert_eq!(bounded("héllo", 3), "hé");
        assert_eq!(bounded("abc", 10), "abc");
        assert_eq!(bounded("abc", 0), "");
    }

    #[test]
    fn unix_seconds_clamps() {
        assert_eq!(unix_seconds(UNIX_EPOCH), 0);
        assert_eq!(
            unix_seconds(UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
            1_700_000_000
        );
        assert_eq!(
            unix_seconds(UNIX_EPOCH + Duration::from_secs(1 << 40)),
            u32::MAX
        );
    }
}
