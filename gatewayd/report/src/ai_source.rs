//! Which table answers the AI gateway's spend report: the hourly or daily rollup of
//! `ai_requests` (migration 0018: per team, user, virtual key, provider and model, so every
//! filter of the report can read them) or the raw calls, for short ranges that do not start
//! and end on the hour. The choice follows the `http_events` reports' (`source.rs`): whole
//! hours up to three days, whole days beyond. Every source names the same metrics with the
//! same aliases, so the report's queries are written once.
//!
//! It must never quote a value into SQL itself: filters go through `sql::quote` in `ai.rs`.

use super::filter::TimeRange;
use super::source::{Source, HOURLY_MAX_SPAN_SECS};

/// Ranges up to this long that are not whole hours are read from the raw calls, so the
/// partial hours at both ends are not counted whole.
const EXACT_SHORT_SPAN_SECS: i64 = 6 * 3600;

/// The latency levels the rollups keep (their t-digest states were built with these).
const LEVELS: &str = "0.5, 0.9, 0.99";

/// A table the AI spend can be read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AiSource {
    /// `ai_requests_hourly`.
    Hourly,
    /// `ai_requests_daily`.
    Daily,
    /// `ai_requests`: every call.
    Raw,
}

impl AiSource {
    /// The source for `range`.
    pub fn for_range(range: TimeRange) -> AiSource {
        let span = range.span_secs();
        let aligned = range.from % 3600 == 0 && range.to % 3600 == 0;
        if span <= EXACT_SHORT_SPAN_SECS && !aligned {
            AiSource::Raw
        } else if span > HOURLY_MAX_SPAN_SECS {
            AiSource::Daily
        } else {
            AiSource::Hourly
        }
    }

    pub fn table(self) -> &'static str {
        match self {
            AiSource::Hourly => "ai_requests_hourly",
            AiSource::Daily => "ai_requests_daily",
            AiSource::Raw => "ai_requests",
        }
    }

    /// `range` over this source's time column (whole hours or days for the rollups).
    pub fn time_clause(self, range: TimeRange) -> String {
        match self {
            AiSource::Hourly => Source::Hourly.time_clause(range),
            AiSource::Daily => Source::Daily.time_clause(range),
            AiSource::Raw => Source::Raw.time_clause(range),
        }
    }

    /// The model a call was served by, led by its provider; calls never routed to one (the
    /// models list, an unknown model, a refused key) under one clear name.
    pub fn model(self) -> &'static str {
        match self {
            AiSource::Raw => {
                "if(provider = '', '(not routed)',                  concat(provider, '/', if(model_served = '', model_asked, model_served)))"
            }
            _ => "if(provider = '', '(not routed)', concat(provider, '/', model))",
        }
    }

    /// The sums every grouping shows, and the latency quantiles. The spend's alias differs
    /// from the raw column's name: a ClickHouse alias shadows the column it is named after,
    /// also inside other expressions.
    pub fn sums(self) -> String {
        let (sums, latency, ttft) = match self {
            AiSource::Raw => (
                "count() AS calls, sum(input_tokens) AS input_tokens, \
                 sum(output_tokens) AS output_tokens, sum(cached_tokens) AS cached_tokens, \
                 sum(reasoning_tokens) AS reasoning_tokens, \
                 ifNull(sum(cost_micro_usd), 0) AS spend_micro_usd, \
                 countIf(isNull(cost_micro_usd)) AS unpriced_calls, \
                 countIf(cost_status = 'usage_suspect') AS suspect_calls, \
                 countIf(error != '') AS errors",
                // Calls refused before a provider (a bad key, a budget) answer in no time:
                // they would pull the median to 0 ms, so only calls sent are measured.
                format!(
                    "quantilesTDigestIf({LEVELS})(toFloat32(latency_ms), cost_status != 'not_billed')"
                ),
                format!(
                    "quantilesTDigestIf({LEVELS})\
                     (toFloat32(assumeNotNull(ttft_ms)), isNotNull(ttft_ms))"
                ),
            ),
            AiSource::Hourly | AiSource::Daily => (
                "countMerge(calls) AS calls, sumMerge(input_tokens) AS input_tokens, \
                 sumMerge(output_tokens) AS output_tokens, \
                 sumMerge(cached_tokens) AS cached_tokens, \
                 sumMerge(reasoning_tokens) AS reasoning_tokens, \
                 sumMerge(spend_micro_usd) AS spend_micro_usd, \
                 countIfMerge(unpriced_calls) AS unpriced_calls, \
                 countIfMerge(suspect_calls) AS suspect_calls, countIfMerge(errors) AS errors",
                format!("quantilesTDigestMerge({LEVELS})(latency_state)"),
                format!("quantilesTDigestIfMerge({LEVELS})(ttft_state)"),
            ),
        };
        // A quantile of no calls is NaN (of Float32, as the rollups keep them): shown as
        // unknown, never as 0 ms.
        let level =
            |q: &str, i: u8| format!("if(isFinite({q}[{i}]), toUInt32(round({q}[{i}])), NULL)");
        format!(
            "{sums}, round(spend_micro_usd / 1000000, 6) AS spend_usd, \
             {latency} AS latency_q, {ttft} AS ttft_q, \
             {} AS latency_p50_ms, {} AS latency_p99_ms, {} AS ttft_p50_ms",
            level("latency_q", 1),
            level("latency_q", 3),
            level("ttft_q", 1)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ragged_ranges_read_every_call_and_long_ones_the_rollups() {
        let hour = 3600;
        let day = 24 * hour;
        let range = |from, to| TimeRange { from, to };
        assert_eq!(
            AiSource::for_range(range(100 * day + 17, 100 * day + hour)),
            AiSource::Raw
        );
        assert_eq!(
            AiSource::for_range(range(100 * day, 100 * day + hour)),
            AiSource::Hourly,
            "whole hours"
        );
        assert_eq!(
            AiSource::for_range(range(100 * day + 17, 101 * day + 17)),
            AiSource::Hourly
        );
        assert_eq!(
            AiSource::for_range(range(100 * day + 17, 130 * day + 17)),
            AiSource::Daily
        );
    }

    #[test]
    fn every_source_names_the_same_metrics() {
        for source in [AiSource::Raw, AiSource::Hourly, AiSource::Daily] {
            let sql = source.sums();
            for metric in [
                "calls",
                "input_tokens",
                "output_tokens",
                "cached_tokens",
                "spend_micro_usd",
                "spend_usd",
                "unpriced_calls",
                "suspect_calls",
                "errors",
                "latency_p50_ms",
                "latency_p99_ms",
                "ttft_p50_ms",
            ] {
                assert!(
                    sql.contains(&format!(" AS {metric}")),
                    "{source:?} {metric}"
                );
            }
        }
    }
}
