//! Uploads the extractor opens: zip, tar and gzip archives (nested too) and raw bytes, damaged.

use std::io::{Cursor, Write};

use proptest::prelude::*;
use warden_fuzz::extract::extract_all;

use crate::mutate::damaged_from;

fn entries() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    prop::collection::vec(
        (
            "[a-z]{1,8}\\.(txt|csv|json|md)",
            prop_oneof![
                "[ -~\n]{0,200}".prop_map(String::into_bytes),
                (any::<u8>(), 1usize..20_000).prop_map(|(b, n)| vec![b; n]),
            ],
        ),
        1..4,
    )
}

fn zip(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (i, (name, content)) in entries.iter().enumerate() {
        writer
            .start_file(
                format!("{i}-{name}"),
                zip::write::SimpleFileOptions::default(),
            )
            .unwrap();
        writer.write_all(content).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn tar(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (i, (name, content)) in entries.iter().enumerate() {
        let name = format!("{i}-{name}");
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, &name, &content[..])
            .unwrap();
    }
    builder.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A valid archive: zip, tar.gz, gzip, or a zip inside a zip.
pub fn archive() -> impl Strategy<Value = Vec<u8>> {
    (entries(), 0u8..4).prop_map(|(entries, kind)| match kind {
        0 => zip(&entries),
        1 => gzip(&tar(&entries)),
        2 => gzip(&entries[0].1),
        _ => zip(&[("inner.zip".to_string(), zip(&entries))]),
    })
}

proptest! {
    #![proptest_config(crate::config(256))]

    #[test]
    fn extraction_stays_within_its_limits_on_damaged_archives(
        bytes in prop_oneof![
            3 => damaged_from(archive()),
            1 => prop::collection::vec(any::<u8>(), 0..512),
        ],
    ) {
        extract_all(&bytes);
    }

    #[test]
    fn an_intact_archive_yields_its_text(entries in entries()) {
        let text_entries: Vec<_> = entries
            .iter()
            .filter(|(_, c)| c.iter().all(|b| b.is_ascii_graphic() || *b == b' '))
            .filter(|(_, c)| c.len() >= 8)
            .collect();
        let text = extract_all(&zip(&entries));
        for (name, content) in text_entries {
            let content = String::from_utf8_lossy(content);
            prop_assert!(text.contains(content.trim()), "{name}: {content:?} not in {text:?}");
        }
    }
}
