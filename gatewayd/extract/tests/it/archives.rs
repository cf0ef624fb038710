//! Archives: zip, tar, gzip and zstd, nested, with every limit: bombs (ratio, total, overlap,
//! 42.zip-style nesting), depth, entry count, text size; corrupt, encrypted and unsupported
//! entries reported without panicking.

use std::time::{Duration, Instant};

use extract::{extract, Extraction, FileKind, Limits, RefusalKind};
use zip::CompressionMethod;

use crate::fixtures::{self, RawEntry, AWS_KEY};

fn run(name: &str, bytes: &[u8]) -> Extraction {
    extract(Some(name), None, bytes, &Limits::default())
}

fn kinds(out: &Extraction) -> Vec<(&str, FileKind)> {
    out.parts
        .iter()
        .map(|p| (p.path.as_str(), p.kind))
        .collect()
}

fn refusal(out: &Extraction) -> RefusalKind {
    out.refused.as_ref().map(|r| r.kind).expect("a refusal")
}

#[test]
fn zip_entries_are_typed_and_their_text_collected() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR rest of image";
    let archive = fixtures::zip(&[
        ("notes/readme.txt", b"just some prose about the plan"),
        (
            "data/customers.csv",
            b"name,email\nAlice,alice@example.com\nBob,bob@example.com\n",
        ),
        ("data/config.json", br#"{"token": "abc"}"#),
        (
            "src/main.rs",
            b"use std::io;\n\nfn main() {\n    let x = 1;\n}\n",
        ),
        ("images/logo.png", png),
        ("empty/", b""),
    ]);
    let out = run("upload.zip", &archive);
    assert!(out.is_complete(), "{:?}", out.refused);
    assert_eq!(
        kinds(&out),
        vec![
            ("upload.zip", FileKind::Zip),
            ("upload.zip/notes/readme.txt", FileKind::Text),
            ("upload.zip/data/customers.csv", FileKind::Csv),
            ("upload.zip/data/config.json", FileKind::Json),
            ("upload.zip/src/main.rs", FileKind::Code),
            ("upload.zip/images/logo.png", FileKind::Image),
        ]
    );
    let logo = &out.parts[5];
    assert_eq!(
        (logo.bytes, logo.text_bytes, logo.depth),
        (png.len() as u64, 0, 1)
    );
    assert!(out.text.contains("alice@example.com"));
    let csv_at = out.text.find("alice@").unwrap();
    assert_eq!(
        out.part_at(csv_at).unwrap().path,
        "upload.zip/data/customers.csv"
    );
}

#[test]
fn stored_zip_entries_are_read_too() {
    let archive = fixtures::zip_with(&[("a.txt", AWS_KEY.as_bytes())], CompressionMethod::Stored);
    let out = run("stored.zip", &archive);
    assert!(out.text.contains(AWS_KEY));
}

#[test]
fn nested_zip_in_zip_keeps_the_whole_path() {
    let docx = fixtures::docx(&[&format!("key {AWS_KEY}")]);
    let inner = fixtures::zip(&[("notes/secret.docx", &docx)]);
    let outer = fixtures::zip(&[("inner.zip", &inner)]);
    let out = run("report.zip", &outer);
    assert!(out.is_complete(), "{:?}", out.refused);
    let at = out.text.find(AWS_KEY).unwrap();
    let part = out.part_at(at).unwrap();
    assert_eq!(part.path, "report.zip/inner.zip/notes/secret.docx");
    assert_eq!((part.kind, part.depth), (FileKind::Docx, 2));
}

#[test]
fn tar_gz_is_streamed_entry_by_entry() {
    let tar = fixtures::tar(&[
        (
            "src/lib.rs",
            b"pub fn key() -> &'static str {\n    \"AKIAIOSFODNN7EXAMPLE\"\n}\n",
        ),
        ("README.md", b"a readme"),
    ]);
    let out = run("bundle.tar.gz", &fixtures::gzip(&tar));
    assert!(out.is_complete(), "{:?}", out.refused);
    assert_eq!(
        kinds(&out),
        vec![
            ("bundle.tar.gz", FileKind::Gzip),
            ("bundle.tar.gz/bundle.tar", FileKind::Tar),
            ("bundle.tar.gz/bundle.tar/src/lib.rs", FileKind::Code),
            ("bundle.tar.gz/bundle.tar/README.md", FileKind::Text),
        ]
    );
    assert!(out.text.contains(AWS_KEY));
    assert_eq!(out.parts[1].bytes, tar.len() as u64);
}

