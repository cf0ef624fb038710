//! Reads a ClickHouse `JSONCompact` answer as it arrives, keeping at most a given number of
//! rows and bytes: ClickHouse writes the header, then one row per line, then the statistics,
//! so rows are parsed one line at a time and reading stops as soon as a limit is reached.
//! A 27 MB answer therefore costs the gateway the rows it keeps, not the whole text three
//! times over. An answer in any other layout is parsed whole, within the same byte limit.
//!
//! It must never hold more than `max_bytes` of answer text, nor more than `max_rows` rows.

use serde::Deserialize;
use serde_json::Value;

use super::clickhouse_http::{server_message, QueryError};

/// How much of an answer is read, and what happens past that.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_rows: usize,
    pub max_bytes: usize,
    /// Past a limit: keep what was read and say it was truncated, or fail.
    pub truncate: bool,
}

/// What was read.
#[derive(Debug, Default)]
pub struct Streamed {
    pub columns: Vec<(String, String)>,
    pub rows: Vec<Vec<Value>>,
    /// Rows or bytes were left unread because of a limit.
    pub truncated: bool,
    pub rows_read: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Header,
    DataOpen,
    Rows,
    Trailer,
    /// Not the one-row-per-line layout: everything is kept and parsed at the end.
    Whole,
}

/// The incremental reader; feed it chunks, then `finish`.
pub struct CompactReader {
    limits: Limits,
    state: State,
    line: Vec<u8>,
    text: Vec<u8>,
    bytes: usize,
    wide: Vec<bool>,
    out: Streamed,
}

#[derive(Deserialize)]
struct Header {
    #[serde(default)]
    meta: Vec<Meta>,
}

