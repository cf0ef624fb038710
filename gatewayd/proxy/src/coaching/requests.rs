//! Access requests as the gateway keeps them: the book of `policies::access` in
//! `<state>/access-requests.json` (written whole and atomically, 0600: it names people), a
//! per-person hourly rate, and the security team's decisions.
//!
//! The daemon and the CLI (`gatewayd access-requests approve|deny`) both write the file:
//! every write starts from the file under the state directory's lock, and a read notices a
//! file another process changed (its modification time), so neither loses the other's work.
//!
//! What it must never do: let one person (or a script in their browser) flood the queue —
//! repeats are one request, each person files at most `coaching.requests_per_user_per_hour`,
//! and at most `coaching.max_open_requests` are open at once; or lose a decision silently (a
//! write that fails changes nothing in memory and is reported).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use policies::access::{AccessBook, AccessRequest, DecideRefused, FileRefused, Filed};
use state_files::StateLock;

/// The file in the state directory.
pub const FILE: &str = "access-requests.json";
/// People tracked by the hourly rate at once; beyond it new filers are refused until windows
/// end (a flood of made-up identities cannot grow the table).
const MAX_RATE_ENTRIES: usize = 10_000;
const RATE_WINDOW: Duration = Duration::from_secs(3600);

/// Why a request was not filed or decided.
#[derive(Debug, thiserror::Error)]
pub enum RequestRefused {
    #[error("you have sent {0} access requests in the last hour; try again later")]
    Rate(u32),
    #[error("too many people are sending access requests right now; try again later")]
    Busy,
    #[error(transparent)]
    Full(#[from] FileRefused),
    #[error(transparent)]
    Decide(#[from] DecideRefused),
    #[error("access requests could not be saved: {0}")]
    Store(String),
}

/// Who files a request, as the book records them.
pub struct Filer<'a> {
    /// The user name (with the address for identities many people share).
    pub user: &'a str,
    pub device: &'a str,
}

/// The durable book plus the hourly rate.
pub struct AccessRequests {
    path: PathBuf,
    /// The book and the file's modification time it was read at (or written with).
    book: Mutex<(AccessBook, Option<SystemTime>)>,
    rate: Mutex<HashMap<String, (Instant, u32)>>,
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl AccessRequests {
    /// Opens the book in `dir`. A corrupt file is moved aside (`.corrupt`) with an error in
    /// the log: requests change no enforcement, so they are never a reason not to start.
    pub fn open(dir: &Path) -> Self {
        let path = dir.join(FILE);
        let book = match std::fs::read_to_string(&path) {
            Ok(text) => AccessBook::from_json(&text).unwrap_or_else(|error| {
                let aside = dir.join(format!("{FILE}.corrupt"));
                let moved = std::fs::rename(&path, &aside);
                tracing::error!(
                    file = %path.display(), %error, moved_to = %aside.display(),
                    moved = moved.is_ok(), "access requests file is corrupt; starting empty"
                );
                AccessBook::default()
            }),
            Err(_) => AccessBook::default(),
        };
        let stamp = modified(&path);
        Self {
            path,
            book: Mutex::new((book, stamp)),
            rate: Mutex::new(HashMap::new()),
        }
    }

    /// Every request kept, oldest first (as the file has them, when another process changed
    /// it since).
    pub fn list(&self) -> Vec<AccessRequest> {
        let mut held = self.book.lock().unwrap_or_else(PoisonError::into_inner);
        let stamp = modified(&self.path);
        if stamp != held.1 {
            if let Some(book) = self.read_file() {
                *held = (book, stamp);
            }
        }
        held.0.requests().to_vec()
    }

    /// The book in the file; `None` when it is missing or cannot be read (memory is kept:
    /// requests change no enforcement, and the next write puts them back).
    fn read_file(&self) -> Option<AccessBook> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        match AccessBook::from_json(&text) {
            Ok(book) => Some(book),
            Err(error) => {
                tracing::error!(file = %self.path.display(), %error, "access requests file is unreadable; keeping the last good book");
                None
            }
        }
    }

