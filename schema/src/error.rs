//! The crate's error type: what failed, and the server's own words when it was ClickHouse.

/// Errors from migrations, retention and queries this crate runs.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A statement of a migration failed; nothing after it ran and the migration is not
    /// recorded, so fixing the cause and running again resumes from it.
    #[error(
        "migration {version:04}_{name} failed at statement {index}:\n{statement}\nClickHouse said: {source}"
    )]
    Migration {
        version: u32,
        name: String,
        /// 1-based position of the statement in the file.
        index: usize,
        statement: String,
        #[source]
        source: clickhouse::error::Error,
    },
    /// An applied migration's text differs from the embedded one: someone edited a migration
    /// after it ran. Migrations are append-only; write a new one instead.
    #[error(
        "migration {version:04}_{name} was applied with checksum {applied} but the file now has {embedded}; add a new migration instead of editing an applied one"
    )]
    ChecksumMismatch {
        version: u32,
        name: String,
        applied: String,
        embedded: String,
    },
    /// The database records a migration this build does not know (a newer gateway ran).
    #[error("database has migration {version:04}_{name}, which this build does not know; upgrade the gateway")]
    UnknownMigration { version: u32, name: String },
    /// A query other than a migration statement failed.
    #[error("{context}: {source}")]
    Query {
        context: String,
        #[source]
        source: clickhouse::error::Error,
    },
    /// A database name that is not a plain identifier.
    #[error("invalid database name {0:?}: use letters, digits and '_' only")]
    InvalidDatabase(String),
}

impl Error {
    pub(crate) fn query(
        context: impl Into<String>,
    ) -> impl FnOnce(clickhouse::error::Error) -> Self {
        let context = context.into();
        move |source| Error::Query { context, source }
    }
}
