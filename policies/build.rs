//! Generates the list of catalog files embedded in the crate, so a new
//! `catalog/*.toml` is picked up without touching the source.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let dir = manifest.join("catalog");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    let mut out = String::from("/// Catalog files shipped with the crate: (file name, text).\n");
    out.push_str("pub(crate) static EMBEDDED: &[(&str, &str)] = &[\n");
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or("catalog file name is not UTF-8")?;
        let abs = path.to_str().ok_or("catalog path is not UTF-8")?;
        writeln!(out, "    ({name:?}, include_str!({abs:?})),")?;
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR")?).join("embedded_catalog.rs");
    std::fs::write(dest, out)?;
    Ok(())
}
