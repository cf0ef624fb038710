//! Sorting a list by any of its columns (`sort=COLUMN&dir=asc|desc`): the column is checked
//! against the list's own columns before anything uses it, so a sort key never reaches SQL as
//! text from the request — only a column name taken from the report's constant list does.
//!
//! It must never build SQL from a name it did not find in the list it was given.

use std::cmp::Ordering;

use serde_json::Value;

use super::filter::{FilterError, ReportFilter};
use super::table::plain;

/// A checked sort: one of the list's columns and a direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    /// The column, borrowed from the list's own column names.
    pub column: &'static str,
    pub descending: bool,
}

impl SortKey {
    /// `column ASC|DESC` for `ORDER BY`: the column came from the list's constant names.
    pub fn order_by(&self) -> String {
        format!(
            "{} {}",
            self.column,
            if self.descending { "DESC" } else { "ASC" }
        )
    }
}

/// The sort `filter` asks for among `columns`, or `default` (descending unless `dir` says
/// otherwise); a name that is not one of `columns` is refused, listing them.
pub fn key(
    filter: &ReportFilter,
    columns: &[&'static str],
    default: &'static str,
) -> Result<SortKey, FilterError> {
    let wanted = filter.sort.as_deref().unwrap_or(default);
    let Some(column) = columns.iter().copied().find(|c| *c == wanted) else {
        return Err(unknown(wanted, columns));
    };
    Ok(SortKey {
        column,
        descending: filter.descending.unwrap_or(true),
    })
}

/// The refusal for a sort by something that is not a column.
pub fn unknown(wanted: &str, columns: &[&str]) -> FilterError {
    let shown: String = wanted.chars().take(64).collect();
    FilterError(format!(
        "cannot sort by {shown:?}: sort by one of {}",
        columns.join(", ")
    ))
}

/// Orders two cells: numbers by value, everything else as text (case-insensitive), empty and
/// null last whatever the direction.
pub fn compare(a: &Value, b: &Value, descending: bool) -> Ordering {
    let empty = |v: &Value| v.is_null() || v.as_str() == Some("");
    match (empty(a), empty(b)) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let number = |v: &Value| {
        v.as_f64()
            .or_else(|| v.as_str().and_then(|s| s.parse::<f64>().ok()))
    };
    let order = match (number(a), number(b)) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => plain(a).to_lowercase().cmp(&plain(b).to_lowercase()),
    };
    if descending {
        order.reverse()
    } else {
        order
    }
}

/// Sorts `rows` (JSON objects) by `column` (stable: ties keep their order).
pub fn sort_objects(rows: &mut [Value], column: &str, descending: bool) {
    rows.sort_by(|a, b| compare(&a[column], &b[column], descending));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_the_lists_columns_are_accepted() {
        let mut filter = ReportFilter::last(60, 1000);
        let columns = ["user", "requests"];
        assert_eq!(
            key(&filter, &columns, "requests").unwrap().order_by(),
            "requests DESC"
        );
        filter.sort = Some("user".into());
        filter.descending = Some(false);
        assert_eq!(
            key(&filter, &columns, "requests").unwrap().order_by(),
            "user ASC"
        );
        for bad in ["users", "requests; DROP TABLE x", "user DESC", "../x", "'"] {
            filter.sort = Some(bad.into());
            let err = key(&filter, &columns, "requests").unwrap_err();
            assert!(err.0.contains("sort by one of user, requests"), "{err}");
        }
    }

    #[test]
    fn numbers_sort_by_value_and_blanks_go_last() {
        let mut rows = vec![
            json!({"n": 9, "s": "b"}),
            json!({"n": null, "s": ""}),
            json!({"n": 10, "s": "A"}),
        ];
        sort_objects(&mut rows, "n", true);
        assert_eq!(rows[0]["n"], 10);
        assert!(rows[2]["n"].is_null());
        sort_objects(&mut rows, "s", false);
        assert_eq!(rows[0]["s"], "A");
        assert_eq!(rows[2]["s"], "");
    }
}
