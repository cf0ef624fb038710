//! The SQL log explorer: an analyst's own `SELECT` over the `warden` database, run with
//! ClickHouse's `readonly=1` (no writes, no settings changes, no table functions), a time
//! limit and a row limit. Before it is sent, the text is checked here too, so a mistake is
//! explained plainly: one statement, SELECT or WITH only, no other database, no FORMAT,
//! INTO OUTFILE or SETTINGS.

use std::time::Duration;

use serde_json::{json, Value};

use super::clickhouse_http::{ClickHouseHttp, QueryError};
use super::table::Table;

/// The longest query text accepted.
pub const MAX_SQL_BYTES: usize = 64 * 1024;

/// Ready-made queries the dashboard offers: title and SQL.
pub const PRESETS: [(&str, &str); 5] = [
    (
        "Trace a user's activity (last 24 hours)",
        "SELECT ts, user, src_ip, country, host, app_id, method, path, status, action, rule_id, \
         bytes_up, bytes_down\nFROM http_events\nWHERE user = 'alice' AND ts >= now() - INTERVAL 1 DAY\n\
         ORDER BY ts DESC\nLIMIT 200",
    ),
    (
        "DLP matches by app (last 7 days)",
        "SELECT app_id, detector, count() AS requests, sum(finding_count) AS findings,\n       \
         countIf(action = 'block') AS blocked, uniq(user) AS users\nFROM dlp_findings\n\
         WHERE ts >= now() - INTERVAL 7 DAY\nGROUP BY app_id, detector\nORDER BY findings DESC\nLIMIT 100",
    ),
    (
        "Unapproved and in-review usage by day (last 30 days)",
        "SELECT toDate(ts) AS day, app_id, app_status, count() AS requests, uniq(user) AS users,\n       \
         sum(bytes_up) AS bytes_up\nFROM http_events\n\
         WHERE ts >= now() - INTERVAL 30 DAY AND app_status IN ('unapproved', 'in_review')\n\
         GROUP BY day, app_id, app_status\nORDER BY day DESC, requests DESC\nLIMIT 500",
    ),
    (
        "Requests from unexpected countries (last 7 days)",
        "SELECT country, app_id, count() AS requests, uniq(user) AS users, any(src_ip) AS example_ip\n\
         FROM http_events\nWHERE ts >= now() - INTERVAL 7 DAY AND app_id != ''\n  \
         AND country NOT IN ('', 'US', 'GB', 'DE')\nGROUP BY country, app_id\nORDER BY requests DESC\nLIMIT 100",
    ),
    (
        "Uploads to AI apps with file names (last 7 days)",
        "SELECT ts, user, app_id, file_names, bytes_up, action\nFROM http_events\n\
         WHERE upload = 1 AND ts >= now() - INTERVAL 7 DAY\nORDER BY ts DESC\nLIMIT 200",
    ),
];

/// Why an explorer query was not run or failed.
#[derive(Debug, thiserror::Error)]
pub enum ExplorerError {
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Query(#[from] QueryError),
}

/// An explorer answer.
#[derive(Debug, Clone)]
pub struct ExplorerAnswer {
    pub table: Table,
    pub types: Vec<String>,
    /// More rows existed than the row limit allowed.
    pub truncated: bool,
    pub rows_read: u64,
    pub elapsed_ms: f64,
}

impl ExplorerAnswer {
    pub fn json(&self) -> Value {
        json!({
            "columns": self.table.columns,
            "types": self.types,
            "rows": self.table.rows,
            "row_count": self.table.rows.len(),
            "truncated": self.truncated,
            "rows_read": self.rows_read,
            "elapsed_ms": (self.elapsed_ms * 10.0).round() / 10.0,
        })
    }
}

/// Runs `sql` read-only in the configured database, stopping after `timeout` and
/// returning at most `max_rows` rows.
pub async fn run(
    clickhouse: &ClickHouseHttp,
    sql: &str,
    timeout: Duration,
    max_rows: usize,
) -> Result<ExplorerAnswer, ExplorerError> {
    let databases = clickhouse
        .query("SELECT name FROM system.databases", &[])
        .await?;
    let databases: Vec<String> = databases
        .rows
        .iter()
        .filter_map(|r| r.first().and_then(Value::as_str).map(str::to_string))
        .collect();
    let statement = check(sql, clickhouse.database(), &databases)?;
    let secs = timeout.as_secs().max(1);
    let settings = [
        ("max_execution_time", secs.to_string()),
        ("max_result_rows", (max_rows + 1).to_string()),
        ("max_result_bytes", (16u64 << 20).to_string()),
        ("result_overflow_mode", "break".to_string()),
        ("max_memory_usage", (2u64 << 30).to_string()),
        // Last: once readonly, the query itself can change nothing, settings included.
        ("readonly", "1".to_string()),
    ];
    let answer = clickhouse.query(statement, &settings).await?;
    let types = answer.columns.iter().map(|(_, t)| t.clone()).collect();
    let (rows_read, elapsed_ms) = (answer.rows_read, answer.elapsed_ms);
    let mut table = Table::from_answer(answer);
    let truncated = table.rows.len() > max_rows;
    table.rows.truncate(max_rows);
    Ok(ExplorerAnswer {
        table,
        types,
        truncated,
        rows_read,
        elapsed_ms,
    })
}

/// One lexical token of the query.
#[derive(Debug, PartialEq, Eq)]
enum Token<'a> {
    Word(&'a str),
    Quoted(String),
    Dot,
    Semicolon,
    Other,
}

/// Checks `sql` and returns the statement without a trailing `;`.
pub fn check<'a>(
    sql: &'a str,
    database: &str,
    databases: &[String],
) -> Result<&'a str, ExplorerError> {
    let refuse = |m: &str| Err(ExplorerError::Refused(m.to_string()));
    if sql.len() > MAX_SQL_BYTES {
        return refuse("the query is longer than 64 KiB");
    }
    let tokens = tokenize(sql)?;
    let Some(first) = tokens.iter().find(|t| !matches!(t, Token::Semicolon)) else {
        return refuse("the query is empty");
    };
    let first_word = match first {
        Token::Word(w) => w.to_ascii_uppercase(),
        _ => String::new(),
    };
    if first_word != "SELECT" && first_word != "WITH" {
        return refuse("only SELECT queries can be run in the log explorer (read-only)");
    }
    let statement_end = tokens.iter().position(|t| *t == Token::Semicolon);
    if let Some(end) = statement_end {
        if tokens[end..].iter().any(|t| *t != Token::Semicolon) {
            return refuse("one statement at a time: remove everything after the first ';'");
        }
    }
    for (i, token) in tokens.iter().enumerate() {
        let name = match token {
            Token::Word(w) => w.to_string(),
            Token::Quoted(q) => q.clone(),
            _ => continue,
        };
        if let Token::Word(w) = token {
            match w.to_ascii_uppercase().as_str() {
                "FORMAT" => return refuse("leave out FORMAT: the explorer chooses the format"),
                "OUTFILE" => return refuse("INTO OUTFILE is not allowed"),
                "SETTINGS" => return refuse("SETTINGS cannot be changed in the log explorer"),
                _ => {}
            }
        }
        let qualifies = tokens.get(i + 1) == Some(&Token::Dot)
            && matches!(tokens.get(i + 2), Some(Token::Word(_) | Token::Quoted(_)));
        let after_dot = i > 0 && tokens.get(i - 1) == Some(&Token::Dot);
        if qualifies && !after_dot && name != database && databases.contains(&name) {
            return Err(ExplorerError::Refused(format!(
                "only the {database:?} database can be queried, not {name:?}"
            )));
        }
    }
    let trimmed = sql.trim_end();
    let trimmed = trimmed.trim_end_matches(|c: char| c == ';' || c.is_whitespace());
    Ok(trimmed)
}

