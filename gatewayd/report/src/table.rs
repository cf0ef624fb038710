//! A report's main list as columns and rows: rendered as JSON objects for the API, CSV for
//! exports, aligned text for the CLI and an HTML table for the dashboard.

use serde_json::{Map, Value};

use super::clickhouse_http::Answer;

/// Named columns and rows of JSON values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    pub fn from_answer(answer: Answer) -> Self {
        Self {
            columns: answer.columns.into_iter().map(|(name, _)| name).collect(),
            rows: answer.rows,
        }
    }

    /// Rows as JSON objects keyed by column.
    pub fn objects(&self) -> Vec<Value> {
        self.rows
            .iter()
            .map(|row| {
                let map: Map<String, Value> = self
                    .columns
                    .iter()
                    .cloned()
                    .zip(row.iter().cloned())
                    .collect();
                Value::Object(map)
            })
            .collect()
    }

    /// A table of the given objects' `columns`.
    pub fn from_objects(columns: &[&str], objects: &[Value]) -> Self {
        Self {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: objects
                .iter()
                .map(|o| columns.iter().map(|c| o[*c].clone()).collect())
                .collect(),
        }
    }

    /// RFC 4180 CSV with a header. Cells that a spreadsheet would run as a formula (leading
    /// `=`, `+`, `-`, `@`, tab or CR) are prefixed with `'`: user names and hosts come from
    /// the network.
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        let header: Vec<String> = self.columns.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&header.join(","));
        out.push_str("\r\n");
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(|v| csv_cell(&plain(v))).collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
        out
    }

    /// Columns aligned for a terminal.
    pub fn to_text(&self) -> String {
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| row.iter().map(|v| one_line(&plain(v))).collect())
            .collect();
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        for row in &cells {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.chars().count().min(60));
                }
            }
        }
        let mut out = String::new();
        let line = |out: &mut String, row: &[String]| {
            let padded: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, w)| {
                    let cell: String = cell.chars().take(60).collect();
                    format!("{cell:<w$}")
                })
                .collect();
            out.push_str(padded.join("  ").trim_end());
            out.push('\n');
        };
        line(&mut out, &self.columns);
        for row in &cells {
            line(&mut out, row);
        }
        out
    }
}

/// A JSON value as a human reads it: strings bare, arrays joined, null empty.
pub fn plain(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn csv_cell(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let table = Table {
            columns: vec!["user".into(), "requests".into()],
            rows: vec![
                vec![json!("=cmd|' /C calc'!A0"), json!(3)],
                vec![json!("a,\"b\""), Value::Null],
            ],
        };
        assert_eq!(
            table.to_csv(),
            "user,requests\r\n'=cmd|' /C calc'!A0,3\r\n\"a,\"\"b\"\"\",\r\n"
        );
        assert!(table.to_text().starts_with("user"));
    }
}