#[derive(Deserialize)]
struct Meta {
    name: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct Trailer {
    #[serde(default)]
    statistics: Option<Statistics>,
    #[serde(default)]
    exception: Option<String>,
}

#[derive(Deserialize)]
struct Statistics {
    #[serde(default)]
    rows_read: u64,
}

#[derive(Deserialize)]
struct WholeAnswer {
    #[serde(default)]
    meta: Vec<Meta>,
    #[serde(default)]
    data: Vec<Vec<Value>>,
    #[serde(default)]
    statistics: Option<Statistics>,
}

impl CompactReader {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            state: State::Header,
            line: Vec::new(),
            text: Vec::new(),
            bytes: 0,
            wide: Vec::new(),
            out: Streamed::default(),
        }
    }

    /// Takes the next chunk; `Ok(true)` means enough was read: stop reading.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<bool, QueryError> {
        let room = self.limits.max_bytes.saturating_sub(self.bytes);
        let (take, over) = if chunk.len() > room {
            (&chunk[..room], true)
        } else {
            (chunk, false)
        };
        self.bytes += take.len();
        let mut rest = take;
        while let Some(at) = rest.iter().position(|&b| b == b'\n') {
            self.line.extend_from_slice(&rest[..at]);
            rest = &rest[at + 1..];
            let line = std::mem::take(&mut self.line);
            if self.on_line(&line)? {
                return Ok(true);
            }
        }
        self.line.extend_from_slice(rest);
        if over {
            if !self.limits.truncate {
                return Err(QueryError::BadAnswer(format!(
                    "the answer is larger than {} MiB",
                    self.limits.max_bytes >> 20
                )));
            }
            self.out.truncated = true;
            return Ok(true);
        }
        Ok(false)
    }

    /// The answer, once the body ended or `feed` said stop.
    pub fn finish(mut self) -> Result<Streamed, QueryError> {
        if self.out.truncated {
            return Ok(self.out);
        }
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            if self.on_line(&line)? {
                return Ok(self.out);
            }
        }
        match self.state {
            State::Trailer => {
                let mut text = b"{".to_vec();
                text.extend_from_slice(&self.text);
                let trailer: Trailer =
                    serde_json::from_slice(&text).map_err(|e| failure(&self.text, &e))?;
                if let Some(exception) = trailer.exception {
                    return Err(QueryError::Refused(server_message(exception.as_bytes())));
                }
                self.out.rows_read = trailer.statistics.map_or(0, |s| s.rows_read);
                Ok(self.out)
            }
            State::Header | State::Whole => {
                let whole: WholeAnswer =
                    serde_json::from_slice(&self.text).map_err(|e| failure(&self.text, &e))?;
                self.set_columns(whole.meta);
                self.out.rows_read = whole.statistics.map_or(0, |s| s.rows_read);
                for row in whole.data {
                    if self.push(row) {
                        break;
                    }
                }
                Ok(self.out)
            }
            State::DataOpen | State::Rows => Err(QueryError::BadAnswer(
                "ClickHouse's answer ended in the middle of the rows".into(),
            )),
        }
    }

    /// One line of the answer; true when enough rows were read.
    fn on_line(&mut self, line: &[u8]) -> Result<bool, QueryError> {
        let trimmed = line.trim_ascii();
        match self.state {
            State::Header if self.text.is_empty() && trimmed.is_empty() => {}
            State::Header if self.text.is_empty() && trimmed != b"{" => {
                self.state = State::Whole;
                self.keep(line);
            }
            State::Header if trimmed == b"\"data\":" => {
                let mut text = std::mem::take(&mut self.text);
                text.extend_from_slice(b"\"data\": []}");
                let header: Header =
                    serde_json::from_slice(&text).map_err(|e| failure(&text, &e))?;
                self.set_columns(header.meta);
                self.state = State::DataOpen;
            }
            State::Header | State::Whole | State::Trailer => self.keep(line),
            State::DataOpen if trimmed == b"[" => self.state = State::Rows,
            State::DataOpen => return Err(failure(line, &"no '[' after \"data\":")),
            State::Rows if trimmed == b"]" || trimmed == b"]," => self.state = State::Trailer,
            // An empty `data` array is written with a blank line inside.
            State::Rows if trimmed.is_empty() => {}
            State::Rows => {
                let row = trimmed.strip_suffix(b",").unwrap_or(trimmed);
                let row: Vec<Value> = serde_json::from_slice(row).map_err(|e| failure(line, &e))?;
                return Ok(self.push(row));
            }
        }
        Ok(false)
    }

    fn keep(&mut self, line: &[u8]) {
        self.text.extend_from_slice(line);
        self.text.push(b'\n');
    }

    fn set_columns(&mut self, meta: Vec<Meta>) {
        self.wide = meta.iter().map(|m| is_wide_integer(&m.kind)).collect();
        self.out.columns = meta.into_iter().map(|m| (m.name, m.kind)).collect();
    }

    /// Keeps `row` unless the row limit is reached; true when it was (the answer is cut).
    fn push(&mut self, mut row: Vec<Value>) -> bool {
        if self.out.rows.len() >= self.limits.max_rows {
            self.out.truncated = true;
            return true;
        }
        for (value, wide) in row.iter_mut().zip(&self.wide) {
            if *wide {
                unquote_integers(value);
            }
        }
        self.out.rows.push(row);
        false
    }
}

/// A parse failure, or the server's own error when one was written into the answer (an
/// error raised while rows stream arrives after the 200 status, as `Code: N ...` text).
fn failure(text: &[u8], error: &dyn std::fmt::Display) -> QueryError {
    let shown = String::from_utf8_lossy(text);
    match shown.find("Code: ") {
        Some(at) => QueryError::Refused(server_message(shown[at..].as_bytes())),
        None => QueryError::BadAnswer(error.to_string()),
    }
}

/// 64-bit integers arrive quoted unless `output_format_json_quote_64bit_integers=0`, which a
/// reader pinned to `readonly=1` cannot set.
fn is_wide_integer(kind: &str) -> bool {
    let mut inner = kind;
    for wrapper in ["Nullable(", "LowCardinality(", "Array("] {
        while let Some(rest) = inner.strip_prefix(wrapper) {
            inner = rest.strip_suffix(')').unwrap_or(rest);
        }
    }
    matches!(inner, "UInt64" | "Int64")
}

