//! Time windows of counters, in whole UTC seconds since the epoch: calendar days and months
//! (the periods `ai_requests` rows are summed over when counters are rebuilt), fixed minutes
//! and hours for rate limits, rolling windows in buckets, and none for calls in flight.
//!
//! Never: let a rolling window forget spend early. A bucket is kept until its *end* is a
//! whole window old, so a window may count a little more than it spans, never less.

/// How a counter's amount is bounded in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Window {
    /// The UTC calendar day.
    Day,
    /// The UTC calendar month.
    Month,
    /// Fixed periods of this many seconds since the epoch (minutes, hours).
    Fixed(u64),
    /// The last this many seconds, in [`BUCKETS`] buckets.
    Rolling(u64),
    /// No time at all: what is in flight now (concurrency caps).
    InFlight,
}

/// Buckets per rolling window: the spend of a bucket leaves the window at most 1/60th of it
/// late.
pub const BUCKETS: u64 = 60;

impl Window {
    /// The start of the period `now` is in (rolling: of the bucket), and when it ends.
    pub fn period(self, now: u64) -> (u64, u64) {
        match self {
            Self::Day => {
                let start = now - now % 86_400;
                (start, start + 86_400)
            }
            Self::Month => {
                let (y, m, _) = civil_from_days(now / 86_400);
                let start = days_from_civil(y, m, 1) * 86_400;
                let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                (start, days_from_civil(ny, nm, 1) * 86_400)
            }
            Self::Fixed(len) => {
                let len = len.max(1);
                let start = now - now % len;
                (start, start + len)
            }
            Self::Rolling(len) => {
                let bucket = Self::bucket_len(len);
                let start = now - now % bucket;
                (start, start + bucket)
            }
            Self::InFlight => (0, u64::MAX),
        }
    }

    /// A rolling window's bucket length.
    pub fn bucket_len(len: u64) -> u64 {
        (len / BUCKETS).max(1)
    }

    /// A short label for views: `day`, `month`, `60s`, `rolling 86400s`, `in flight`.
    pub fn label(self) -> String {
        match self {
            Self::Day => "day".into(),
            Self::Month => "month".into(),
            Self::Fixed(len) => format!("{len}s"),
            Self::Rolling(len) => format!("rolling {len}s"),
            Self::InFlight => "in flight".into(),
        }
    }
}

/// Days since 1970-01-01 → (year, month 1-12, day 1-31), proleptic Gregorian.
pub fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shifted so that the year starts in March: leap days fall at its end.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// (year ≥ 1970, month, day) → days since 1970-01-01.
pub fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y % 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).saturating_sub(719_468)
}

/// `secs` as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(secs: u64) -> String {
    let (y, m, d) = civil_from_days(secs / 86_400);
    let s = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_periods_are_utc_days_and_months() {
        // 2024-02-29T13:00:00Z, a leap day.
        let t = 1_709_211_600;
        assert_eq!(rfc3339(t), "2024-02-29T13:00:00Z");
        let (start, end) = Window::Month.period(t);
        assert_eq!(
            (rfc3339(start), rfc3339(end)),
            ("2024-02-01T00:00:00Z".into(), "2024-03-01T00:00:00Z".into())
        );
        let (start, end) = Window::Day.period(t);
        assert_eq!(
            (rfc3339(start), rfc3339(end)),
            ("2024-02-29T00:00:00Z".into(), "2024-03-01T00:00:00Z".into())
        );
        // December rolls into the next year.
        let (_, end) = Window::Month.period(1_734_000_000);
        assert_eq!(rfc3339(end), "2025-01-01T00:00:00Z");
        for days in [0, 59, 365, 10_000, 20_000, 40_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(Window::Fixed(60).period(125), (120, 180));
        assert_eq!(Window::Rolling(3600).period(125), (120, 180));
    }
}
