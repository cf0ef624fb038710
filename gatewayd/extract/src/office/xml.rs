//! Plain text out of the XML of a document part: character data and entity references in
//! order, a newline at the end of each paragraph, heading and table row, a tab between table
//! cells. Indentation between tags is dropped. DTD entities are never expanded (no
//! billion-laughs), and reading stops once `cap` bytes of text are collected.

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use quick_xml::Reader;

/// Appends the text of `xml` to `out`, stopping once `out` holds `cap` bytes.
pub(crate) fn paragraphs(xml: &[u8], out: &mut String, cap: usize) -> Result<(), quick_xml::Error> {
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().check_end_names = false;
    loop {
        if out.len() >= cap {
            return Ok(());
        }
        match reader.read_event()? {
            Event::Start(e) => open(e.local_name().as_ref(), out),
            Event::Empty(e) => {
                let name = e.local_name();
                open(name.as_ref(), out);
                close(name.as_ref(), out);
            }
            Event::End(e) => close(e.local_name().as_ref(), out),
            Event::Text(t) => {
                let text = t.decode()?;
                // Whitespace with a line break is indentation between tags, not content.
                if !(text.trim().is_empty() && text.contains('\n')) {
                    out.push_str(&text);
                }
            }
            Event::CData(c) => out.push_str(&String::from_utf8_lossy(&c)),
            Event::GeneralRef(r) => push_ref(&r, out),
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

/// Appends what an entity or character reference stands for; unknown entities are dropped.
pub(crate) fn push_ref(r: &quick_xml::events::BytesRef<'_>, out: &mut String) {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        out.push(c);
    } else if let Ok(name) = r.decode() {
        if let Some(s) = resolve_predefined_entity(&name) {
            out.push_str(s);
        }
    }
}

fn open(name: &[u8], out: &mut String) {
    match name {
        b"tab" => out.push('\t'),
        b"br" | b"cr" | b"line-break" => out.push('\n'),
        b"s" => out.push(' '),
        _ => {}
    }
}

fn close(name: &[u8], out: &mut String) {
    match name {
        b"p" | b"h" | b"tr" => out.push('\n'),
        b"tc" | b"table-cell" => out.push('\t'),
        _ => {}
    }
}