fn tokenize(sql: &str) -> Result<Vec<Token<'_>>, ExplorerError> {
    let bytes = sql.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = sql[i + 2..].find("*/").ok_or_else(|| {
                    ExplorerError::Refused("a /* comment is not closed".to_string())
                })?;
                i += 2 + end + 2;
            }
            b'\'' | b'"' | b'`' => {
                let (text, next) = quoted(sql, i)?;
                tokens.push(if c == b'\'' {
                    Token::Other
                } else {
                    Token::Quoted(text)
                });
                i = next;
            }
            b'.' => {
                tokens.push(Token::Dot);
                i += 1;
            }
            b';' => {
                tokens.push(Token::Semicolon);
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                tokens.push(Token::Word(&sql[start..i]));
            }
            c if c.is_ascii_digit() => {
                // Numbers, including 1.5 and 1e-3: the dot inside is not a qualifier.
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.' || bytes[i] == b'_')
                {
                    i += 1;
                }
                tokens.push(Token::Other);
            }
            _ => {
                tokens.push(Token::Other);
                i += 1;
            }
        }
    }
    Ok(tokens)
}

/// The text of the literal or quoted identifier starting at `start`, and where it ends.
fn quoted(sql: &str, start: usize) -> Result<(String, usize), ExplorerError> {
    let bytes = sql.as_bytes();
    let quote = bytes[start];
    let mut text = Vec::new();
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if i + 1 < bytes.len() => {
                text.push(bytes[i + 1]);
                i += 2;
            }
            b if b == quote => {
                if bytes.get(i + 1) == Some(&quote) {
                    text.push(quote);
                    i += 2;
                } else {
                    return Ok((String::from_utf8_lossy(&text).into_owned(), i + 1));
                }
            }
            b => {
                text.push(b);
                i += 1;
            }
        }
    }
    Err(ExplorerError::Refused(format!(
        "a {} quote is not closed",
        quote as char
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dbs() -> Vec<String> {
        ["default", "system", "warden", "secrets"]
            .map(String::from)
            .to_vec()
    }

    fn ok(sql: &str) -> bool {
        check(sql, "warden", &dbs()).is_ok()
    }

    #[test]
    fn reads_in_warden_are_allowed() {
        assert!(ok("SELECT count() FROM http_events"));
        assert!(ok("  with 1 AS x SELECT x;  "));
        assert!(ok(
            "SELECT e.user FROM warden.http_events AS e WHERE e.ts > now() - 1.5"
        ));
        assert!(ok(
            "SELECT 'system.tables; DROP' FROM http_events -- FORMAT\n"
        ));
        assert_eq!(check("SELECT 1 ;; ", "warden", &dbs()).unwrap(), "SELECT 1");
    }

    #[test]
    fn everything_else_is_refused_with_a_reason() {
        for sql in [
            "",
            "INSERT INTO http_events VALUES (1)",
            "DROP TABLE http_events",
            "ALTER TABLE http_events DELETE WHERE 1",
            "SELECT 1; DROP TABLE http_events",
            "SELECT * FROM system.tables",
            "SELECT * FROM `system`.`users`",
            "SELECT * FROM \"secrets\".t",
            "SELECT 1 FORMAT TSV",
            "SELECT 1 INTO OUTFILE '/tmp/x'",
            "SELECT 1 SETTINGS readonly = 0",
            "SELECT 'unclosed",
            "SELECT /* open",
            "/* c */ KILL QUERY WHERE 1",
        ] {
            assert!(!ok(sql), "{sql:?} was accepted");
        }
    }
}
