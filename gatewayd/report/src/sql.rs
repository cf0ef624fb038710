//! Building ClickHouse SQL from values that came from a user: string literals are quoted
//! here and nowhere else, so a filter value can never become SQL.

use std::fmt::Write;

/// `value` as a ClickHouse single-quoted string literal.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// `(a, b, c)` of quoted literals; `('')` for none, which matches nothing useful but stays
/// valid SQL.
pub fn quote_list<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = values.into_iter().map(quote).collect();
    if items.is_empty() {
        "('')".to_string()
    } else {
        format!("({})", items.join(", "))
    }
}

/// A `DateTime` literal for a Unix time in seconds.
pub fn datetime(unix: i64) -> String {
    format!("toDateTime({})", unix.max(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_escape_everything_that_could_end_the_literal() {
        assert_eq!(quote("alice"), "'alice'");
        assert_eq!(quote("o'brien"), "'o\\'brien'");
        assert_eq!(quote("a\\' OR 1=1 --"), "'a\\\\\\' OR 1=1 --'");
        assert_eq!(quote("x\ny\u{1}"), "'x\\ny\\x01'");
        assert_eq!(quote_list(["a", "b"]), "('a', 'b')");
        assert_eq!(quote_list([]), "('')");
        assert_eq!(datetime(-5), "toDateTime(0)");
    }
}
