//! The log explorer's tokenizer: enough of ClickHouse's lexer to see every word, name, dot and
//! call the server would see. Where ClickHouse versions lex differently — nested `/* */`
//! comments, `$$` heredoc strings, `#` comments, backslash escapes inside quoted names — the
//! text is refused rather than guessed at, so nothing the server runs can hide from the check
//! inside what this tokenizer took for a comment or a string.
//!
//! It must never skip text that ClickHouse could read as code.

use super::ExplorerError;

/// One token of the query, comments and whitespace left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token<'a> {
    /// A bare word: keyword, name or number-like run (`1e5`, `0x1F`, `1hr` are one word each,
    /// as in ClickHouse, where a name may start with a digit).
    Word(&'a str),
    /// A `"quoted"` or `` `quoted` `` name, unquoted.
    Name(String),
    /// A `'string'` literal (its text does not matter to the check).
    Literal,
    Dot,
    OpenParen,
    Semicolon,
    /// Any other ASCII punctuation (`*`, `,`, `[`, `)` ...), kept so a check can tell a
    /// wildcard from a product.
    Other(u8),
}

fn refuse<T>(message: &str) -> Result<T, ExplorerError> {
    Err(ExplorerError::Refused(message.to_string()))
}

/// Splits `sql` into tokens, or says which construct the explorer does not accept.
pub fn tokenize(sql: &str) -> Result<Vec<Token<'_>>, ExplorerError> {
    let bytes = sql.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            // ClickHouse's ASCII whitespace includes vertical tab and form feed; anything
            // outside ASCII is either Unicode whitespace to it or an error, so it is skipped
            // here too and can never split a `db.table` apart for the check alone.
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => i += 1,
            c if c >= 0x80 => i += 1,
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = block_comment(sql, i)?,
            b'#' => {
                return refuse("'#' comments are not accepted in the log explorer: use -- instead")
            }
            b'$' => {
                return refuse(
                    "'$' is not accepted outside quotes ($$ strings included): use '...' strings",
                )
            }
            b'\'' => {
                i = quoted(sql, i)?.1;
                tokens.push(Token::Literal);
            }
            b'"' | b'`' => {
                let (text, next) = quoted(sql, i)?;
                if text.contains('\\') {
                    return refuse("backslash escapes in quoted names are not accepted");
                }
                tokens.push(Token::Name(text));
                i = next;
            }
            b'.' => {
                tokens.push(Token::Dot);
                i += 1;
            }
            b'(' => {
                tokens.push(Token::OpenParen);
                i += 1;
            }
            b';' => {
                tokens.push(Token::Semicolon);
                i += 1;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                tokens.push(Token::Word(&sql[start..i]));
            }
            c => {
                tokens.push(Token::Other(c));
                i += 1;
            }
        }
    }
    Ok(tokens)
}

/// Skips the `/* ... */` comment at `start`; returns where it ends.
fn block_comment(sql: &str, start: usize) -> Result<usize, ExplorerError> {
    let body = &sql[start + 2..];
    let Some(end) = body.find("*/") else {
        return refuse("a /* comment is not closed");
    };
    // Current ClickHouse nests comments, 18.16 does not: refusing a nested opener keeps
    // both readings the same.
    if body[..end].contains("/*") {
        return refuse("nested /* comments are not accepted in the log explorer");
    }
    Ok(start + 2 + end + 2)
}

/// The text of the literal or quoted name at `start` (a backslash escapes the next byte, a
/// doubled quote is one quote, as in ClickHouse), and where it ends.
fn quoted(sql: &str, start: usize) -> Result<(String, usize), ExplorerError> {
    let bytes = sql.as_bytes();
    let quote = bytes[start];
    let mut text = Vec::new();
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if i + 1 < bytes.len() => {
                // Kept raw: a name with an escape is refused, a literal's text is unused.
                text.extend_from_slice(&bytes[i..i + 2]);
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

    #[test]
    fn words_names_and_dots_come_out_as_clickhouse_sees_them() {
        let tokens =
            tokenize("SELECT `a``b`.\"c\" FROM\x0bsystem\x0c.t -- x\n/* y */ 1hr.x").unwrap();
        assert_eq!(
            tokens,
            vec![
                Token::Word("SELECT"),
                Token::Name("a`b".into()),
                Token::Dot,
                Token::Name("c".into()),
                Token::Word("FROM"),
                Token::Word("system"),
                Token::Dot,
                Token::Word("t"),
                Token::Word("1hr"),
                Token::Dot,
                Token::Word("x"),
            ]
        );
        let nbsp = tokenize("system\u{a0}.\u{2003}tables").unwrap();
        assert_eq!(
            nbsp,
            vec![Token::Word("system"), Token::Dot, Token::Word("tables")]
        );
        assert_eq!(
            tokenize("'it''s \\' -- not a comment'").unwrap(),
            vec![Token::Literal]
        );
    }

    #[test]
    fn constructs_clickhouse_versions_read_differently_are_refused() {
        for sql in [
            "SELECT 1 /* /* */ FROM hr.salaries */",
            "SELECT $$ ' $$ FROM hr.salaries -- '",
            "SELECT 1 # '\nFROM hr.salaries -- '",
            "SELECT * FROM `\\x68r`.salaries",
            "SELECT * FROM \"h\\r\".salaries",
            "SELECT 'open",
            "SELECT /* open",
        ] {
            assert!(tokenize(sql).is_err(), "{sql:?} was tokenized");
        }
    }
}
