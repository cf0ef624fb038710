//! Why a batch did not reach ClickHouse: the writer logs it once and spools the batch.

use std::time::Duration;

use schema::clickhouse;

/// A failed insert or replay lookup.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InsertError {
    #[error("insert into {table} failed: {source}")]
    Insert {
        table: &'static str,
        source: clickhouse::error::Error,
    },
    #[error("looking for already stored events in {table} failed: {source}")]
    Lookup {
        table: &'static str,
        source: clickhouse::error::Error,
    },
    #[error("{what} timed out after {after:?}")]
    Timeout { what: &'static str, after: Duration },
}
