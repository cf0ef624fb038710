//! Usage of discovered hosts (shadow AI outside the catalog) from the events: users,
//! requests and bytes per host in a range, for the Discovered page and its API. The evidence,
//! first and last seen come from the daemon's own record of each host; this adds who and how
//! much, which only the events know.

use std::collections::BTreeMap;

use serde_json::Value;

use super::fetch as table;
use super::filter::TimeRange;
use super::source::Source;
use super::{number, ReportError, ReportInputs};

/// One discovered host's traffic in the range.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct HostUsage {
    pub users: u64,
    pub requests: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
}

/// At most this many hosts are read (the busiest).
const MAX_HOSTS: usize = 10_000;

/// Traffic per discovered host in `range`, by host.
pub async fn usage(
    inputs: ReportInputs<'_>,
    range: TimeRange,
) -> Result<BTreeMap<String, HostUsage>, ReportError> {
    let sql = format!(
        "SELECT host, uniqExact(user) AS users, count() AS requests, sum(bytes_up) AS bytes_up, \
         sum(bytes_down) AS bytes_down FROM http_events WHERE {} AND discovered = 1 \
         GROUP BY host ORDER BY requests DESC LIMIT {MAX_HOSTS}",
        Source::Raw.time_clause(range)
    );
    let rows = table(inputs, &sql).await?;
    Ok(rows
        .rows
        .iter()
        .filter_map(|row| {
            let host = row.first().and_then(Value::as_str)?.to_string();
            let n = |i: usize| row.get(i).map_or(0, number);
            Some((
                host,
                HostUsage {
                    users: n(1),
                    requests: n(2),
                    bytes_up: n(3),
                    bytes_down: n(4),
                },
            ))
        })
        .collect())
}
