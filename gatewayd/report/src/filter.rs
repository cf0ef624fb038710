//! What a report covers: a time range, app-level filters (category, approval status) and
//! who-level filters (user, group, country), plus paging. Parsed from an API query string or
//! from `gatewayd report` flags, validated before any SQL is built.

use std::collections::BTreeMap;

use policies::catalog::Category;
use policies::AppStatus;

/// The widest range a report may span: a little over the rollups' default retention.
const MAX_SPAN_SECS: i64 = 400 * 86_400;
/// The longest filter value accepted.
const MAX_VALUE_LEN: usize = 256;
/// The most rows one page may hold.
pub const MAX_LIMIT: usize = 1000;
const DEFAULT_LIMIT: usize = 50;

/// Why a filter was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(pub String);

/// `[from, to)` in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub from: i64,
    pub to: i64,
}

impl TimeRange {
    pub fn span_secs(&self) -> i64 {
        self.to - self.from
    }

    /// The range of the same length just before this one.
    pub fn previous(&self) -> TimeRange {
        TimeRange {
            from: self.from - self.span_secs(),
            to: self.from,
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: usize,
    pub offset: usize,
}

/// Everything a report is narrowed by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFilter {
    pub range: TimeRange,
    pub categories: Vec<Category>,
    pub statuses: Vec<AppStatus>,
    pub user: Option<String>,
    pub group: Option<String>,
    pub country: Option<String>,
    pub page: Page,
    /// The list's sort key: one of its columns (validated by the report that sorts).
    pub sort: Option<String>,
    /// `dir=asc|desc`; each report has its own default.
    pub descending: Option<bool>,
}

impl ReportFilter {
    /// The last `since` seconds before `now`, nothing else narrowed.
    pub fn last(since_secs: i64, now: i64) -> Self {
        Self {
            range: TimeRange {
                from: now - since_secs,
                to: now,
            },
            categories: Vec::new(),
            statuses: Vec::new(),
            user: None,
            group: None,
            country: None,
            page: Page {
                limit: DEFAULT_LIMIT,
                offset: 0,
            },
            sort: None,
            descending: None,
        }
    }

    /// Parses `since`, `from`, `to`, `category`, `status`, `user`, `group`, `country`, `limit`,
    /// `offset` and `sort` from decoded query pairs; unknown names are refused so a typo is not
    /// silently a wider report. `default_since` applies when neither `since` nor `from` is given.
    pub fn from_pairs(
        pairs: &BTreeMap<String, String>,
        now: i64,
        default_since: i64,
        ignore: &[&str],
    ) -> Result<Self, FilterError> {
        for name in pairs.keys() {
            if !KNOWN.contains(&name.as_str()) && !ignore.contains(&name.as_str()) {
                return Err(FilterError(format!(
                    "unknown parameter {name:?}; known: {}",
                    KNOWN.join(", ")
                )));
            }
        }
        let get = |name: &str| pairs.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let to = match get("to") {
            Some(text) => parse_time(text)?,
            // The range is half-open and rows carry sub-second times: "up to now" ends after
            // the current second, or a call made this second would be left out.
            None => now + 1,
        };
        let from = match (get("from"), get("since")) {
            (Some(_), Some(_)) => {
                return Err(FilterError("give either since or from, not both".into()))
            }
            (Some(text), None) => parse_time(text)?,
            (None, Some(text)) => to - parse_span(text)?,
            (None, None) => to - default_since,
        };
        if from >= to {
            return Err(FilterError(
                "the range is empty: from must be before to".into(),
            ));
        }
        if to - from > MAX_SPAN_SECS {
            return Err(FilterError("the range may span at most 400 days".into()));
        }
        let mut filter = Self::last(0, to);
        filter.range = TimeRange { from, to };
        if let Some(text) = get("category") {
            filter.categories = list(text)
                .map(|c| {
                    c.parse::<Category>()
                        .map_err(|e| FilterError(e.to_string()))
                })
                .collect::<Result<_, _>>()?;
        }
        if let Some(text) = get("status") {
            filter.statuses = list(text)
                .map(|s| {
                    s.parse::<AppStatus>()
                        .map_err(|e| FilterError(e.to_string()))
                })
                .collect::<Result<_, _>>()?;
        }
        filter.user = get("user").map(value).transpose()?;
        filter.group = get("group").map(value).transpose()?;
        filter.country = get("country")
            .map(|c| value(c).map(|c| c.to_ascii_uppercase()))
            .transpose()?;
        if let Some(text) = get("limit") {
            let limit: usize = text
                .parse()
                .map_err(|_| FilterError(format!("limit {text:?} is not a number")))?;
            if limit == 0 || limit > MAX_LIMIT {
                return Err(FilterError(format!("limit must be 1 to {MAX_LIMIT}")));
            }
            filter.page.limit = limit;
        }
        if let Some(text) = get("offset") {
            filter.page.offset = text
                .parse()
                .map_err(|_| FilterError(format!("offset {text:?} is not a number")))?;
        }
        filter.sort = get("sort").map(value).transpose()?;
        filter.descending = match get("dir") {
            None => None,
            Some("asc") => Some(false),
            Some("desc") => Some(true),
            Some(other) => return Err(FilterError(format!("dir {other:?}: use asc or desc"))),
        };
        Ok(filter)
    }

