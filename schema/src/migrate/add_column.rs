//! `ALTER TABLE t ADD COLUMN IF NOT EXISTS c ...` on every supported server. Current ClickHouse
//! releases take that form; 18.16 (the tests' server) has no `IF NOT EXISTS` there. So the runner
//! asks `system.columns` whether the column exists and runs the plain form only when it does
//! not, which keeps such a migration safe to run again, as every migration must be.
//!
//! Only statements from this crate's own embedded migrations come here; names are checked to
//! be plain identifiers all the same, since they are written into a query.

/// An `ADD COLUMN IF NOT EXISTS` statement, taken apart.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct AddColumn<'s> {
    pub table: &'s str,
    pub column: &'s str,
    /// The statement without `IF NOT EXISTS`.
    pub plain: String,
}

fn identifier(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Recognises `ALTER TABLE <t> ADD COLUMN IF NOT EXISTS <c> <type ...>` (comment lines before
/// it allowed); anything else is `None` and runs as written.
pub(super) fn parse(statement: &str) -> Option<AddColumn<'_>> {
    let code = statement
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("--"))?;
    let rest = code.strip_prefix("ALTER TABLE ")?;
    let (table, rest) = rest.split_once(" ADD COLUMN IF NOT EXISTS ")?;
    let column = rest.split_whitespace().next()?;
    let table = table.trim();
    (identifier(table) && identifier(column)).then(|| AddColumn {
        table,
        column,
        plain: statement.replacen(" ADD COLUMN IF NOT EXISTS ", " ADD COLUMN ", 1),
    })
}

impl AddColumn<'_> {
    /// Counts the column in the connection's database (0 or 1).
    pub fn exists_query(&self) -> String {
        format!(
            "SELECT count() FROM system.columns WHERE database = currentDatabase() \
             AND table = '{}' AND name = '{}'",
            self.table, self.column
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_add_column_if_not_exists_is_taken_apart() {
        let s = "-- why\nALTER TABLE http_events ADD COLUMN IF NOT EXISTS tenant String DEFAULT ''";
        let got = parse(s).unwrap();
        assert_eq!((got.table, got.column), ("http_events", "tenant"));
        assert!(got
            .plain
            .ends_with("ALTER TABLE http_events ADD COLUMN tenant String DEFAULT ''"));
        assert!(parse("CREATE TABLE IF NOT EXISTS t (a UInt8) ENGINE = Memory").is_none());
        assert!(parse("ALTER TABLE t ADD COLUMN IF NOT EXISTS `x'y` String").is_none());
    }
}
