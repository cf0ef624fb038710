//! The reader user: the ClickHouse user reports and the log explorer run as, allowed to
//! `SELECT` in the gateway's database and nothing else. Where the server has SQL users
//! (ClickHouse 20.4 and later: `CREATE USER`, `GRANT`) and the writer may manage them, the
//! migration step creates it; elsewhere — ClickHouse 18.16, or a managed service whose users
//! are made in its console — it is left to the operator, and the outcome says so.
//!
//! It must never grant more than `SELECT ON <database>.*`, and never put the password itself
//! into SQL: only its SHA-256 is sent (`IDENTIFIED WITH sha256_hash`).

use clickhouse::Client;
use sha2::{Digest, Sha256};

use crate::client::check_identifier;
use crate::Error;

/// What [`ensure_reader`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderSetup {
    /// The user exists (created now or before) and holds `SELECT` on the database.
    Granted,
    /// The server has no SQL users (its version is given): define the reader in users.xml.
    Unsupported(String),
    /// The server refused (the writer may not manage users, or users are read-only there):
    /// create the reader by hand. The server's words, without the password hash.
    Refused(String),
}

/// Creates `user` (if missing) with `password` and grants it `SELECT ON database.*`, as the
/// client's (writer) user. Unreachable servers are errors; refusals are outcomes.
pub async fn ensure_reader(
    client: &Client,
    database: &str,
    user: &str,
    password: &str,
) -> Result<ReaderSetup, Error> {
    check_identifier(database)?;
    if !user
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        || user.is_empty()
    {
        return Ok(ReaderSetup::Refused(format!(
            "{user:?} is not a plain user name"
        )));
    }
    let version: String = client
        .query("SELECT version()")
        .fetch_one()
        .await
        .map_err(Error::query("reading the server version"))?;
    if !has_sql_users(&version) {
        return Ok(ReaderSetup::Unsupported(version));
    }
    let hash = hex(&Sha256::digest(password.as_bytes()));
    for statement in statements(database, user, password) {
        match client.query(&statement).execute().await {
            Ok(()) => {}
            Err(clickhouse::error::Error::BadResponse(message)) => {
                return Ok(ReaderSetup::Refused(message.replace(&hash, "<hash>")));
            }
            Err(other) => return Err(Error::query("creating the reader user")(other)),
        }
    }
    Ok(ReaderSetup::Granted)
}

/// The statements that create the reader: the user with the password's SHA-256, and its one
/// grant. `user` and `database` must be plain names (checked by [`ensure_reader`]).
pub fn statements(database: &str, user: &str, password: &str) -> [String; 2] {
    let hash = hex(&Sha256::digest(password.as_bytes()));
    [
        format!("CREATE USER IF NOT EXISTS `{user}` IDENTIFIED WITH sha256_hash BY '{hash}'"),
        format!("GRANT SELECT ON {database}.* TO `{user}`"),
    ]
}

/// SQL-driven access control arrived in ClickHouse 20.4.
fn has_sql_users(version: &str) -> bool {
    let mut parts = version
        .trim()
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    (major, minor) >= (20, 4)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_users_exist_from_20_4() {
        assert!(!has_sql_users("18.16.1"));
        assert!(!has_sql_users("20.3.9.70"));
        assert!(has_sql_users("20.4.2.9"));
        assert!(has_sql_users("25.8.1.1"));
        assert!(!has_sql_users("garbage"));
    }

    #[test]
    fn the_hash_is_lowercase_hex_sha256() {
        assert_eq!(
            hex(&Sha256::digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
