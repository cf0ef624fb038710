//! A small RFC 4180 reader for EDM sources: comma-separated fields, `"`-quoted fields with
//! `""` for a quote and line breaks inside quotes. It keeps nothing but the fields it returns.

/// The rows of `text`; on a malformed quote, the 1-based line it started on and why.
pub(super) fn parse(text: &str) -> Result<Vec<Vec<String>>, (usize, String)> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let (mut line, mut quote_line) = (1usize, 0usize);
    let mut quoted = false;
    let mut at_field_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                quoted = true;
                quote_line = line;
            }
            '"' => return Err((line, "a quote inside an unquoted field".into())),
            ',' => {
                row.push(std::mem::take(&mut field));
                at_field_start = true;
                continue;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
                line += 1;
                at_field_start = true;
                continue;
            }
            _ => field.push(c),
        }
        at_field_start = false;
    }
    if quoted {
        return Err((quote_line, "a quoted field is never closed".into()));
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn fields_quotes_and_line_breaks() {
        let rows = parse("name,id\r\n\"Doe, Jane\",\"say \"\"hi\"\"\"\nx,\"a\nb\"\n").unwrap();
        assert_eq!(
            rows,
            vec![
                vec!["name", "id"],
                vec!["Doe, Jane", "say \"hi\""],
                vec!["x", "a\nb"],
            ]
        );
        assert_eq!(parse("a,b").unwrap(), vec![vec!["a", "b"]]);
        assert_eq!(parse("").unwrap(), Vec::<Vec<String>>::new());
    }

    #[test]
    fn malformed_quotes_say_where() {
        assert_eq!(parse("a\n\"open,b\nc").unwrap_err().0, 2);
        assert_eq!(parse("a\"b").unwrap_err().0, 1);
    }
}
