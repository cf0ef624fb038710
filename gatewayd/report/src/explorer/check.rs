//! The explorer's text check, the second wall behind the reader user's own permissions: one
//! statement, SELECT or WITH only, no name qualified by another database, no table function
//! or dictionary lookup that reads outside the `warden` tables, no FORMAT, INTO OUTFILE or
//! SETTINGS. A refusal says why in words an analyst can act on.
//!
//! It must never accept text its tokenizer could not read the way ClickHouse does.

use super::lexer::{tokenize, Token};
use super::ExplorerError;

/// The longest query text accepted.
pub const MAX_SQL_BYTES: usize = 64 * 1024;

/// Databases refused even when the list the server gave lacks them (a reader may not be
/// shown them, and they exist on every server).
const ALWAYS_OTHER: [&str; 4] = [
    "system",
    "information_schema",
    "INFORMATION_SCHEMA",
    "default",
];

/// Functions (lowercase) that read another database, a file, a URL, another server or a
/// dictionary. Table or not, they are refused wherever they are called.
const OUTSIDE_FUNCTIONS: [&str; 34] = [
    "merge",
    "loop",
    "remote",
    "remotesecure",
    "cluster",
    "clusterallreplicas",
    "url",
    "urlcluster",
    "file",
    "filecluster",
    "input",
    "s3",
    "s3cluster",
    "gcs",
    "oss",
    "cosn",
    "hdfs",
    "hdfscluster",
    "azureblobstorage",
    "azureblobstoragecluster",
    "mysql",
    "postgresql",
    "sqlite",
    "mongodb",
    "redis",
    "jdbc",
    "odbc",
    "executable",
    "dictionary",
    "joinget",
    "joingetornull",
    "hascolumnintable",
    "mergetreeindex",
    "mergetreeprojection",
];

/// Prefixes of such function families (dictGet*, iceberg*, timeSeries* ...).
const OUTSIDE_PREFIXES: [&str; 9] = [
    "dictget",
    "dicthas",
    "dictisin",
    "iceberg",
    "deltalake",
    "hudi",
    "paimon",
    "timeseries",
    "ytsaurus",
];

/// Table functions that read nothing stored, accepted after FROM and JOIN.
const GENERATORS: [&str; 8] = [
    "numbers",
    "numbers_mt",
    "zeros",
    "zeros_mt",
    "values",
    "null",
    "generate_series",
    "generateseries",
];

fn refuse<T>(message: impl Into<String>) -> Result<T, ExplorerError> {
    Err(ExplorerError::Refused(message.into()))
}

/// Checks `sql` against the rules above and returns the statement without a trailing `;`.
/// `databases` are the server's databases; only `database` may qualify a name.
pub fn check<'a>(
    sql: &'a str,
    database: &str,
    databases: &[String],
) -> Result<&'a str, ExplorerError> {
    if sql.len() > MAX_SQL_BYTES {
        return refuse("the query is longer than 64 KiB");
    }
    let tokens = tokenize(sql)?;
    let Some(first) = tokens.iter().find(|t| !matches!(t, Token::Semicolon)) else {
        return refuse("the query is empty");
    };
    let starts_read = matches!(first, Token::Word(w)
        if w.eq_ignore_ascii_case("SELECT") || w.eq_ignore_ascii_case("WITH"));
    if !starts_read {
        return refuse("only SELECT queries can be run in the log explorer (read-only)");
    }
    if let Some(end) = tokens.iter().position(|t| *t == Token::Semicolon) {
        if tokens[end..].iter().any(|t| *t != Token::Semicolon) {
            return refuse("one statement at a time: remove everything after the first ';'");
        }
    }
    let other_database = |name: &str| {
        name != database && (ALWAYS_OTHER.contains(&name) || databases.iter().any(|d| d == name))
    };
    for (i, token) in tokens.iter().enumerate() {
        let name = match token {
            Token::Word(w) => *w,
            Token::Name(n) => n.as_str(),
            _ => continue,
        };
        if let Token::Word(word) = token {
            check_word(
                word,
                tokens.get(i + 1),
                i.checked_sub(1).and_then(|p| tokens.get(p)),
            )?;
        }
        let qualifies = tokens.get(i + 1) == Some(&Token::Dot)
            && matches!(tokens.get(i + 2), Some(Token::Word(_) | Token::Name(_)));
        if qualifies && other_database(name) {
            return refuse(format!(
                "only the {database:?} database can be queried, not {name:?}"
            ));
        }
    }
    let trimmed = sql.trim_end();
    Ok(trimmed.trim_end_matches(|c: char| c == ';' || c.is_whitespace()))
}

