//! Which table answers a report: the rollups the materialized views keep (fast at any range)
//! or the raw `http_events` (exact, needed when a filter names a dimension no rollup keeps).
//! Every source names the same metrics with the same aliases, so the reports above are
//! written once; a metric a source does not keep comes back as `NULL` and shows as "—".

use policies::{AppStatus, Catalog, StatusBook};

use super::filter::{ReportFilter, TimeRange};
use super::sql::{datetime, quote, quote_list};

/// Ranges up to this long with a who-filter read the raw events, so day-grained rollups do
/// not round them up to whole days.
const EXACT_RAW_SPAN_SECS: i64 = 2 * 86_400;
/// Ranges longer than this without a who-filter read the daily rollup (whole days, unique
/// counts from sketches); shorter ones the hourly rollup (whole hours, exact uniques).
pub const HOURLY_MAX_SPAN_SECS: i64 = 3 * 86_400;
/// Ranges up to this long that are not whole hours are read from the raw events.
const EXACT_SHORT_SPAN_SECS: i64 = 6 * 3600;

/// A table the usage metrics can be read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `app_usage_hourly`: per app and hour.
    Hourly,
    /// `app_daily`: per app and day.
    Daily,
    /// `app_user_daily`: per app, user and day.
    UserDaily,
    /// `app_country_daily`: per app, country and day.
    CountryDaily,
    /// `app_group_daily`: per app, group and day.
    GroupDaily,
    /// `http_events`: every transaction.
    Raw,
}

/// The usage metrics every report speaks of, in this order.
pub const METRICS: [&str; 8] = [
    "requests",
    "blocked",
    "uploads",
    "bytes_up",
    "bytes_down",
    "dlp_findings",
    "users",
    "devices",
];

impl Source {
    /// The source for `filter`: the rollup keeping the one who-dimension it names, the hourly
    /// rollup when it names none, the raw events otherwise.
    pub fn for_filter(filter: &ReportFilter) -> Source {
        let who = [
            filter.user.is_some(),
            filter.group.is_some(),
            filter.country.is_some(),
        ];
        let named = who.iter().filter(|w| **w).count();
        // A short range that does not start and end on the hour is read from the raw events:
        // the hourly rollup would count the partial hours at both ends whole, and the
        // "previous period" of a 1-hour range would overlap this one.
        let span = filter.range.span_secs();
        let aligned = filter.range.from % 3600 == 0 && filter.range.to % 3600 == 0;
        if named == 0 && span <= EXACT_SHORT_SPAN_SECS && !aligned {
            return Source::Raw;
        }
        if named == 0 {
            return if filter.range.span_secs() > HOURLY_MAX_SPAN_SECS {
                Source::Daily
            } else {
                Source::Hourly
            };
        }
        if named > 1 || filter.range.span_secs() <= EXACT_RAW_SPAN_SECS {
            return Source::Raw;
        }
        if filter.user.is_some() {
            Source::UserDaily
        } else if filter.group.is_some() {
            Source::GroupDaily
        } else {
            Source::CountryDaily
        }
    }

    pub fn table(self) -> &'static str {
        match self {
            Source::Hourly => "app_usage_hourly",
            Source::Daily => "app_daily",
            Source::UserDaily => "app_user_daily",
            Source::CountryDaily => "app_country_daily",
            Source::GroupDaily => "app_group_daily",
            Source::Raw => "http_events",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Source::Raw => "raw events",
            Source::Hourly => "hourly rollup",
            _ => "daily rollup",
        }
    }

    /// The time column.
    pub fn time_column(self) -> &'static str {
        match self {
            Source::Hourly => "hour",
            Source::Raw => "ts",
            _ => "day",
        }
    }

    /// `range` over this source's time column (whole hours or days for rollups).
    pub fn time_clause(self, range: TimeRange) -> String {
        let (from, to) = (datetime(range.from), datetime(range.to));
        match self {
            Source::Raw => format!("ts >= {from} AND ts < {to}"),
            Source::Hourly => format!("hour >= toStartOfHour({from}) AND hour < {to}"),
            _ => format!("day >= toDate({from}) AND day <= toDate({to} - 1)"),
        }
    }

    /// The SQL of `metric` (one of [`METRICS`]), aliased to its name.
    pub fn metric(self, metric: &str) -> String {
        let expr = match (self, metric) {
            (Source::Raw, "requests") => "count()",
            (Source::Raw, "blocked") => "countIf(blocked = 1)",
            (Source::Raw, "uploads") => "countIf(upload = 1)",
            (Source::Raw, "bytes_up") => "sum(bytes_up)",
            (Source::Raw, "bytes_down") => "sum(bytes_down)",
            (Source::Raw, "dlp_findings") => "sum(toUInt64(dlp_finding_count))",
            (Source::Raw, "users") => "uniq(user)",
            (Source::Raw, "devices") => "uniqIf(device_id, device_id != '')",
            (Source::UserDaily, "requests") => "sum(requests)",
            (Source::UserDaily, "blocked") => "sum(blocked_requests)",
            (Source::UserDaily, "uploads") => "sum(upload_requests)",
            (Source::UserDaily, "bytes_up") => "sum(bytes_up)",
            (Source::UserDaily, "bytes_down") => "sum(bytes_down)",
            (Source::UserDaily, "dlp_findings") => "sum(dlp_findings)",
            (Source::UserDaily, "users") => "uniqExact(user)",
            (Source::Daily, "users") => "uniqHLL12Merge(users)",
            (Source::Daily, "devices") => "uniqHLL12IfMerge(devices)",
            (_, "requests") => "countMerge(requests)",
            (_, "blocked") => "countIfMerge(blocked_requests)",
            (_, "bytes_up") => "sumMerge(bytes_up)",
            (_, "bytes_down") => "sumMerge(bytes_down)",
            (_, "users") => "uniqMerge(users)",
            (Source::Hourly | Source::Daily, "uploads") => "countIfMerge(upload_requests)",
            (Source::Hourly | Source::Daily, "dlp_findings") => "sumMerge(dlp_findings)",
            (Source::Hourly, "devices") => "uniqIfMerge(devices)",
            _ => "CAST(NULL AS Nullable(UInt64))",
        };
        format!("{expr} AS {metric}")
    }

    /// All of [`METRICS`], comma-separated.
    pub fn metrics(self) -> String {
        METRICS
            .iter()
            .map(|m| self.metric(m))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The who-filters of `filter` that this source can apply.
    pub fn who_clause(self, filter: &ReportFilter) -> Vec<String> {
        let mut clauses = Vec::new();
        if let Some(user) = &filter.user {
            if matches!(self, Source::Raw | Source::UserDaily) {
                clauses.push(format!("user = {}", quote(user)));
            }
        }
        if let Some(country) = &filter.country {
            if matches!(self, Source::Raw | Source::CountryDaily) {
                clauses.push(format!("country = {}", quote(country)));
            }
        }
        if let Some(group) = &filter.group {
            match self {
                Source::Raw => clauses.push(format!("has(groups, {})", quote(group))),
                Source::GroupDaily => clauses.push(format!("group_name = {}", quote(group))),
                _ => {}
            }
        }
        clauses
    }

    /// `WHERE` for `filter` over this source: time, apps and who.
    pub fn where_clause(self, filter: &ReportFilter, apps: &AppScope) -> String {
        let mut clauses = vec![self.time_clause(filter.range), apps.clause()];
        clauses.extend(self.who_clause(filter));
        clauses.join(" AND ")
    }
}

