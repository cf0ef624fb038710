//! Builds the `clickhouse::Client` every Warden component uses, with the settings that work on
//! ClickHouse 18.16 (Debian's package) as well as current releases:
//!
//! - validation off: 18.16 lacks the `RowBinaryWithNamesAndTypes` format the crate validates
//!   with, so rows travel as plain RowBinary (a test checks each row type against its table);
//! - LZ4 on inserts: the crate sends ClickHouse's native compressed blocks with `decompress=1`,
//!   which 18.16 accepts (tested against it), so there is no fallback to negotiate.

use clickhouse::{Client, Compression};

use crate::Error;

/// Where ClickHouse is and who to be there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// HTTP interface, e.g. `http://127.0.0.1:8123`.
    pub url: String,
    pub database: String,
    pub user: Option<String>,
    pub password: Option<String>,
    /// LZ4-compress inserts (on by default).
    pub compression: bool,
}

impl ConnectOptions {
    pub fn new(url: impl Into<String>, database: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            database: database.into(),
            user: None,
            password: None,
            compression: true,
        }
    }
}

impl Default for ConnectOptions {
    /// The gateway's defaults: `http://127.0.0.1:8123`, database `warden`.
    fn default() -> Self {
        Self::new("http://127.0.0.1:8123", "warden")
    }
}

/// A client for `options`. Connects lazily: nothing is sent until the first query.
pub fn connect(options: &ConnectOptions) -> Result<Client, Error> {
    check_identifier(&options.database)?;
    let compression = if options.compression {
        Compression::Lz4
    } else {
        Compression::None
    };
    let mut client = Client::default()
        .with_url(&options.url)
        .with_database(&options.database)
        .with_validation(false)
        .with_compression(compression);
    if let Some(user) = &options.user {
        client = client.with_user(user);
    }
    if let Some(password) = &options.password {
        client = client.with_password(password);
    }
    Ok(client)
}

/// Database names go into DDL unquoted, so only plain identifiers are accepted.
pub(crate) fn check_identifier(name: &str) -> Result<(), Error> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidDatabase(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_must_be_identifiers() {
        for ok in ["warden", "_x", "w2_test"] {
            assert!(check_identifier(ok).is_ok(), "{ok}");
        }
        for bad in ["", "2w", "a-b", "a.b", "a b", "a;DROP"] {
            assert!(check_identifier(bad).is_err(), "{bad}");
        }
        assert!(connect(&ConnectOptions::new("http://x", "bad name")).is_err());
    }
}