/// Keywords the explorer decides itself, and calls that read outside `warden`.
fn check_word(
    word: &str,
    next: Option<&Token<'_>>,
    previous: Option<&Token<'_>>,
) -> Result<(), ExplorerError> {
    match word.to_ascii_uppercase().as_str() {
        "FORMAT" => return refuse("leave out FORMAT: the explorer chooses the format"),
        "OUTFILE" => return refuse("INTO OUTFILE is not allowed"),
        "SETTINGS" => return refuse("SETTINGS cannot be changed in the log explorer"),
        _ => {}
    }
    if next != Some(&Token::OpenParen) {
        return Ok(());
    }
    let lower = word.to_ascii_lowercase();
    if OUTSIDE_FUNCTIONS.contains(&lower.as_str())
        || OUTSIDE_PREFIXES.iter().any(|p| lower.starts_with(p))
    {
        return refuse(format!(
            "{word}() reads outside the warden tables and cannot be used in the log explorer"
        ));
    }
    let after_from = matches!(previous, Some(Token::Word(w))
        if w.eq_ignore_ascii_case("FROM") || w.eq_ignore_ascii_case("JOIN"));
    if after_from && !GENERATORS.contains(&lower.as_str()) {
        return refuse(format!(
            "table function {word}() cannot be used in the log explorer: query the warden \
             tables (numbers() and values() are allowed)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dbs() -> Vec<String> {
        ["default", "system", "warden", "secrets", "hr", "1hr"]
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
        assert!(ok(
            "SELECT countMerge(requests), URLHierarchy(path) FROM app_usage_hourly, http_events"
        ));
        assert!(ok(
            "SELECT number FROM numbers(10) JOIN values('x UInt8', 1) USING x"
        ));
        assert!(ok("SELECT '$$ # /* \\x68r' AS text, 1e-3, 0x1F"));
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
            "SELECT 1 /* x */; /* y */ DROP TABLE http_events",
            "SELECT 1 -- x\n; INSERT INTO http_events (user) VALUES ('m')",
            "SELECT * FROM system.tables",
            "SELECT * FROM system . tables",
            "SELECT * FROM system/**/.tables",
            "SELECT * FROM system\u{0c}.tables",
            "SELECT * FROM system\u{a0}.tables",
            "SELECT * FROM information_schema.tables",
            "SELECT * FROM `system`.`users`",
            "SELECT * FROM \"secrets\".t",
            "SELECT * FROM hr.salaries",
            "SELECT * FROM 1hr.salaries",
            "SELECT * FROM http_events AS e, hr.salaries AS s",
            "SELECT * FROM merge('hr', '^salaries$')",
            "SELECT * FROM merge('system', '.*')",
            "SELECT * FROM MERGE ('hr', '^salaries$')",
            "SELECT * FROM http_events, merge('hr', '^s')",
            "SELECT * FROM remote('127.0.0.1:9000', hr.salaries)",
            "SELECT * FROM remoteSecure('127.0.0.1:9440', 'hr', 'salaries')",
            "SELECT * FROM url('http://127.0.0.1:8123/?query=DROP', CSV, 'a String')",
            "SELECT * FROM file('/etc/passwd', CSV, 'a String')",
            "SELECT * FROM s3('http://x/y', CSV)",
            "SELECT * FROM loop('hr', 'salaries')",
            "SELECT * FROM somethingNew('hr')",
            "SELECT dictGet('hr.d', 'x', 1)",
            "SELECT joinGet('hr.j', 'x', 1)",
            "SELECT 1 FORMAT TSV",
            "SELECT 1 INTO OUTFILE '/tmp/x'",
            "SELECT 1 SETTINGS readonly = 0",
            "SELECT 'unclosed",
            "SELECT /* open",
            "/* c */ KILL QUERY WHERE 1",
            "SELECT 1 /* /* */ FROM hr.salaries */",
            "SELECT $$ ' $$ FROM hr.salaries -- '",
            "SELECT 1 # '\nFROM hr.salaries -- '",
            "SELECT * FROM `\\x68r`.salaries",
        ] {
            assert!(!ok(sql), "{sql:?} was accepted");
        }
    }

    #[test]
    fn refusals_name_the_reason() {
        let message = |sql| match check(sql, "warden", &dbs()) {
            Err(ExplorerError::Refused(m)) => m,
            other => panic!("{sql}: {other:?}"),
        };
        assert!(message("SELECT * FROM hr.salaries").contains("\"hr\""));
        assert!(message("SELECT * FROM merge('hr', '^s')").contains("merge()"));
        assert!(message("SELECT 1 # x").contains("'#'"));
    }
}