    /// Runs `change` on the book as the file has it now, under the state directory's lock,
    /// and saves the result; memory changes only when the write succeeded.
    fn change<T>(
        &self,
        change: impl FnOnce(&mut AccessBook) -> Result<T, RequestRefused>,
    ) -> Result<T, RequestRefused> {
        let mut held = self.book.lock().unwrap_or_else(PoisonError::into_inner);
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let _lock = StateLock::acquire(dir)
            .map_err(|e| RequestRefused::Store(format!("{}: {e}", dir.display())))?;
        let mut next = self.read_file().unwrap_or_else(|| held.0.clone());
        let done = change(&mut next)?;
        self.save(&next)?;
        *held = (next, modified(&self.path));
        Ok(done)
    }

    /// Files a request, within the filer's hourly rate and the open-request cap.
    pub fn file(
        &self,
        filer: Filer<'_>,
        app_id: &str,
        app_name: &str,
        reason: &str,
        per_hour: u32,
        max_open: usize,
    ) -> Result<Filed, RequestRefused> {
        self.take_rate(filer.user, per_hour)?;
        self.change(|book| {
            let id = state_files::new_public_id();
            Ok(book.file(
                id,
                filer.user,
                filer.device,
                app_id,
                app_name,
                reason,
                now_ms(),
                max_open,
            )?)
        })
    }

    /// Approves or denies an open request for `actor`.
    pub fn decide(
        &self,
        id: &str,
        approve: bool,
        actor: &str,
    ) -> Result<AccessRequest, RequestRefused> {
        self.change(|book| Ok(book.decide(id, approve, actor, now_ms())?))
    }

    fn save(&self, book: &AccessBook) -> Result<(), RequestRefused> {
        let text = book
            .to_json()
            .map_err(|e| RequestRefused::Store(e.to_string()))?;
        state_files::write_atomic(&self.path, text.as_bytes(), true)
            .map_err(|e| RequestRefused::Store(format!("{}: {e}", self.path.display())))
    }

    /// Counts one filing against `user`'s hour.
    fn take_rate(&self, user: &str, per_hour: u32) -> Result<(), RequestRefused> {
        let now = Instant::now();
        let mut rate = self.rate.lock().unwrap_or_else(PoisonError::into_inner);
        if !rate.contains_key(user) && rate.len() >= MAX_RATE_ENTRIES {
            rate.retain(|_, (start, _)| now.duration_since(*start) < RATE_WINDOW);
            if rate.len() >= MAX_RATE_ENTRIES {
                return Err(RequestRefused::Busy);
            }
        }
        let entry = rate.entry(user.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= RATE_WINDOW {
            *entry = (now, 0);
        }
        if entry.1 >= per_hour {
            return Err(RequestRefused::Rate(entry.1));
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filer(user: &str) -> Filer<'_> {
        Filer { user, device: "" }
    }

    #[test]
    fn requests_survive_a_restart_and_floods_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let store = AccessRequests::open(dir.path());
        let first = store
            .file(filer("alice"), "claude", "Claude", "need it", 3, 10)
            .unwrap();
        assert!(matches!(first, Filed::New(_)));
        store
            .file(filer("alice"), "claude", "Claude", "", 3, 10)
            .unwrap();
        store
            .file(filer("alice"), "claude", "Claude", "", 3, 10)
            .unwrap();
        assert!(matches!(
            store.file(filer("alice"), "claude", "Claude", "", 3, 10),
            Err(RequestRefused::Rate(3))
        ));
        assert_eq!(store.list().len(), 1, "repeats are one request");
        let id = first.request().id.clone();
        let decided = store.decide(&id, true, "token:sec").unwrap();
        assert_eq!(decided.decided_by, "token:sec");
        let reopened = AccessRequests::open(dir.path());
        assert_eq!(reopened.list(), store.list());
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(dir.path().join(FILE))
                .unwrap()
                .permissions(),
        );
        assert_eq!(mode & 0o077, 0, "the file names people: 0600");

        std::fs::write(dir.path().join(FILE), "{broken").unwrap();
        let fresh = AccessRequests::open(dir.path());
        assert!(fresh.list().is_empty());
        assert!(dir.path().join(format!("{FILE}.corrupt")).exists());
    }

    #[test]
    fn the_open_cap_refuses_new_requests() {
        let dir = tempfile::tempdir().unwrap();
        let store = AccessRequests::open(dir.path());
        for i in 0..3 {
            store
                .file(filer(&format!("u{i}")), "claude", "Claude", "", 5, 3)
                .unwrap();
        }
        assert!(matches!(
            store.file(filer("u9"), "claude", "Claude", "", 5, 3),
            Err(RequestRefused::Full(_))
        ));
    }
}
