//! Text out of a PDF content stream: a small tokenizer and the text-showing operators (`Tj`,
//! `TJ`, `'`, `"`), with line breaks where the text moves down a line (`Td`, `TD`, `T*`,
//! `Tm`, `ET`) and a space for a wide `TJ` gap. Strings are mapped through the current font's
//! ToUnicode CMap when there is one, else read as Latin-1 / WinAnsi. Inline images are skipped.

use super::fonts::Fonts;
use super::syntax::{find, is_delimiter, is_space};

/// Whether decoded stream bytes look like a content stream that shows text.
pub(crate) fn shows_text(bytes: &[u8]) -> bool {
    find(bytes, b"BT", 0).is_some()
        && (find(bytes, b"Tj", 0).is_some() || find(bytes, b"TJ", 0).is_some())
}

/// An operand on the stack.
#[derive(Debug)]
enum Operand {
    Number(f32),
    Str(Vec<u8>),
    Name(Vec<u8>),
    Array(Vec<Operand>),
}

/// Operands kept before an operator; content streams never need more.
const MAX_OPERANDS: usize = 64;

/// Appends the text shown by `content` to `out`, stopping once `out` holds `cap` bytes.
pub(crate) fn extract(content: &[u8], fonts: &Fonts, out: &mut String, cap: usize) {
    let mut lexer = Lexer {
        bytes: content,
        at: 0,
    };
    let mut stack: Vec<Operand> = Vec::new();
    let mut font: Option<Vec<u8>> = None;
    let mut line_y: Option<f32> = None;
    while out.len() < cap {
        let Some(token) = lexer.next_token() else {
            break;
        };
        let op = match token {
            Token::Operand(operand) => {
                if stack.len() < MAX_OPERANDS {
                    stack.push(operand);
                }
                continue;
            }
            Token::Operator(op) => op,
        };
        match op.as_slice() {
            b"Tf" => {
                font = stack.iter().rev().find_map(|o| match o {
                    Operand::Name(n) => Some(n.clone()),
                    _ => None,
                });
            }
            b"Tj" | b"'" | b"\"" => {
                if op != b"Tj" {
                    newline(out);
                }
                if let Some(Operand::Str(s)) = stack.last() {
                    show(s, font.as_deref(), fonts, out);
                }
            }
            b"TJ" => {
                if let Some(Operand::Array(items)) = stack.last() {
                    for item in items {
                        match item {
                            Operand::Str(s) => show(s, font.as_deref(), fonts, out),
                            Operand::Number(n) if *n < -250.0 => space(out),
                            _ => {}
                        }
                    }
                }
            }
            b"Td" | b"TD" => match stack.as_slice() {
                [.., Operand::Number(_), Operand::Number(ty)] if *ty != 0.0 => newline(out),
                _ => {}
            },
            b"Tm" => {
                if let [.., Operand::Number(y)] = stack.as_slice() {
                    if line_y.is_some_and(|old| old != *y) {
                        newline(out);
                    }
                    line_y = Some(*y);
                }
            }
            b"T*" | b"ET" => newline(out),
            b"BT" => line_y = None,
            b"ID" => lexer.skip_inline_image(),
            _ => {}
        }
        stack.clear();
    }
}

fn newline(out: &mut String) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

fn space(out: &mut String) {
    if !out.is_empty() && !out.ends_with([' ', '\n']) {
        out.push(' ');
    }
}

fn show(bytes: &[u8], font: Option<&[u8]>, fonts: &Fonts, out: &mut String) {
    match font.and_then(|f| fonts.get(f)) {
        Some(cmap) => cmap.decode(bytes, out),
        None => out.extend(bytes.iter().filter_map(|&b| win_ansi(b))),
    }
}

/// A WinAnsi / Latin-1 byte as a character; control bytes dropped.
fn win_ansi(b: u8) -> Option<char> {
    Some(match b {
        0x85 => '…',
        0x91 => '‘',
        0x92 => '’',
        0x93 => '“',
        0x94 => '”',
        0x95 => '•',
        0x96 => '–',
        0x97 => '—',
        b'\t' | b'\n' | b'\r' => ' ',
        b if b < 0x20 || (0x7f..0xa0).contains(&b) => return None,
        b => char::from(b),
    })
}

enum Token {
    Operand(Operand),
    Operator(Vec<u8>),
}