#[test]
fn gzip_and_zstd_files_hold_one_file() {
    let out = run("notes.txt.gz", &fixtures::gzip(b"gzipped note"));
    assert_eq!(out.parts[1].path, "notes.txt.gz/notes.txt");
    assert!(out.text.contains("gzipped note"));
    let out = run("dump.zst", &fixtures::zstd(b"zstd note"));
    assert_eq!(
        kinds(&out),
        vec![
            ("dump.zst", FileKind::Zstd),
            ("dump.zst/dump", FileKind::Text)
        ]
    );
    assert!(out.text.contains("zstd note"));
}

fn nest_zips(levels: usize) -> Vec<u8> {
    let mut bytes = fixtures::zip(&[("deep.txt", b"bottom of the well")]);
    for level in 0..levels {
        bytes = fixtures::zip(&[(&format!("level{level}.zip"), &bytes)]);
    }
    bytes
}

#[test]
fn nesting_up_to_the_depth_limit_is_read() {
    // deep.txt inside 3 archives: the default limit.
    let out = run("top.zip", &nest_zips(2));
    assert!(out.is_complete(), "{:?}", out.refused);
    assert!(out.text.contains("bottom of the well"));
}

#[test]
fn nesting_past_the_depth_limit_is_refused() {
    let out = run("top.zip", &nest_zips(3));
    assert_eq!(refusal(&out), RefusalKind::TooDeep);
    assert!(!out.text.contains("bottom of the well"));
    let limits = Limits {
        max_depth: 4,
        ..Limits::default()
    };
    let out = extract(Some("top.zip"), None, &nest_zips(3), &limits);
    assert!(out.text.contains("bottom of the well"));
}

#[test]
fn too_many_entries_are_refused_before_reading_them() {
    let names: Vec<String> = (0..50).map(|i| format!("f{i}.txt")).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    let limits = Limits {
        max_entries: 10,
        ..Limits::default()
    };
    let out = extract(Some("many.zip"), None, &fixtures::zip(&entries), &limits);
    assert_eq!(refusal(&out), RefusalKind::TooManyEntries);
    assert_eq!(out.parts.len(), 1, "no entry was read");
}

#[test]
fn a_gigabyte_zip_bomb_is_refused_fast() {
    let zeros = fixtures::zeros_deflate(1024);
    let bomb = fixtures::raw_zip(
        &[RawEntry {
            name: "zeros.bin",
            method: 8,
            flags: 0,
            data: &zeros,
            size: u32::MAX,
        }],
        false,
    );
    let started = Instant::now();
    let out = run("bomb.zip", &bomb);
    let took = started.elapsed();
    assert_eq!(refusal(&out), RefusalKind::Bomb, "{:?}", out.refused);
    assert!(took < Duration::from_millis(500), "took {took:?}");
}

#[test]
fn a_gzip_bomb_upload_is_refused_fast() {
    let bomb = fixtures::gzip_raw(&fixtures::zeros_deflate(1024));
    let started = Instant::now();
    let out = run("zeros.gz", &bomb);
    assert_eq!(refusal(&out), RefusalKind::Bomb, "{:?}", out.refused);
    assert!(started.elapsed() < Duration::from_millis(500));
}

#[test]
fn a_42_zip_style_nested_bomb_is_refused_fast() {
    // 16 zips of 16 entries of 16 MiB of zeros each: 4 GiB nominal, about 4 MiB here.
    let zeros = fixtures::zeros_deflate(16);
    let leaf_entries: Vec<RawEntry<'_>> = (0..16)
        .map(|_| RawEntry {
            name: "zeros.bin",
            method: 8,
            flags: 0,
            data: &zeros,
            size: 16 << 20,
        })
        .collect();
    let leaf = fixtures::raw_zip(&leaf_entries, false);
    let names: Vec<String> = (0..16).map(|i| format!("lib{i}.zip")).collect();
    let level: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &leaf[..])).collect();
    let top = fixtures::zip_with(&level, CompressionMethod::Stored);
    let started = Instant::now();
    let out = run("42.zip", &top);
    let took = started.elapsed();
    assert_eq!(refusal(&out), RefusalKind::Bomb, "{:?}", out.refused);
    assert!(took < Duration::from_secs(1), "took {took:?}");
}

