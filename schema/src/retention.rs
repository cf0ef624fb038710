//! Retention by dropping whole partitions: raw tables ([`tables::RAW`]) keep
//! `raw_days`, rollups and the status audit ([`tables::ROLLUPS`]) keep `rollup_days`.
//!
//! Partitions are listed from `system.parts`. A day partition (`YYYYMMDD`) goes when its day is
//! more than the kept number of days before today (UTC); a month partition (`YYYYMM`) goes when
//! its last day does. Only tables this crate owns are touched, and a partition value that is not
//! one of those two shapes is left alone.

use clickhouse::Client;
use time::{Date, Duration, Month};

use crate::{tables, Error};

/// How long to keep data, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    pub raw_days: u32,
    pub rollup_days: u32,
}

impl Default for RetentionPolicy {
    /// `retention.raw_days = 30`, `retention.rollup_days = 400`.
    fn default() -> Self {
        Self {
            raw_days: 30,
            rollup_days: 400,
        }
    }
}

/// A partition that retention dropped (or would drop).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DroppedPartition {
    pub table: String,
    /// The partition value as `system.parts` shows it, e.g. `20260101` or `202601`.
    pub partition: String,
}

/// Drops expired partitions in the client's database; returns what it dropped.
pub async fn apply_retention(
    client: &Client,
    policy: RetentionPolicy,
) -> Result<Vec<DroppedPartition>, Error> {
    let database = client.database().unwrap_or("default");
    // `has(array, x)` rather than `x IN array`: 18.16 accepts only tuples after IN.
    let parts: Vec<(String, String)> = client
        .query(
            "SELECT DISTINCT table, partition FROM system.parts \
             WHERE database = ? AND active AND has(?, table) ORDER BY table, partition",
        )
        .bind(database)
        .bind(owned_tables())
        .fetch_all()
        .await
        .map_err(Error::query("listing partitions"))?;
    let today = time::OffsetDateTime::now_utc().date();
    let expired = expired_partitions(&parts, today, policy);
    for p in &expired {
        client
            .query_raw(&format!(
                "ALTER TABLE {} DROP PARTITION {}",
                p.table, p.partition
            ))
            .execute()
            .await
            .map_err(Error::query(format!(
                "dropping partition {} of {}",
                p.partition, p.table
            )))?;
    }
    Ok(expired)
}

/// The partitions among `(table, partition)` pairs that `policy` expires on `today`.
pub fn expired_partitions(
    parts: &[(String, String)],
    today: Date,
    policy: RetentionPolicy,
) -> Vec<DroppedPartition> {
    let mut out: Vec<DroppedPartition> = parts
        .iter()
        .filter_map(|(table, partition)| {
            let days = keep_days(table, policy)?;
            let cutoff = today.checked_sub(Duration::days(i64::from(days)))?;
            let last_day = last_day_of(partition)?;
            (last_day < cutoff).then(|| DroppedPartition {
                table: table.clone(),
                partition: partition.clone(),
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

fn owned_tables() -> Vec<&'static str> {
    tables::RAW
        .iter()
        .chain(&tables::ROLLUPS)
        .copied()
        .collect()
}

fn keep_days(table: &str, policy: RetentionPolicy) -> Option<u32> {
    if tables::RAW.contains(&table) {
        Some(policy.raw_days)
    } else if tables::ROLLUPS.contains(&table) {
        Some(policy.rollup_days)
    } else {
        None
    }
}

/// The last day a `YYYYMMDD` or `YYYYMM` partition holds.
fn last_day_of(partition: &str) -> Option<Date> {
    if !partition.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = partition.get(0..4)?.parse().ok()?;
    let month = Month::try_from(partition.get(4..6)?.parse::<u8>().ok()?).ok()?;
    let day = match partition.len() {
        8 => partition.get(6..8)?.parse().ok()?,
        6 => time::util::days_in_month(month, year),
        _ => return None,
    };
    Date::from_calendar_date(year, month, day).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u8, d: u8) -> Date {
        Date::from_calendar_date(y, Month::try_from(m).unwrap(), d).unwrap()
    }

    fn parts(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(t, p)| (t.to_string(), p.to_string()))
            .collect()
    }

    fn names(dropped: &[DroppedPartition]) -> Vec<(&str, &str)> {
        dropped
            .iter()
            .map(|d| (d.table.as_str(), d.partition.as_str()))
            .collect()
    }

    #[test]
    fn day_partitions_older_than_the_window_go() {
        let policy = RetentionPolicy {
            raw_days: 30,
            rollup_days: 400,
        };
        let today = date(2026, 3, 31);
        let got = expired_partitions(
            &parts(&[
                ("http_events", "20260228"),
                ("http_events", "20260301"),
                ("http_events", "20260331"),
                ("dlp_findings", "20260101"),
                ("app_usage_hourly", "20260101"),
                ("app_usage_hourly", "20250223"),
                ("app_usage_hourly", "20250224"),
            ]),
            today,
            policy,
        );
        assert_eq!(
            names(&got),
            [
                ("app_usage_hourly", "20250223"),
                ("dlp_findings", "20260101"),
                ("http_events", "20260228"),
            ]
        );
    }

    #[test]
    fn month_partitions_go_when_their_last_day_is_out() {
        let policy = RetentionPolicy {
            raw_days: 1,
            rollup_days: 31,
        };
        let today = date(2026, 3, 31);
        let got = expired_partitions(
            &parts(&[
                ("app_user_daily", "202601"),
                ("app_user_daily", "202602"),
                ("app_country_daily", "202603"),
                ("app_status_changes", "202512"),
            ]),
            today,
            policy,
        );
        assert_eq!(
            names(&got),
            [
                ("app_status_changes", "202512"),
                ("app_user_daily", "202601")
            ]
        );
    }

    #[test]
    fn foreign_tables_and_odd_partitions_are_left_alone() {
        let policy = RetentionPolicy {
            raw_days: 0,
            rollup_days: 0,
        };
        let today = date(2026, 3, 31);
        let got = expired_partitions(
            &parts(&[
                ("schema_migrations", "tuple()"),
                ("other", "20200101"),
                ("http_events", "2020"),
                ("http_events", "20201399"),
                ("http_events", "x0200101"),
            ]),
            today,
            policy,
        );
        assert!(got.is_empty(), "{got:?}");
    }
}
