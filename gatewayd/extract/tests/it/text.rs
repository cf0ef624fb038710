//! Plain files: text told from binary by content, decoded from UTF-8, UTF-16 or Latin-1, and
//! named as text, CSV, JSON, code or markup; binaries reported by type with no text.

use extract::{extract, FileKind, Limits};

fn kind_and_text(
    name: Option<&str>,
    content_type: Option<&str>,
    bytes: &[u8],
) -> (FileKind, String) {
    let out = extract(name, content_type, bytes, &Limits::default());
    assert!(out.is_complete(), "{:?}", out.refused);
    (out.parts[0].kind, out.text)
}

#[test]
fn text_subtypes_come_from_content() {
    let cases: &[(&[u8], FileKind)] = &[
        (b"Dear team, the launch moves to May.", FileKind::Text),
        (
            b"id,name,email\n1,Ann,ann@example.com\n2,Bo,bo@example.com\n",
            FileKind::Csv,
        ),
        (b"a\tb\n1\t2\n", FileKind::Csv),
        (
            b"  {\"user\": \"ann\", \"ssn\": \"123-45-6789\"}\n",
            FileKind::Json,
        ),
        (b"[1, 2, 3]", FileKind::Json),
        (
            b"import os\n\ndef main():\n    return os.environ['KEY']\n",
            FileKind::Code,
        ),
        (b"#!/bin/sh\necho hi\n", FileKind::Code),
        (b"<?xml version=\"1.0\"?><a>b</a>", FileKind::Markup),
        (
            b"<!DOCTYPE html><html><body>hi</body></html>",
            FileKind::Markup,
        ),
    ];
    for (bytes, kind) in cases {
        let (got, text) = kind_and_text(None, None, bytes);
        assert_eq!(got, *kind, "{}", String::from_utf8_lossy(bytes));
        assert_eq!(text, format!("{}\n", String::from_utf8_lossy(bytes)));
    }
}

#[test]
fn hints_only_break_ties_between_text_subtypes() {
    assert_eq!(
        kind_and_text(Some("list.csv"), None, b"just one column").0,
        FileKind::Csv
    );
    assert_eq!(
        kind_and_text(None, Some("application/json"), b"true").0,
        FileKind::Json
    );
    assert_eq!(
        kind_and_text(
            Some("photo.txt"),
            Some("text/plain"),
            b"\x89PNG\r\n\x1a\n\0\0"
        )
        .0,
        FileKind::Image
    );
}

#[test]
fn utf16_and_latin1_are_decoded() {
    let mut utf16 = vec![0xff, 0xfe];
    utf16.extend("clé secrète".encode_utf16().flat_map(u16::to_le_bytes));
    assert_eq!(kind_and_text(None, None, &utf16).1, "clé secrète\n");
    assert_eq!(
        kind_and_text(None, None, b"caf\xe9 cr\xe8me").1,
        "café crème\n"
    );
}

#[test]
fn binaries_are_typed_without_text() {
    let cases: &[(&[u8], FileKind)] = &[
        (b"\x7fELF\x02\x01\x01\0\0\0", FileKind::Executable),
        (b"\xff\xd8\xff\xe0\0\x10JFIF", FileKind::Image),
        (b"%!PS-Adobe\0\x01\x02\x03\x04", FileKind::Binary),
        (b"SQLite format 3\0rest", FileKind::Sqlite),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1legacy",
            FileKind::OleDocument,
        ),
        (b"7z\xbc\xaf\x27\x1c\0\x04", FileKind::SevenZip),
    ];
    for (bytes, kind) in cases {
        let (got, text) = kind_and_text(Some("file"), None, bytes);
        assert_eq!((got, text.as_str()), (*kind, ""), "{bytes:?}");
        assert!(!kind.is_inspected() || *kind == FileKind::Binary || got == *kind);
    }
}

#[test]
fn empty_input_is_empty_text() {
    let out = extract(None, None, b"", &Limits::default());
    assert!(out.is_complete());
    assert_eq!(
        (
            out.parts[0].kind,
            out.text.as_str(),
            out.parts[0].path.as_str()
        ),
        (FileKind::Text, "", "upload")
    );
}
