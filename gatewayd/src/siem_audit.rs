//! Follows the admin audit trail (`<state>/admin-audit.jsonl`) for SIEM export, so that admin
//! actions reach the SIEM whichever process recorded them: the dashboard and admin API in this
//! daemon, and the CLI (`gatewayd keys ...`, `gatewayd aigw keys ...`, `gatewayd discovered
//! ...`, `gatewayd requests ...`) in processes of their own.
//!
//! Where it stopped is kept in `<state>/siem-spool/audit.offset`, so a restart neither sends
//! the trail again nor skips what was written while the daemon was down; the first start
//! begins at the trail's end (the history is not replayed into the SIEM). An event's id is
//! the line's byte offset, the same on every pass, so receivers can de-duplicate.
//!
//! What it must never do: read an unbounded amount at once (a pass reads at most
//! `MAX_PASS` bytes, whole lines only), or stop the daemon on a bad line (skipped, warned).

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use admin::audit::{AuditEntry, AUDIT_FILE};
use siem::Siem;

/// The most of the trail read in one pass.
const MAX_PASS: u64 = 1024 * 1024;

/// Polls the trail every second until the daemon stops.
pub async fn follow(siem: Arc<Siem>, state_dir: PathBuf) {
    let trail = state_dir.join(AUDIT_FILE);
    let offset_file = state_dir.join("siem-spool").join("audit.offset");
    let mut offset = match std::fs::read_to_string(&offset_file) {
        Ok(text) => text.trim().parse().unwrap_or(0),
        Err(_) => std::fs::metadata(&trail).map_or(0, |m| m.len()),
    };
    loop {
        let trail_path = trail.clone();
        let read = tokio::task::spawn_blocking(move || read_from(&trail_path, offset)).await;
        match read {
            Ok(Ok((lines, next))) => {
                for (at, line) in lines {
                    match serde_json::from_str::<AuditEntry>(&line) {
                        Ok(e) => siem.offer_audit(e.ts_unix_ms, at, &e.actor, &e.action, &e.detail),
                        Err(error) => {
                            tracing::warn!(%error, offset = at, "admin audit line not exported to the SIEM: it does not parse")
                        }
                    }
                }
                if next != offset {
                    offset = next;
                    if let Err(error) = save(&offset_file, offset) {
                        tracing::warn!(%error, "SIEM export: the audit trail position was not saved");
                    }
                }
            }
            Ok(Err(error)) if error.kind() == std::io::ErrorKind::NotFound => {}
            Ok(Err(error)) => {
                tracing::warn!(%error, "SIEM export: the admin audit trail cannot be read")
            }
            Err(_) => {}
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The whole lines after `offset` (each with its own offset) and where the next pass starts.
/// A trail shorter than `offset` was replaced: read it from the start.
fn read_from(trail: &Path, offset: u64) -> std::io::Result<(Vec<(u64, String)>, u64)> {
    let mut file = std::fs::File::open(trail)?;
    let len = file.metadata()?.len();
    let offset = if len < offset { 0 } else { offset };
    file.seek(SeekFrom::Start(offset))?;
    let mut bytes = Vec::new();
    file.take(MAX_PASS).read_to_end(&mut bytes)?;
    let mut lines = Vec::new();
    let mut at = 0usize;
    while let Some(end) = bytes[at..].iter().position(|b| *b == b'\n') {
        let line = String::from_utf8_lossy(&bytes[at..at + end]).into_owned();
        lines.push((offset + at as u64, line));
        at += end + 1;
    }
    if at == 0 && bytes.len() as u64 == MAX_PASS {
        // One line longer than a pass (the trail bounds details, so not written by gatewayd):
        // skip it rather than stall.
        return Ok((Vec::new(), offset + MAX_PASS));
    }
    Ok((lines, offset + at as u64))
}

fn save(path: &Path, offset: u64) -> std::io::Result<()> {
    let tmp = path.with_extension("offset.tmp");
    std::fs::write(&tmp, offset.to_string())?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::read_from;

    #[test]
    fn whole_lines_only_with_their_offsets_and_a_replaced_trail_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let trail = dir.path().join("t.jsonl");
        std::fs::write(&trail, "{\"a\":1}\n{\"b\":2}\n{\"c\"").unwrap();
        let (lines, next) = read_from(&trail, 0).unwrap();
        assert_eq!(
            lines,
            vec![(0, "{\"a\":1}".into()), (8, "{\"b\":2}".into())]
        );
        assert_eq!(next, 16);
        let (lines, next) = read_from(&trail, next).unwrap();
        assert!(lines.is_empty());
        assert_eq!(next, 16);
        std::fs::write(&trail, "{\"d\":4}\n").unwrap();
        let (lines, _) = read_from(&trail, 16).unwrap();
        assert_eq!(lines, vec![(0, "{\"d\":4}".into())]);
    }
}
