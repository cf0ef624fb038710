//! The explorer's privacy check: audited prompts ([`PROMPT_COLUMN`]) are for investigators.
//! For anyone else a query may not name the column (bare or quoted, anywhere: a `WHERE` on it
//! leaks it too), may not use a `COLUMNS(...)` matcher or a `*` wildcard where a table that
//! holds it is read (the tables come from the column reference, not a list kept here), and an
//! answer with a column named after it is withheld.
//!
//! A `*` counts as a product, not a wildcard, only after an operand (a name, number, literal
//! or closing bracket); `count(*)` is allowed. A bare `SELECT DISTINCT ON (x) *` that slips by
//! as a product still meets the answer check.

use super::columns::{prompt_tables, PROMPT_COLUMN};
use super::lexer::{tokenize, Token};
use super::ExplorerError;

/// What a refusal says.
fn refused(what: &str) -> ExplorerError {
    ExplorerError::Refused(format!(
        "{what}: audited prompts ({PROMPT_COLUMN}) can be read only with the investigator role"
    ))
}

/// Words after which a `*` is a wildcard.
const BEFORE_WILDCARD: [&str; 5] = ["SELECT", "DISTINCT", "ALL", "BY", "EXCEPT"];

/// Refuses `sql` when it could read [`PROMPT_COLUMN`].
pub fn check(sql: &str) -> Result<(), ExplorerError> {
    let tokens = tokenize(sql)?;
    let name_of = |t: &Token<'_>| match t {
        Token::Word(w) => Some(w.to_string()),
        Token::Name(n) => Some(n.clone()),
        _ => None,
    };
    let mut reads_prompt_table = false;
    for token in &tokens {
        let Some(name) = name_of(token) else { continue };
        if name.eq_ignore_ascii_case(PROMPT_COLUMN) {
            return Err(refused(&format!("the query names {PROMPT_COLUMN}")));
        }
        reads_prompt_table |= prompt_tables().any(|t| name.eq_ignore_ascii_case(t));
    }
    if !reads_prompt_table {
        return Ok(());
    }
    let tables: Vec<&str> = prompt_tables().collect();
    let tables = tables.join(", ");
    for (i, token) in tokens.iter().enumerate() {
        let previous = i.checked_sub(1).and_then(|p| tokens.get(p));
        match token {
            Token::Word(w)
                if w.eq_ignore_ascii_case("COLUMNS")
                    && tokens.get(i + 1) == Some(&Token::OpenParen) =>
            {
                return Err(refused(&format!(
                    "COLUMNS(...) over {tables} could match {PROMPT_COLUMN}: name the columns"
                )));
            }
            Token::Other(b'*') if is_wildcard(previous, &tokens, i) => {
                return Err(refused(&format!(
                    "* over {tables} would include {PROMPT_COLUMN}: name the columns you need"
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether the `*` at `at` stands for columns rather than multiplying.
fn is_wildcard(previous: Option<&Token<'_>>, tokens: &[Token<'_>], at: usize) -> bool {
    let count_star = previous == Some(&Token::OpenParen)
        && tokens.get(at + 1) == Some(&Token::Other(b')'))
        && matches!(at.checked_sub(2).and_then(|p| tokens.get(p)),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("count"));
    if count_star {
        return false;
    }
    match previous {
        None => true,
        Some(Token::Word(w)) => BEFORE_WILDCARD.iter().any(|k| w.eq_ignore_ascii_case(k)),
        Some(Token::Name(_) | Token::Literal) => false,
        Some(Token::Other(b')' | b']')) => false,
        Some(_) => true,
    }
}

/// Whether an answer's column names could carry the prompt (`audit_prompt`,
/// `length(audit_prompt)`, a wildcard's expansion).
pub fn answer_names_prompt<'a>(mut columns: impl Iterator<Item = &'a str>) -> bool {
    columns.any(|c| c.to_ascii_lowercase().contains(PROMPT_COLUMN))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_stay_out_of_reach_without_the_role() {
        for sql in [
            "SELECT audit_prompt FROM http_events",
            "SELECT `audit_prompt` FROM http_events",
            "SELECT \"AUDIT_PROMPT\" FROM warden.http_events",
            "SELECT count() FROM http_events WHERE audit_prompt LIKE '%secret%'",
            "SELECT * FROM http_events",
            "SELECT e.* FROM http_events AS e",
            "SELECT user, * FROM http_events",
            "SELECT tuple(*) FROM http_events",
            "SELECT toString(tuple(*)) AS t FROM http_events",
            "SELECT formatRow('CSV', *) FROM http_events",
            "SELECT [*] FROM http_events",
            "SELECT COLUMNS('prompt') FROM http_events",
            "SELECT * FROM (SELECT user FROM dlp_findings) JOIN `http_events` USING user",
            "SELECT x FROM (SELECT * FROM http_events)",
            "SELECT * EXCEPT (ts) FROM http_events",
        ] {
            assert!(check(sql).is_err(), "{sql:?} was accepted");
        }
        let Err(ExplorerError::Refused(message)) = check("SELECT * FROM http_events") else {
            panic!("refused");
        };
        assert!(message.contains("investigator"), "{message}");
    }

    #[test]
    fn everything_else_still_runs() {
        for sql in [
            "SELECT count(*) FROM http_events",
            "SELECT COUNT(*), sum(bytes_up) * 8 AS bits FROM http_events",
            "SELECT user, prompt_length * 2 FROM http_events",
            "SELECT count() * 100 / 3 FROM http_events",
            "SELECT * FROM dlp_findings",
            "SELECT * FROM app_usage_hourly",
            "SELECT 'audit_prompt' AS text FROM http_events",
        ] {
            assert!(check(sql).is_ok(), "{sql:?} was refused");
        }
        assert!(answer_names_prompt(
            ["user", "length(audit_prompt)"].into_iter()
        ));
        assert!(!answer_names_prompt(["user", "prompt_length"].into_iter()));
    }
}
