//! Dashboard logins: a session id in an `HttpOnly; SameSite=Strict` cookie (`Secure` when the
//! dashboard is served over https), known to the gateway only by its SHA-256, each with its own
//! CSRF token that every state-changing form must carry. A session remembers the id of the
//! token it was opened with and is only honoured while that token is live (the dashboard checks
//! on every request), so revoking a token logs its sessions out.
//!
//! Sessions survive a restart: they are kept in `<state>/dashboard-sessions.json` (0600,
//! written atomically on every login and logout), which holds the ids' hashes, never the ids.
//! A file that cannot be read is logged and ignored — everyone logs in again, nobody gets in
//! without a token.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::tokens::Principal;
use state_files::{constant_time_eq, sha256_hex, write_atomic};

/// The cookie's name.
pub const COOKIE: &str = "warden_session";
/// The most live sessions; beyond it the oldest is logged out.
const MAX_SESSIONS: usize = 10_000;
/// The file, in the state directory.
pub const SESSIONS_FILE: &str = "dashboard-sessions.json";
/// A sessions file larger than this is not read (10,000 sessions take about 3 MB).
const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// A logged-in dashboard user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub principal: Principal,
    pub csrf: String,
    expires_unix_ms: u64,
    created_unix_ms: u64,
}

impl Session {
    /// How long ago the session was opened.
    pub fn age(&self) -> Duration {
        Duration::from_millis(now_ms().saturating_sub(self.created_unix_ms))
    }

    /// Whether `token` is this session's CSRF token.
    pub fn csrf_ok(&self, token: &str) -> bool {
        constant_time_eq(self.csrf.as_bytes(), token.as_bytes())
    }
}

/// Live sessions by the hash of their id.
#[derive(Debug, Default)]
pub struct Sessions {
    live: Mutex<HashMap<String, Session>>,
    /// Where they are kept across restarts (none: in memory only).
    file: Option<PathBuf>,
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Sessions {
    /// Sessions kept in `state_dir`: the live ones of the file there are loaded now.
    pub fn persistent(state_dir: &Path) -> Self {
        let file = state_dir.join(SESSIONS_FILE);
        let live = match read_file(&file) {
            Ok(mut live) => {
                let now = now_ms();
                live.retain(|key, s| s.expires_unix_ms > now && is_hash(key));
                if !live.is_empty() {
                    tracing::info!(sessions = live.len(), "dashboard sessions restored");
                }
                live
            }
            Err(error) => {
                tracing::warn!(file = %file.display(), %error, "dashboard sessions not restored; everyone logs in again");
                HashMap::new()
            }
        };
        Self {
            live: Mutex::new(live),
            file: Some(file),
        }
    }

    /// Starts a session for `principal`; returns the cookie value.
    pub fn start(&self, principal: Principal, ttl: Duration) -> String {
        let id = random_token();
        let now = now_ms();
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        let session = Session {
            principal,
            csrf: random_token(),
            expires_unix_ms: now.saturating_add(ttl_ms),
            created_unix_ms: now,
        };
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|_, s| s.expires_unix_ms > now);
        if live.len() >= MAX_SESSIONS {
            if let Some(oldest) = live
                .iter()
                .min_by_key(|(_, s)| s.created_unix_ms)
                .map(|(k, _)| k.clone())
            {
                live.remove(&oldest);
            }
        }
        live.insert(sha256_hex(&id), session);
        self.save(&live);
        id
    }