/// The apps a report covers, from the category and status filters: catalogued apps by their
/// category and current status; apps outside the catalog (discovered hosts) count as
/// category `api` and status `in_review`, as the gateway treats them.
#[derive(Debug, Clone)]
pub struct AppScope {
    /// `None`: every AI app.
    catalog_ids: Option<Vec<String>>,
    all_catalog_ids: Vec<String>,
    include_uncatalogued: bool,
}

impl AppScope {
    pub fn new(filter: &ReportFilter, catalog: &Catalog, book: &StatusBook) -> Self {
        let all_catalog_ids: Vec<String> = catalog.apps().iter().map(|a| a.id.clone()).collect();
        if !filter.has_app_filter() {
            return Self {
                catalog_ids: None,
                all_catalog_ids,
                include_uncatalogued: true,
            };
        }
        let category_ok = |c: policies::catalog::Category| {
            filter.categories.is_empty() || filter.categories.contains(&c)
        };
        let status_ok = |s: AppStatus| filter.statuses.is_empty() || filter.statuses.contains(&s);
        let ids = catalog
            .apps()
            .iter()
            .filter(|a| category_ok(a.category) && status_ok(book.status(&a.id)))
            .map(|a| a.id.clone())
            .collect();
        Self {
            catalog_ids: Some(ids),
            all_catalog_ids,
            include_uncatalogued: category_ok(policies::catalog::Category::Api)
                && status_ok(AppStatus::InReview),
        }
    }

    /// The `app_id` condition (always excluding traffic to no AI app).
    pub fn clause(&self) -> String {
        match &self.catalog_ids {
            None => "app_id != ''".to_string(),
            Some(ids) => {
                let listed = format!("app_id IN {}", quote_list(ids.iter().map(String::as_str)));
                if self.include_uncatalogued {
                    format!(
                        "app_id != '' AND ({listed} OR app_id NOT IN {})",
                        quote_list(self.all_catalog_ids.iter().map(String::as_str))
                    )
                } else {
                    listed
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rollup_that_keeps_the_named_dimension_answers() {
        let mut f = ReportFilter::last(30 * 86_400, 100 * 86_400);
        assert_eq!(Source::for_filter(&f), Source::Daily);
        assert_eq!(
            Source::for_filter(&ReportFilter::last(86_400, 100 * 86_400)),
            Source::Hourly
        );
        f.user = Some("alice".into());
        assert_eq!(Source::for_filter(&f), Source::UserDaily);
        f.country = Some("DE".into());
        assert_eq!(Source::for_filter(&f), Source::Raw);
        f.user = None;
        assert_eq!(Source::for_filter(&f), Source::CountryDaily);
        let mut short = ReportFilter::last(86_400, 100 * 86_400);
        short.group = Some("eng".into());
        assert_eq!(Source::for_filter(&short), Source::Raw);
    }

    #[test]
    fn sources_name_the_same_metrics() {
        for source in [
            Source::Hourly,
            Source::Daily,
            Source::UserDaily,
            Source::CountryDaily,
            Source::GroupDaily,
            Source::Raw,
        ] {
            let sql = source.metrics();
            for metric in METRICS {
                assert!(
                    sql.contains(&format!(" AS {metric}")),
                    "{source:?} {metric}"
                );
            }
        }
    }

    #[test]
    fn filter_values_are_quoted() {
        let mut f = ReportFilter::last(30 * 86_400, 100 * 86_400);
        f.user = Some("x' OR 1=1 --".into());
        f.group = Some("eng".into());
        let clause = Source::Raw.who_clause(&f).join(" AND ");
        assert_eq!(clause, "user = 'x\\' OR 1=1 --' AND has(groups, 'eng')");
    }
}