fn unquote_integers(value: &mut Value) {
    match value {
        Value::String(text) => {
            if let Ok(n) = text.parse::<u64>() {
                *value = Value::from(n);
            } else if let Ok(n) = text.parse::<i64>() {
                *value = Value::from(n);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(unquote_integers),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: &str = "{\n\t\"meta\":\n\t[\n\t\t{\n\t\t\t\"name\": \"n\",\n\t\t\t\"type\": \"UInt64\"\n\t\t},\n\t\t{\n\t\t\t\"name\": \"s\",\n\t\t\t\"type\": \"String\"\n\t\t}\n\t],\n\n\t\"data\":\n\t[\n\t\t[\"0\", \"a\\nb\"],\n\t\t[\"1\", \"]\"],\n\t\t[\"2\", \"c\"]\n\t],\n\n\t\"rows\": 3,\n\n\t\"statistics\":\n\t{\n\t\t\"elapsed\": 0.0001,\n\t\t\"rows_read\": 3,\n\t\t\"bytes_read\": 24\n\t}\n}\n";

    fn read(text: &str, limits: Limits, chunk: usize) -> Result<Streamed, QueryError> {
        let mut reader = CompactReader::new(limits);
        for piece in text.as_bytes().chunks(chunk) {
            if reader.feed(piece)? {
                break;
            }
        }
        reader.finish()
    }

    fn limits(max_rows: usize, max_bytes: usize) -> Limits {
        Limits {
            max_rows,
            max_bytes,
            truncate: true,
        }
    }

    #[test]
    fn rows_stream_in_whatever_chunks_arrive() {
        for chunk in [1, 7, 4096] {
            let answer = read(ANSWER, limits(10, 1 << 20), chunk).unwrap();
            assert_eq!(answer.columns[0], ("n".into(), "UInt64".into()));
            assert_eq!(answer.rows.len(), 3);
            assert_eq!(answer.rows[0][0], 0, "64-bit integers are numbers again");
            assert_eq!(answer.rows[0][1], "a\nb");
            assert_eq!(answer.rows[1][1], "]");
            assert_eq!(answer.rows_read, 3);
            assert!(!answer.truncated);
        }
    }

    #[test]
    fn an_empty_answer_has_columns_and_no_rows() {
        let empty = "{\n\t\"meta\":\n\t[\n\t\t{\n\t\t\t\"name\": \"1\",\n\t\t\t\"type\": \"UInt8\"\n\t\t}\n\t],\n\n\t\"data\":\n\t[\n\n\t],\n\n\t\"rows\": 0,\n\n\t\"statistics\":\n\t{\n\t\t\"elapsed\": 0.000012459,\n\t\t\"rows_read\": 0,\n\t\t\"bytes_read\": 0\n\t}\n}\n";
        let answer = read(empty, limits(10, 1 << 20), 16).unwrap();
        assert_eq!(answer.columns.len(), 1);
        assert!(answer.rows.is_empty() && !answer.truncated);
    }

    #[test]
    fn limits_cut_the_answer_short() {
        let answer = read(ANSWER, limits(2, 1 << 20), 5).unwrap();
        assert_eq!(answer.rows.len(), 2);
        assert!(answer.truncated);
        let cut_at = ANSWER.find("[\"1\"").unwrap();
        let answer = read(ANSWER, limits(10, cut_at), 5).unwrap();
        assert_eq!(
            answer.rows.len(),
            1,
            "only whole rows within the byte limit"
        );
        assert!(answer.truncated);
        let strict = Limits {
            truncate: false,
            ..limits(10, 100)
        };
        let error = read(ANSWER, strict, 5).unwrap_err();
        assert!(error.to_string().contains("larger than"), "{error}");
    }

    #[test]
    fn errors_written_into_the_answer_are_the_servers() {
        let cut = ANSWER.find("\t\t[\"2\"").unwrap();
        let broken = format!(
            "{}\t\t[0]Code: 395, e.displayText() = DB::Exception: Value passed to 'throwIf' function is non zero, e.what() = DB::Exception\n",
            &ANSWER[..cut]
        );
        let error = read(&broken, limits(10, 1 << 20), 64).unwrap_err();
        assert_eq!(
            error.to_string(),
            "ClickHouse refused the query: Value passed to 'throwIf' function is non zero (code 395)"
        );
        let ended = read(&ANSWER[..cut], limits(10, 1 << 20), 64).unwrap_err();
        assert!(ended.to_string().contains("ended"), "{ended}");
    }

    #[test]
    fn another_layout_is_read_whole() {
        let compact = r#"{"meta":[{"name":"x","type":"Array(Int64)"}],"data":[[["-1","2"]]],"statistics":{"rows_read":1}}"#;
        let answer = read(compact, limits(10, 1 << 20), 3).unwrap();
        assert_eq!(answer.rows[0][0], serde_json::json!([-1, 2]));
        let error = read("not json", limits(10, 1 << 20), 3).unwrap_err();
        assert!(matches!(error, QueryError::BadAnswer(_)));
    }
}