    /// The live session of a cookie value.
    pub fn get(&self, id: &str) -> Option<Session> {
        let key = sha256_hex(id);
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        match live.get(&key) {
            Some(s) if s.expires_unix_ms > now_ms() => Some(s.clone()),
            Some(_) => {
                live.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Ends a session.
    pub fn end(&self, id: &str) {
        let key = sha256_hex(id);
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        if live.remove(&key).is_some() {
            self.save(&live);
        }
    }

    /// Writes the sessions to the file, if any. A failure is logged: the sessions still work
    /// until the next restart.
    fn save(&self, live: &HashMap<String, Session>) {
        let Some(file) = &self.file else { return };
        let written = serde_json::to_vec(live)
            .map_err(std::io::Error::other)
            .and_then(|bytes| write_atomic(file, &bytes, true));
        if let Err(error) = written {
            tracing::warn!(file = %file.display(), %error, "dashboard sessions not saved; a restart will log everyone out");
        }
    }
}

/// The sessions of `file`: none when it does not exist, an error when it is unreadable,
/// too large or not what this module writes.
fn read_file(file: &Path) -> std::io::Result<HashMap<String, Session>> {
    use std::io::Read;
    let handle = match std::fs::File::open(file) {
        Ok(handle) => handle,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(e) => return Err(e),
    };
    let mut bytes = Vec::new();
    handle.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::other("larger than 8 MiB"));
    }
    serde_json::from_slice(&bytes).map_err(std::io::Error::other)
}

/// Whether `key` is what [`sha256_hex`] gives (a file edited to hold a raw id is ignored).
fn is_hash(key: &str) -> bool {
    key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The `Set-Cookie` value that stores `id` for `ttl`; `secure` when browsers reach the
/// dashboard over https (the cookie then never travels in clear).
pub fn set_cookie(id: &str, ttl: Duration, secure: bool) -> String {
    format!(
        "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        ttl.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The session id in a `Cookie` header.
pub fn cookie_value(header: &str) -> Option<&str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::Role;

    fn alice() -> Principal {
        Principal {
            name: "alice".into(),
            role: Role::Analyst,
            token_id: "t1".into(),
        }
    }

    #[test]
    fn a_session_lives_until_it_ends_or_expires() {
        let sessions = Sessions::default();
        let id = sessions.start(alice(), Duration::from_secs(60));
        let session = sessions.get(&id).unwrap();
        assert_eq!(session.principal.name, "alice");
        assert!(session.csrf_ok(&session.csrf.clone()));
        assert!(!session.csrf_ok("forged"));
        assert!(sessions.get("someone-else").is_none());
        sessions.end(&id);
        assert!(sessions.get(&id).is_none());
        let short = sessions.start(alice(), Duration::ZERO);
        assert!(sessions.get(&short).is_none());
    }

    #[test]
    fn sessions_survive_a_restart_by_hash_only() {
        let dir = tempfile::tempdir().unwrap();
        let id = {
            let sessions = Sessions::persistent(dir.path());
            let id = sessions.start(alice(), Duration::from_secs(60));
            let gone = sessions.start(alice(), Duration::from_secs(60));
            sessions.end(&gone);
            id
        };
        let file = std::fs::read_to_string(dir.path().join(SESSIONS_FILE)).unwrap();
        assert!(!file.contains(&id), "the file holds hashes, not ids");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(SESSIONS_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "private: {mode:o}");
        let restarted = Sessions::persistent(dir.path());
        assert_eq!(restarted.get(&id).unwrap().principal.name, "alice");
        assert_eq!(restarted.live.lock().unwrap().len(), 1);
    }

    #[test]
    fn a_bad_sessions_file_logs_everyone_out() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(SESSIONS_FILE), b"{not json").unwrap();
        let sessions = Sessions::persistent(dir.path());
        assert!(sessions.live.lock().unwrap().is_empty());
        // A raw id planted as a key is not a session.
        std::fs::write(
            dir.path().join(SESSIONS_FILE),
            br#"{"raw-id":{"principal":{"name":"x","role":"admin","token_id":"t"},"csrf":"c","expires_unix_ms":99999999999999,"created_unix_ms":0}}"#,
        )
        .unwrap();
        assert!(Sessions::persistent(dir.path()).get("raw-id").is_none());
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        assert_eq!(cookie_value("a=b; warden_session=xyz; c=d"), Some("xyz"));
        assert_eq!(cookie_value("warden_session="), None);
        assert!(
            set_cookie("x", Duration::from_secs(5), false).contains("HttpOnly; SameSite=Strict")
        );
        assert!(!set_cookie("x", Duration::from_secs(5), false).contains("Secure"));
        assert!(set_cookie("x", Duration::from_secs(5), true).ends_with("; Secure"));
    }
}