#[test]
fn overlapping_entries_are_a_bomb() {
    let data = fixtures::raw_deflate(&[b'a'; 1000]);
    let entries: Vec<RawEntry<'_>> = (0..3)
        .map(|_| RawEntry {
            name: "same.txt",
            method: 8,
            flags: 0,
            data: &data,
            size: 1000,
        })
        .collect();
    let out = run("overlap.zip", &fixtures::raw_zip(&entries, true));
    assert_eq!(refusal(&out), RefusalKind::Bomb);
    assert!(out.refused.unwrap().reason.contains("overlap"));
}

#[test]
fn text_beyond_the_output_limit_is_cut_and_refused() {
    let body = "lorem ipsum dolor ".repeat(100);
    let names: Vec<String> = (0..20).map(|i| format!("t{i}.txt")).collect();
    let entries: Vec<(&str, &[u8])> = names
        .iter()
        .map(|n| (n.as_str(), body.as_bytes()))
        .collect();
    let limits = Limits {
        max_output_bytes: 5000,
        ..Limits::default()
    };
    let out = extract(Some("big.zip"), None, &fixtures::zip(&entries), &limits);
    assert_eq!(refusal(&out), RefusalKind::TooLarge);
    assert_eq!(out.text.len(), 5000);
    assert!(out.parts.len() < 10, "the walk stopped at the limit");
}

#[test]
fn corrupt_zips_are_reported_not_panicked_on() {
    let good = fixtures::zip(&[("a.txt", b"hello there"), ("b.txt", b"general kenobi")]);
    let truncated = &good[..good.len() - 30];
    let out = run("cut.zip", truncated);
    assert_eq!(refusal(&out), RefusalKind::Corrupt);
    assert_eq!(out.parts[0].kind, FileKind::Zip);

    // A central directory that points at garbage instead of a local header.
    let mut scrambled = good.clone();
    scrambled[0..4].copy_from_slice(b"PK\x03\x04");
    scrambled[30..40].copy_from_slice(&[0xff; 10]);
    let out = run("scrambled.zip", &scrambled);
    assert!(out.refused.is_some());
}

#[test]
fn encrypted_and_unsupported_entries_are_reported() {
    let plain = fixtures::raw_deflate(b"visible text");
    let entries = [
        RawEntry {
            name: "locked.txt",
            method: 8,
            flags: 1,
            data: b"0123456789abcdef",
            size: 16,
        },
        RawEntry {
            name: "open.txt",
            method: 8,
            flags: 0,
            data: &plain,
            size: 12,
        },
    ];
    let out = run("locked.zip", &fixtures::raw_zip(&entries, false));
    let refused = out.refused.clone().unwrap();
    assert_eq!(
        (refused.kind, refused.path.as_str()),
        (RefusalKind::Encrypted, "locked.zip/locked.txt")
    );
    assert!(out.text.contains("visible text"), "the walk went on");

    let bzip = [RawEntry {
        name: "a.bz2.txt",
        method: 12,
        flags: 0,
        data: b"BZh9...",
        size: 7,
    }];
    let out = run("method.zip", &fixtures::raw_zip(&bzip, false));
    assert_eq!(refusal(&out), RefusalKind::Unsupported);
}

#[test]
fn input_over_the_limit_is_refused_unread() {
    let limits = Limits {
        max_input_bytes: 100,
        ..Limits::default()
    };
    let out = extract(Some("big.txt"), None, &[b'a'; 101], &limits);
    assert_eq!(refusal(&out), RefusalKind::TooLarge);
    assert!(out.text.is_empty());
}

#[test]
fn zip64_archives_and_long_tar_names_are_read() {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().large_file(true);
    writer.start_file("big/format.txt", options).unwrap();
    std::io::Write::write_all(&mut writer, AWS_KEY.as_bytes()).unwrap();
    let zip64 = writer.finish().unwrap().into_inner();
    let out = run("z64.zip", &zip64);
    assert!(out.is_complete(), "{:?}", out.refused);
    assert!(out.text.contains(AWS_KEY));

    let long = format!("{}/deep.txt", "d".repeat(150));
    let out = run("long.tar", &fixtures::tar(&[(&long, b"long named file")]));
    assert_eq!(out.parts[1].path, format!("long.tar/{long}"));
    assert!(out.text.contains("long named file"));
}
