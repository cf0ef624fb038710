//! Spreadsheet XML: the shared-string table and worksheets of an xlsx, turned into one line of
//! tab-separated cell values per row (shared strings resolved, inline strings and numbers as
//! written). Bounded like [`super::xml`]: stops once the text reaches its cap.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::xml::push_ref;

/// The shared strings of `xml`, or those read before an error with the error.
pub(crate) fn shared_strings(
    xml: &[u8],
    cap: usize,
) -> Result<Vec<String>, (Vec<String>, quick_xml::Error)> {
    let mut strings = Vec::new();
    let mut total = 0usize;
    let mut current = String::new();
    let mut in_t = false;
    let mut in_phonetic = false;
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().check_end_names = false;
    loop {
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => return Err((strings, e)),
        };
        match event {
            Event::Start(e) => match e.local_name().as_ref() {
                b"t" => in_t = true,
                b"rPh" => in_phonetic = true,
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                b"t" => in_t = false,
                b"rPh" => in_phonetic = false,
                b"si" => {
                    total = total.saturating_add(current.len());
                    strings.push(std::mem::take(&mut current));
                    if total >= cap {
                        return Ok(strings);
                    }
                }
                _ => {}
            },
            Event::Empty(e) if e.local_name().as_ref() == b"si" => strings.push(String::new()),
            Event::Text(t) if in_t && !in_phonetic => match t.decode() {
                Ok(text) => current.push_str(&text),
                Err(e) => return Err((strings, e.into())),
            },
            Event::GeneralRef(r) if in_t && !in_phonetic => push_ref(&r, &mut current),
            Event::Eof => return Ok(strings),
            _ => {}
        }
    }
}

/// Appends the rows of worksheet `xml` to `out`, one line each, cells separated by tabs.
pub(crate) fn rows(
    xml: &[u8],
    shared: &[String],
    out: &mut String,
    cap: usize,
) -> Result<(), quick_xml::Error> {
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().check_end_names = false;
    let mut cell_type = CellType::Number;
    let mut value = String::new();
    let mut in_value = false;
    let mut cells_in_row = 0usize;
    loop {
        if out.len() >= cap {
            return Ok(());
        }
        match reader.read_event()? {
            Event::Start(e) => match e.local_name().as_ref() {
                b"c" => {
                    cell_type = CellType::of(&e);
                    value.clear();
                }
                b"v" | b"t" => in_value = true,
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                b"v" | b"t" => in_value = false,
                b"c" => {
                    let text = match cell_type {
                        CellType::Shared => value
                            .trim()
                            .parse::<usize>()
                            .ok()
                            .and_then(|i| shared.get(i))
                            .map_or("", String::as_str),
                        CellType::Number => value.as_str(),
                    };
                    if !text.is_empty() {
                        if cells_in_row > 0 {
                            out.push('\t');
                        }
                        out.push_str(text);
                        cells_in_row += 1;
                    }
                }
                b"row" => {
                    if cells_in_row > 0 {
                        out.push('\n');
                    }
                    cells_in_row = 0;
                }
                _ => {}
            },
            Event::Text(t) if in_value => value.push_str(&t.decode()?),
            Event::GeneralRef(r) if in_value => push_ref(&r, &mut value),
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

/// How a cell's `<v>` is to be read.
#[derive(Clone, Copy)]
enum CellType {
    /// An index into the shared strings.
    Shared,
    /// The value as written (numbers, inline and formula strings, booleans).
    Number,
}

impl CellType {
    fn of(cell: &BytesStart<'_>) -> Self {
        match cell.try_get_attribute("t") {
            Ok(Some(attr)) if attr.value.as_ref() == b"s" => CellType::Shared,
            _ => CellType::Number,
        }
    }
}
