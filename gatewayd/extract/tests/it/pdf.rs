//! PDF: text from plain and Flate content streams, TJ arrays, escapes, ToUnicode-mapped
//! Identity-H fonts, attachments; encrypted PDFs reported; a Flate bomb inside a PDF refused.

use std::time::{Duration, Instant};

use extract::{extract, Extraction, FileKind, Limits, RefusalKind};

use crate::fixtures::{self, AWS_KEY};

fn run(bytes: &[u8]) -> Extraction {
    extract(Some("doc.pdf"), None, bytes, &Limits::default())
}

#[test]
fn a_hand_written_pdf_yields_its_text() {
    let content =
        format!("BT /F1 12 Tf 72 720 Td (Access key: {AWS_KEY}) Tj 0 -14 Td (second line) Tj ET");
    let pdf = fixtures::pdf(&[("", content.into_bytes())], None);
    let out = run(&pdf);
    assert!(out.is_complete(), "{:?}", out.refused);
    assert_eq!(out.parts[0].kind, FileKind::Pdf);
    assert!(
        out.text
            .contains(&format!("Access key: {AWS_KEY}\nsecond line")),
        "{:?}",
        out.text
    );
}

#[test]
fn flate_streams_tj_arrays_and_escapes_are_decoded() {
    let content = br"BT /F1 11 Tf 1 0 0 1 72 700 Tm [(Card)-300(num)20(ber)] TJ 1 0 0 1 72 680 Tm (\(4111\) 1111\0401111 1111) Tj T* (caf\351) ' ET";
    let pdf = fixtures::pdf(&[("/Filter /FlateDecode", fixtures::zlib(content))], None);
    let out = run(&pdf);
    assert_eq!(out.text, "Card number\n(4111) 1111 1111 1111\ncafé\n");
}

#[test]
fn identity_h_fonts_are_mapped_through_to_unicode() {
    // Glyph ids 0001.. map to "S", "e", "c", "r", "t" (with a range for r..t).
    let cmap = "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
        1 begincodespacerange <0000> <FFFF> endcodespacerange\n\
        3 beginbfchar <0001> <0053> <0002> <0065> <0003> <0063> endbfchar\n\
        1 beginbfrange <0004> <0006> <0072> endbfrange\n\
        endcmap CMapName currentdict /CMap defineresource pop end end";
    // "Secret" = S e c r e t = 0001 0002 0003 0004 0002 0006
    let content = b"BT /F2 12 Tf 72 700 Td <000100020003000400020006> Tj ET".to_vec();
    let pdf = fixtures::pdf(&[("", content)], Some(cmap));
    let out = run(&pdf);
    assert!(out.text.contains("Secret"), "{:?}", out.text);
}

#[test]
fn ascii_hex_and_ascii85_filters_are_decoded() {
    let hex: String = b"BT /F1 9 Tf (hex filtered) Tj ET"
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        + ">";
    let pdf = fixtures::pdf(&[("/Filter /ASCIIHexDecode", hex.into_bytes())], None);
    assert!(run(&pdf).text.contains("hex filtered"));
    let a85 = fixtures::ascii85(&fixtures::zlib(b"BT /F1 9 Tf (base85 then flate) Tj ET"));
    let pdf = fixtures::pdf(&[("/Filter [/ASCII85Decode /FlateDecode]", a85)], None);
    assert!(
        run(&pdf).text.contains("base85 then flate"),
        "{:?}",
        run(&pdf).text
    );
}

#[test]
fn encrypted_pdfs_are_reported() {
    let mut pdf = fixtures::pdf(&[("", b"BT (x) Tj ET".to_vec())], None);
    let at = pdf.windows(5).rposition(|w| w == b"/Root").unwrap();
    pdf.splice(at..at, b"/Encrypt 99 0 R ".iter().copied());
    let out = run(&pdf);
    assert_eq!(out.refused.unwrap().kind, RefusalKind::Encrypted);
}

#[test]
fn a_flate_bomb_inside_a_pdf_is_refused_fast() {
    let pdf = fixtures::pdf(
        &[("/Filter /FlateDecode", fixtures::zeros_deflate(1024))],
        None,
    );
    let started = Instant::now();
    let out = run(&pdf);
    assert_eq!(out.refused.unwrap().kind, RefusalKind::Bomb);
    assert!(started.elapsed() < Duration::from_millis(500));
}

#[test]
fn a_pdf_named_docx_is_still_a_pdf() {
    let pdf = fixtures::pdf(&[("", b"BT /F1 9 Tf (named wrong) Tj ET".to_vec())], None);
    let out = extract(Some("report.docx"), None, &pdf, &Limits::default());
    assert_eq!(out.parts[0].kind, FileKind::Pdf);
    assert!(out.text.contains("named wrong"));
}

#[test]
fn truncated_pdfs_yield_what_they_can() {
    let content = b"BT /F1 9 Tf (before the cut) Tj ET".to_vec();
    let pdf = fixtures::pdf(&[("", content)], None);
    let cut = pdf.windows(9).position(|w| w == b"endstream").unwrap() + 12;
    let out = run(&pdf[..cut]);
    assert!(out.text.contains("before the cut"), "{:?}", out.text);
}
