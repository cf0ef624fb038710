use std::iter::Peekable;
use std::str::CharIndices;

#[derive(Debug, Clone, PartialEq)]
pub enum Token<'a> {
    Ident(&'a str),
    Number(f64),
    Punct(char),
}

pub struct Lexer<'a> {
    src: &'a str,
    chars: Peekable<CharIndices<'a>>,
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str) -> Self {
        Lexer { src, chars: src.char_indices().peekable() }
    }

    fn take_while(&mut self, start: usize, f: impl Fn(char) -> bool) -> &'a str {
        let mut end = start;
        while let Some(&(i, c)) = self.chars.peek() {
            if !f(c) {
                break;
            }
            end = i + c.len_utf8();
            self.chars.next();
        }
        &self.src[start..end]
    }
}

impl<'a> Iterator for Lexer<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let (i, c) = self.chars.find(|(_, c)| !c.is_whitespace())?;
        match c {
            c if c.is_alphabetic() => {
                let rest = self.take_while(i + c.len_utf8(), |c| c.is_alphanumeric() || c == '_');
                Some(Token::Ident(&self.src[i..i + c.len_utf8() + rest.len()]))
            }
            c if c.is_ascii_digit() => {
                let rest = self.take_while(i + 1, |c| c.is_ascii_digit() || c == '.');
                let text = &self.src[i..i + 1 + rest.len()];
                text.parse().ok().map(Token::Number)
            }
            other => Some(Token::Punct(other)),
        }
    }
}
