//! The durable status book: load at start, set through the API or CLI, notice changes made
//! by another process (the CLI while the daemon runs) by polling the file's modification time.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use policies::status::StatusChange;
use policies::{AppStatus, StatusBook};

use state_files::write_atomic;
use state_files::StateLock;

const BOOK_FILE: &str = "app-statuses.json";
const CHANGES_FILE: &str = "app-status-changes.jsonl";

#[derive(Debug, thiserror::Error)]
pub enum StatusStoreError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Corrupt(String),
    #[error("could not encode the status book: {0}")]
    Encode(#[from] serde_json::Error),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StatusStoreError + '_ {
    move |source| StatusStoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Statuses by app id, durable in the state directory.
pub struct StatusStore {
    dir: PathBuf,
    book: ArcSwap<StatusBook>,
    /// Serialises writers (API and watcher) so no change is lost between read and write.
    write: Mutex<Option<SystemTime>>,
}

impl StatusStore {
    /// Loads the book from `dir` (an empty book when the file does not exist yet). A corrupt
    /// file is an error: starting with every app "unreviewed" would silently change policy.
    pub fn open(dir: &Path) -> Result<Self, StatusStoreError> {
        let path = dir.join(BOOK_FILE);
        let (book, modified) = read_book(&path)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            book: ArcSwap::from_pointee(book),
            write: Mutex::new(modified),
        })
    }

    /// The current book; cheap (an atomic load).
    pub fn book(&self) -> Arc<StatusBook> {
        self.book.load_full()
    }

    /// Sets an app's status, persists the book and the change record, then publishes it.
    pub fn set(
        &self,
        app_id: &str,
        status: AppStatus,
        actor: &str,
    ) -> Result<StatusChange, StatusStoreError> {
        let mut guard = self.write.lock().unwrap_or_else(PoisonError::into_inner);
        // The daemon (API, dashboard) and the CLI both change the book: the inter-process lock
        // the devices files use keeps one from overwriting the other's change.
        let _lock = StateLock::acquire(&self.dir).map_err(io(&self.dir))?;
        // Start from the file, not memory: another process may have written it since.
        let path = self.dir.join(BOOK_FILE);
        let (mut book, _) = read_book(&path)?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let change = book.set(app_id, status, actor, now);
        write_atomic(&path, book.to_json()?.as_bytes(), true).map_err(io(&path))?;
        append_change(&self.dir.join(CHANGES_FILE), &change)?;
        *guard = modified(&path);
        self.book.store(Arc::new(book));
        tracing::info!(app = app_id, old = %change.old, new = %change.new, actor, "app status changed");
        Ok(change)
    }

    /// Reloads the book when another process changed the file. Returns whether it changed.
    pub fn refresh(&self) -> Result<bool, StatusStoreError> {
        let mut guard = self.write.lock().unwrap_or_else(PoisonError::into_inner);
        let path = self.dir.join(BOOK_FILE);
        let current = modified(&path);
        if current == *guard {
            return Ok(false);
        }
        let (book, stamp) = read_book(&path)?;
        self.book.store(Arc::new(book));
        *guard = stamp;
        Ok(true)
    }

    /// Every recorded change, oldest first (the audit trail).
    pub fn changes(&self) -> Result<Vec<StatusChange>, StatusStoreError> {
        let path = self.dir.join(CHANGES_FILE);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(&path)(e)),
        };
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l)
                    .map_err(|e| StatusStoreError::Corrupt(format!("{}: {e}", path.display())))
            })
            .collect()
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn read_book(path: &Path) -> Result<(StatusBook, Option<SystemTime>), StatusStoreError> {
    match fs::read_to_string(path) {
        Ok(text) => {
            let book = StatusBook::from_json(&path.display().to_string(), &text)
                .map_err(|e| StatusStoreError::Corrupt(e.to_string()))?;
            Ok((book, modified(path)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((StatusBook::new(), None)),
        Err(e) => Err(io(path)(e)),
    }
}

fn append_change(path: &Path, change: &StatusChange) -> Result<(), StatusStoreError> {
    let mut line = serde_json::to_string(change)?;
    line.push('\n');
    // Private: who changed which app's status, and when.
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(io(path))?;
    file.write_all(line.as_bytes()).map_err(io(path))?;
    file.sync_data().map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survives_a_restart_and_records_changes() {
        let dir = tempfile::tempdir().unwrap();
        let store = StatusStore::open(dir.path()).unwrap();
        assert_eq!(store.book().status("chatgpt"), AppStatus::Unreviewed);
        store.set("chatgpt", AppStatus::Approved, "alice").unwrap();
        store.set("chatgpt", AppStatus::Unapproved, "bob").unwrap();
        let reopened = StatusStore::open(dir.path()).unwrap();
        assert_eq!(reopened.book().status("chatgpt"), AppStatus::Unapproved);
        let changes = reopened.changes().unwrap();
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[1].old, AppStatus::Approved);
        assert_eq!(changes[1].actor, "bob");
    }

    #[test]
    fn notices_another_writer_and_refuses_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let daemon = StatusStore::open(dir.path()).unwrap();
        let cli = StatusStore::open(dir.path()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        cli.set("claude", AppStatus::Approved, "cli").unwrap();
        assert!(daemon.refresh().unwrap());
        assert_eq!(daemon.book().status("claude"), AppStatus::Approved);
        std::fs::write(dir.path().join(BOOK_FILE), "{not json").unwrap();
        assert!(StatusStore::open(dir.path()).is_err());
    }

    #[test]
    fn concurrent_writers_in_separate_stores_lose_no_change() {
        // Each store stands for a process (the daemon, CLI runs): only the file lock is shared.
        let dir = tempfile::tempdir().unwrap();
        let writers = 6;
        let apps_each = 15;
        std::thread::scope(|s| {
            for w in 0..writers {
                let dir = dir.path();
                s.spawn(move || {
                    let store = StatusStore::open(dir).unwrap();
                    for a in 0..apps_each {
                        let app = format!("app-{w}-{a}");
                        store.set(&app, AppStatus::Approved, "writer").unwrap();
                    }
                });
            }
        });
        let book = StatusStore::open(dir.path()).unwrap().book();
        for w in 0..writers {
            for a in 0..apps_each {
                assert_eq!(
                    book.status(&format!("app-{w}-{a}")),
                    AppStatus::Approved,
                    "app-{w}-{a} was lost"
                );
            }
        }
        let changes = StatusStore::open(dir.path()).unwrap().changes().unwrap();
        assert_eq!(changes.len(), writers * apps_each);
    }
}
