//! Office documents: the text a person typed comes out of docx, xlsx, pptx and OpenDocument,
//! told apart by content whatever the file is called.

use extract::{extract, FileKind, Limits};

use crate::fixtures::{self, AWS_KEY};

#[test]
fn docx_yields_its_paragraphs_including_an_aws_key() {
    let doc = fixtures::docx(&[
        "Quarterly notes",
        &format!("deploy with access key {AWS_KEY} &amp; rotate"),
    ]);
    let out = extract(Some("secret.docx"), None, &doc, &Limits::default());
    assert!(out.is_complete(), "{:?}", out.refused);
    assert_eq!(out.parts.len(), 1);
    assert_eq!(out.parts[0].kind, FileKind::Docx);
    assert_eq!(out.parts[0].path, "secret.docx");
    assert!(out.text.contains("Quarterly notes\n"), "{:?}", out.text);
    assert!(out
        .text
        .contains(&format!("deploy with access key {AWS_KEY} & rotate")));
    assert_eq!(
        out.part_at(out.text.find(AWS_KEY).unwrap()).unwrap().path,
        "secret.docx"
    );
}

#[test]
fn type_comes_from_content_not_the_name() {
    let doc = fixtures::docx(&[AWS_KEY]);
    let out = extract(
        Some("harmless.txt"),
        Some("text/plain"),
        &doc,
        &Limits::default(),
    );
    assert_eq!(out.parts[0].kind, FileKind::Docx);
    assert!(out.text.contains(AWS_KEY));
}

#[test]
fn docx_headers_tabs_and_breaks_become_plain_text() {
    let document = br#"<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>Name</w:t><w:tab/><w:t>Value</w:t><w:br/><w:t>next &#x41;&lt;line&gt;</w:t></w:r></w:p></w:body></w:document>"#;
    let header =
        br#"<w:hdr xmlns:w="w"><w:p><w:r><w:t>CONFIDENTIAL header</w:t></w:r></w:p></w:hdr>"#;
    let doc = fixtures::zip(&[
        ("word/document.xml", document),
        ("word/header1.xml", header),
    ]);
    let out = extract(None, None, &doc, &Limits::default());
    assert_eq!(out.parts[0].kind, FileKind::Docx);
    assert!(
        out.text.contains("Name\tValue\nnext A<line>"),
        "{:?}",
        out.text
    );
    assert!(out.text.contains("CONFIDENTIAL header"));
}

#[test]
fn xlsx_yields_rows_of_cells() {
    let book = fixtures::xlsx(&[
        &["name", "card"],
        &["Alice", "4111 1111 1111 1111"],
        &["total", "42"],
    ]);
    let out = extract(Some("cards.xlsx"), None, &book, &Limits::default());
    assert!(out.is_complete(), "{:?}", out.refused);
    assert_eq!(out.parts[0].kind, FileKind::Xlsx);
    assert!(out.text.contains("name\tcard\n"), "{:?}", out.text);
    assert!(out.text.contains("Alice\t4111 1111 1111 1111\n"));
    assert!(out.text.contains("total\t42\n"));
}

#[test]
fn pptx_yields_slides_in_order() {
    let titles: Vec<String> = (1..=11).map(|i| format!("slide number {i}")).collect();
    let refs: Vec<&str> = titles.iter().map(String::as_str).collect();
    let deck = fixtures::pptx(&refs);
    let out = extract(Some("deck.pptx"), None, &deck, &Limits::default());
    assert_eq!(out.parts[0].kind, FileKind::Pptx);
    let second = out.text.find("slide number 2\n").unwrap();
    let tenth = out.text.find("slide number 10\n").unwrap();
    assert!(second < tenth, "{:?}", out.text);
    assert!(out.text.contains("slide number 11"));
}

#[test]
fn opendocument_text_is_read() {
    let content = br#"<office:document-content xmlns:office="o" xmlns:text="t"><office:body><office:text><text:p>Project <text:span>Nightingale</text:span> budget</text:p><text:h>Secret</text:h></office:text></office:body></office:document-content>"#;
    let odt = fixtures::zip(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text"),
        ("content.xml", content),
    ]);
    let out = extract(Some("plan.odt"), None, &odt, &Limits::default());
    assert_eq!(out.parts[0].kind, FileKind::OpenDocument);
    assert!(
        out.text.contains("Project Nightingale budget\nSecret\n"),
        "{:?}",
        out.text
    );
}

#[test]
fn files_embedded_in_a_document_are_walked() {
    let inner = fixtures::xlsx(&[&["db password", "hunter2"]]);
    let document = br#"<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>see attached</w:t></w:r></w:p></w:body></w:document>"#;
    let doc = fixtures::zip(&[
        ("word/document.xml", document),
        ("word/embeddings/Microsoft_Excel_Worksheet.xlsx", &inner),
    ]);
    let out = extract(Some("memo.docx"), None, &doc, &Limits::default());
    let embedded = out
        .parts
        .iter()
        .find(|p| p.path == "memo.docx/word/embeddings/Microsoft_Excel_Worksheet.xlsx")
        .unwrap();
    assert_eq!(embedded.kind, FileKind::Xlsx);
    assert_eq!(embedded.depth, 1);
    assert!(out.text.contains("db password\thunter2"), "{:?}", out.text);
}