    /// Whether anything narrows who the rows are about (user, group or country).
    pub fn has_who(&self) -> bool {
        self.user.is_some() || self.group.is_some() || self.country.is_some()
    }

    /// Whether anything narrows which apps the rows are about.
    pub fn has_app_filter(&self) -> bool {
        !self.categories.is_empty() || !self.statuses.is_empty()
    }

    /// The query string that reproduces this filter (for links and CSV exports).
    pub fn to_query(&self) -> String {
        let mut pairs = vec![
            ("from", self.range.from.to_string()),
            ("to", self.range.to.to_string()),
        ];
        if !self.categories.is_empty() {
            let names: Vec<&str> = self.categories.iter().map(|c| c.as_str()).collect();
            pairs.push(("category", names.join(",")));
        }
        if !self.statuses.is_empty() {
            let names: Vec<&str> = self.statuses.iter().map(|s| s.as_str()).collect();
            pairs.push(("status", names.join(",")));
        }
        for (name, value) in [
            ("user", &self.user),
            ("group", &self.group),
            ("country", &self.country),
        ] {
            if let Some(value) = value {
                pairs.push((name, value.clone()));
            }
        }
        pairs
            .into_iter()
            .map(|(name, value)| format!("{name}={}", crate::form::encode(&value)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

const KNOWN: [&str; 12] = [
    "since", "from", "to", "category", "status", "user", "group", "country", "limit", "offset",
    "sort", "dir",
];

fn list(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn value(text: &str) -> Result<String, FilterError> {
    if text.len() > MAX_VALUE_LEN {
        return Err(FilterError(format!(
            "a filter value may be at most {MAX_VALUE_LEN} bytes"
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(FilterError(
            "filter values may not hold control characters".into(),
        ));
    }
    Ok(text.to_string())
}

/// `30m`, `24h`, `7d`, `2w` (or plain seconds) as seconds.
pub fn parse_span(text: &str) -> Result<i64, FilterError> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: i64 = number
        .parse()
        .map_err(|_| FilterError(format!("duration {text:?}: use e.g. 30m, 24h, 7d, 2w")))?;
    let unit_secs = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => {
            return Err(FilterError(format!(
                "duration {text:?}: the unit must be s, m, h, d or w"
            )))
        }
    };
    let secs = number
        .checked_mul(unit_secs)
        .filter(|s| *s > 0 && *s <= MAX_SPAN_SECS)
        .ok_or_else(|| FilterError(format!("duration {text:?} must be within 400 days")))?;
    Ok(secs)
}

/// A point in time: Unix seconds, `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDTHH:MM[:SS][Z]`.
pub fn parse_time(text: &str) -> Result<i64, FilterError> {
    let bad = || {
        FilterError(format!(
            "time {text:?}: use Unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)"
        ))
    };
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().map_err(|_| bad());
    }
    let text = text.trim_end_matches('Z');
    let (date, clock) = text
        .split_once(['T', ' '])
        .map_or((text, None), |(d, c)| (d, Some(c)));
    let mut date_parts = date.split('-').map(|p| p.parse::<i64>());
    let (Some(Ok(year)), Some(Ok(month)), Some(Ok(day)), None) = (
        date_parts.next(),
        date_parts.next(),
        date_parts.next(),
        date_parts.next(),
    ) else {
        return Err(bad());
    };
    if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(bad());
    }
    let mut secs = days_from_civil(year, month, day) * 86_400;
    if let Some(clock) = clock {
        let parts: Vec<&str> = clock.split(':').collect();
        if parts.len() < 2 || parts.len() > 3 {
            return Err(bad());
        }
        let limits = [23, 59, 60];
        let mut units = [3600, 60, 1].into_iter();
        for (part, limit) in parts.iter().zip(limits) {
            let n: i64 = part.parse().map_err(|_| bad())?;
            if !(0..=limit).contains(&n) {
                return Err(bad());
            }
            secs += n * units.next().unwrap_or(1);
        }
    }
    Ok(secs)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Unix seconds as `YYYY-MM-DD HH:MM` (UTC).
pub fn format_utc(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// The calendar date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> BTreeMap<String, String> {
        crate::form::parse(text)
    }

    #[test]
    fn spans_and_times_parse() {
        assert_eq!(parse_span("24h").unwrap(), 86_400);
        assert_eq!(parse_span("7d").unwrap(), 604_800);
        assert!(parse_span("5y").is_err());
        assert!(parse_span("999999999999d").is_err());
        assert_eq!(parse_time("1970-01-02").unwrap(), 86_400);
        assert_eq!(parse_time("2026-11-22T10:00:00Z").unwrap(), 1_795_341_600);
        assert_eq!(parse_time("1795341600").unwrap(), 1_795_341_600);
        assert!(parse_time("2026-13-01").is_err());
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn a_query_string_becomes_a_filter() {
        let now = 1_000_000;
        let f = ReportFilter::from_pairs(
            &pairs("since=1d&category=chat,code&status=in-review&user=al%20ice&country=de&limit=5&offset=10"),
            now,
            3600,
            &[],
        )
        .unwrap();
        assert_eq!(
            f.range,
            TimeRange {
                from: now + 1 - 86_400,
                to: now + 1
            }
        );
        assert_eq!(f.categories, vec![Category::Chat, Category::Code]);
        assert_eq!(f.statuses, vec![AppStatus::InReview]);
        assert_eq!(f.user.as_deref(), Some("al ice"));
        assert_eq!(f.country.as_deref(), Some("DE"));
        assert_eq!(
            f.page,
            Page {
                limit: 5,
                offset: 10
            }
        );
        let again = ReportFilter::from_pairs(&pairs(&f.to_query()), 0, 1, &[]).unwrap();
        assert_eq!(again.range, f.range);
        assert_eq!(again.user, f.user);
    }

    #[test]
    fn bad_filters_are_refused_with_a_reason() {
        for query in [
            "sincе=1d",
            "since=1d&from=0",
            "category=nope",
            "status=maybe",
            "limit=0",
            "limit=100000",
            "from=10&to=5",
            "user=a%0Ab",
            "dir=up",
        ] {
            let err = ReportFilter::from_pairs(&pairs(query), 1_000_000, 3600, &[]);
            assert!(err.is_err(), "{query} was accepted");
        }
    }
}