struct Lexer<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next_token(&mut self) -> Option<Token> {
        loop {
            let b = self.peek()?;
            match b {
                _ if is_space(b) => self.at += 1,
                b'%' => {
                    while self.peek().is_some_and(|c| c != b'\n' && c != b'\r') {
                        self.at += 1;
                    }
                }
                b'(' => return Some(Token::Operand(Operand::Str(self.literal()))),
                b'<' if self.bytes.get(self.at + 1) == Some(&b'<') => self.at += 2,
                b'<' => return Some(Token::Operand(Operand::Str(self.hex()))),
                b'>' | b']' | b')' | b'{' | b'}' => self.at += 1,
                b'[' => return Some(Token::Operand(self.array())),
                b'/' => {
                    self.at += 1;
                    return Some(Token::Operand(Operand::Name(self.regular().to_vec())));
                }
                b'0'..=b'9' | b'+' | b'-' | b'.' => {
                    let word = self.regular();
                    let n = std::str::from_utf8(word)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0.0);
                    return Some(Token::Operand(Operand::Number(n)));
                }
                _ => {
                    let word = self.regular();
                    if word.is_empty() {
                        self.at += 1;
                        continue;
                    }
                    return Some(Token::Operator(word.to_vec()));
                }
            }
        }
    }

    /// A run of regular (non-space, non-delimiter) bytes.
    fn regular(&mut self) -> &[u8] {
        let start = self.at;
        while self
            .peek()
            .is_some_and(|b| !is_space(b) && !is_delimiter(b))
        {
            self.at += 1;
        }
        &self.bytes[start..self.at]
    }

    /// An array of strings and numbers (the `TJ` operand); nested arrays are flattened away.
    fn array(&mut self) -> Operand {
        self.at += 1;
        let mut items = Vec::new();
        while let Some(b) = self.peek() {
            match b {
                b']' => {
                    self.at += 1;
                    break;
                }
                b'(' => items.push(Operand::Str(self.literal())),
                b'<' => items.push(Operand::Str(self.hex())),
                b'0'..=b'9' | b'+' | b'-' | b'.' => {
                    let n = std::str::from_utf8(self.regular())
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0.0);
                    items.push(Operand::Number(n));
                }
                _ if is_space(b) || is_delimiter(b) => self.at += 1,
                _ => {
                    if self.regular().is_empty() {
                        self.at += 1;
                    }
                }
            }
        }
        Operand::Array(items)
    }

    /// A literal string `( ... )` with its escapes and balanced parentheses.
    fn literal(&mut self) -> Vec<u8> {
        self.at += 1;
        let mut out = Vec::new();
        let mut depth = 1usize;
        while let Some(b) = self.peek() {
            self.at += 1;
            match b {
                b'(' => {
                    depth += 1;
                    out.push(b);
                }
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                    out.push(b);
                }
                b'\\' => self.escape(&mut out),
                _ => out.push(b),
            }
        }
        out
    }

    fn escape(&mut self, out: &mut Vec<u8>) {
        let Some(b) = self.peek() else {
            return;
        };
        self.at += 1;
        match b {
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'0'..=b'7' => {
                let mut value = u32::from(b - b'0');
                for _ in 0..2 {
                    match self.peek() {
                        Some(d @ b'0'..=b'7') => {
                            value = value * 8 + u32::from(d - b'0');
                            self.at += 1;
                        }
                        _ => break,
                    }
                }
                out.push((value & 0xff) as u8);
            }
            b'\r' => {
                if self.peek() == Some(b'\n') {
                    self.at += 1;
                }
            }
            b'\n' => {}
            other => out.push(other),
        }
    }

    /// A hex string `< ... >`.
    fn hex(&mut self) -> Vec<u8> {
        self.at += 1;
        let mut digits = Vec::new();
        while let Some(b) = self.peek() {
            self.at += 1;
            if b == b'>' {
                break;
            }
            if let Some(d) = char::from(b).to_digit(16) {
                digits.push(d as u8);
            }
        }
        digits
            .chunks(2)
            .map(|p| p[0] << 4 | p.get(1).copied().unwrap_or(0))
            .collect()
    }

    /// Skips an inline image's binary data, up to its `EI` operator.
    fn skip_inline_image(&mut self) {
        let mut from = self.at;
        while let Some(at) = find(self.bytes, b"EI", from) {
            let before = at == 0 || is_space(self.bytes[at - 1]);
            let after = self.bytes.get(at + 2).is_none_or(|&b| is_space(b));
            if before && after {
                self.at = at + 2;
                return;
            }
            from = at + 2;
        }
        self.at = self.bytes.len();
    }
}
