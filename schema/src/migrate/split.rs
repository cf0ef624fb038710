//! Splits a migration file into statements.
//!
//! The rule, kept simple on purpose: a statement ends at a `;` that is the last thing on its
//! line (trailing spaces and a `--` comment may follow) and lies outside quotes
//! (`'...'`, `"..."`, `` `...` ``, with `\` escapes and doubled quotes) and comments
//! (`-- ...`, `/* ... */`). A `;` in the middle of a line does not split, so a migration
//! writes one statement per `;`-terminated block. Text after the last `;` is a statement too.
//! Blocks holding only comments and whitespace are dropped.

/// The statements of `sql`, trimmed, without their terminating `;`.
pub fn statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut state = State::Code;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        current.push(c);
        state = match state {
            State::Code => match c {
                '\'' | '"' | '`' => State::Quoted(c),
                '-' if chars.peek() == Some(&'-') => State::LineComment,
                '/' if chars.peek() == Some(&'*') => {
                    current.extend(chars.next());
                    State::BlockComment
                }
                ';' if ends_line(chars.clone()) => {
                    current.pop();
                    push_statement(&mut out, &current);
                    current.clear();
                    State::Code
                }
                _ => State::Code,
            },
            State::Quoted(q) => match c {
                '\\' => {
                    current.extend(chars.next());
                    State::Quoted(q)
                }
                c if c == q && chars.peek() == Some(&q) => {
                    current.extend(chars.next());
                    State::Quoted(q)
                }
                c if c == q => State::Code,
                _ => State::Quoted(q),
            },
            State::LineComment if c == '\n' => State::Code,
            State::LineComment => State::LineComment,
            State::BlockComment if c == '*' && chars.peek() == Some(&'/') => {
                current.extend(chars.next());
                State::Code
            }
            State::BlockComment => State::BlockComment,
        };
    }
    push_statement(&mut out, &current);
    out
}

#[derive(Clone, Copy)]
enum State {
    Code,
    Quoted(char),
    LineComment,
    BlockComment,
}

/// True when only spaces, tabs or a `--` comment remain before the end of the line.
fn ends_line(mut rest: impl Iterator<Item = char>) -> bool {
    loop {
        match rest.next() {
            None | Some('\n') | Some('\r') => return true,
            Some(' ') | Some('\t') => {}
            Some('-') => return rest.next() == Some('-'),
            Some(_) => return false,
        }
    }
}

fn push_statement(out: &mut Vec<String>, text: &str) {
    let text = text.trim();
    if has_code(text) {
        out.push(text.to_owned());
    }
}

/// True when `text` holds something besides comments and whitespace.
fn has_code(text: &str) -> bool {
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, tail)| tail);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, tail)| tail);
        } else {
            return !rest.is_empty();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::statements;

    #[test]
    fn splits_on_semicolons_at_line_end() {
        let sql = "-- header\nCREATE TABLE a (x UInt8) ENGINE = Memory;\n\nCREATE TABLE b (y UInt8)\nENGINE = Memory;  -- trailing\n";
        assert_eq!(
            statements(sql),
            [
                "-- header\nCREATE TABLE a (x UInt8) ENGINE = Memory",
                "CREATE TABLE b (y UInt8)\nENGINE = Memory",
            ]
        );
    }

    #[test]
    fn ignores_semicolons_in_quotes_and_comments() {
        let sql = "SELECT 'a;\n', \"b;\n\", `c;\n` -- d;\n/* e;\n */ FROM t;\nSELECT 'it''s;\n', 'x\\';\n';\n";
        let got = statements(sql);
        assert_eq!(got.len(), 2, "{got:#?}");
        assert!(got[0].ends_with("FROM t"));
        assert!(got[1].starts_with("SELECT 'it''s;"));
    }

    #[test]
    fn mid_line_semicolon_does_not_split() {
        assert_eq!(statements("SELECT 1; SELECT 2;\n"), ["SELECT 1; SELECT 2"]);
    }

    #[test]
    fn trailing_statement_without_semicolon_and_comment_only_blocks() {
        assert_eq!(
            statements("-- only a comment;\n/* and; */\nSELECT 1"),
            ["-- only a comment;\n/* and; */\nSELECT 1"]
        );
        assert!(statements("-- nothing here\n  \n/* x */").is_empty());
        assert_eq!(
            statements("SELECT 1;\r\nSELECT 2;"),
            ["SELECT 1", "SELECT 2"]
        );
    }
}
