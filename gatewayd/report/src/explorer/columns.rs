//! The explorer's column reference: every table the migrations create, with its columns and
//! their types, read from the schema crate's own migration text (`schema::MIGRATIONS`), so
//! the reference cannot drift from the tables. It also names the private columns (the
//! audited prompt) and the tables that hold them, for the explorer's privacy check.
//!
//! It must never be written by hand: a column exists here because a migration creates it.

use std::sync::OnceLock;

/// The column that holds audited prompt text: readable only by investigators.
pub const PROMPT_COLUMN: &str = "audit_prompt";

/// One table of the `warden` database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRef {
    pub name: String,
    /// The comment lines above its `CREATE TABLE`.
    pub about: String,
    /// Name and ClickHouse type, in order.
    pub columns: Vec<(String, String)>,
}

/// Every table the migrations create, in migration order.
pub fn tables() -> &'static [TableRef] {
    static TABLES: OnceLock<Vec<TableRef>> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut tables: Vec<TableRef> = schema::MIGRATIONS
            .iter()
            .flat_map(|m| parse(m.sql))
            .collect();
        for (table, column) in schema::MIGRATIONS.iter().flat_map(|m| added_columns(m.sql)) {
            if let Some(t) = tables.iter_mut().find(|t| t.name == table) {
                t.columns.push(column);
            }
        }
        tables
    })
}

/// The columns a migration adds with `ALTER TABLE t ADD COLUMN [IF NOT EXISTS] name Type
/// [DEFAULT ...];` (one statement per line), as (table, (name, type)).
fn added_columns(sql: &str) -> Vec<(String, (String, String))> {
    sql.lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("ALTER TABLE ")?;
            let (table, rest) = rest.split_once(" ADD COLUMN ")?;
            let rest = rest.trim_start_matches("IF NOT EXISTS ");
            let rest = rest.split(" DEFAULT ").next()?.trim_end_matches(';');
            let (name, kind) = rest.trim().split_once(' ')?;
            Some((
                table.trim().to_string(),
                (name.to_string(), kind.trim().to_string()),
            ))
        })
        .collect()
}

/// The tables that hold [`PROMPT_COLUMN`].
pub fn prompt_tables() -> impl Iterator<Item = &'static str> {
    tables()
        .iter()
        .filter(|t| t.columns.iter().any(|(c, _)| c == PROMPT_COLUMN))
        .map(|t| t.name.as_str())
}

/// The `CREATE TABLE` statements of one migration's text.
fn parse(sql: &str) -> Vec<TableRef> {
    let mut out = Vec::new();
    let mut about: Vec<&str> = Vec::new();
    let mut lines = sql.lines();
    while let Some(line) = lines.next() {
        let trimmed = line.trim();
        if let Some(comment) = trimmed.strip_prefix("--") {
            about.push(comment.trim());
            continue;
        }
        let Some(rest) = trimmed.strip_prefix("CREATE TABLE ") else {
            if !trimmed.is_empty() {
                about.clear();
            }
            continue;
        };
        let name = rest
            .trim_start_matches("IF NOT EXISTS ")
            .split(|c: char| c.is_whitespace() || c == '(')
            .next()
            .unwrap_or("")
            .to_string();
        let mut body = String::new();
        let mut depth = 0i32;
        let mut started = false;
        for c in rest.chars().chain(std::iter::once('\n')) {
            step(c, &mut depth, &mut started, &mut body);
        }
        while !started || depth > 0 {
            let Some(line) = lines.next() else { break };
            let code = line.split("--").next().unwrap_or("");
            for c in code.chars().chain(std::iter::once('\n')) {
                step(c, &mut depth, &mut started, &mut body);
            }
        }
        out.push(TableRef {
            name,
            about: about.join(" "),
            columns: columns(&body),
        });
        about.clear();
    }
    out
}

/// Collects the text inside the outermost parentheses.
fn step(c: char, depth: &mut i32, started: &mut bool, body: &mut String) {
    match c {
        '(' => {
            if *started && *depth > 0 {
                body.push(c);
            }
            *started = true;
            *depth += 1;
        }
        ')' if *started => {
            *depth -= 1;
            if *depth > 0 {
                body.push(c);
            }
        }
        c if *started && *depth > 0 => body.push(c),
        _ => {}
    }
}

/// `name Type, name Type(a, b), ...` split at top-level commas.
fn columns(body: &str) -> Vec<(String, String)> {
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    for c in body.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    parts
        .iter()
        .filter_map(|part| {
            let part = part.split_whitespace().collect::<Vec<_>>().join(" ");
            let (name, kind) = part.split_once(' ')?;
            Some((name.to_string(), kind.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_table_is_described_with_its_columns() {
        let names: Vec<&str> = tables().iter().map(|t| t.name.as_str()).collect();
        for table in schema::tables::RAW
            .iter()
            .chain(schema::tables::ROLLUPS.iter())
        {
            assert!(names.contains(table), "{table} missing from {names:?}");
        }
        let events = &tables()[0];
        assert_eq!(events.name, "http_events");
        assert_eq!(events.columns.len(), 39);
        // Added by a later migration's ALTER TABLE, described all the same.
        assert_eq!(
            events.columns.last(),
            Some(&("ai_key_org_managed".into(), "UInt8".into()))
        );
        assert_eq!(events.columns[0], ("ts".into(), "DateTime('UTC')".into()));
        assert!(events.about.contains("One row per HTTP transaction"));
        let user_daily = tables().iter().find(|t| t.name == "user_daily").unwrap();
        assert!(user_daily.columns.contains(&(
            "devices".into(),
            "AggregateFunction(uniqIf, String, UInt8)".into()
        )));
        assert_eq!(prompt_tables().collect::<Vec<_>>(), ["http_events"]);
    }
}
