//! Dashboard logins: a session id in an `HttpOnly; SameSite=Strict` cookie (`Secure` when the
//! dashboard is served over https), kept in memory (a restart logs everyone out) by its
//! SHA-256, each with its own CSRF token that every state-changing form must carry. A session
//! remembers the id of the token it was opened with and is only honoured while that token is
//! live (the dashboard checks on every request), so revoking a token logs its sessions out.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use rand::RngCore;

use crate::tokens::Principal;
use state_files::{constant_time_eq, sha256_hex};

/// The cookie's name.
pub const COOKIE: &str = "warden_session";
/// The most live sessions; beyond it the oldest is logged out.
const MAX_SESSIONS: usize = 10_000;

/// A logged-in dashboard user.
#[derive(Debug, Clone)]
pub struct Session {
    pub principal: Principal,
    pub csrf: String,
    expires: Instant,
    created: Instant,
}

impl Session {
    /// Whether `token` is this session's CSRF token.
    pub fn csrf_ok(&self, token: &str) -> bool {
        constant_time_eq(self.csrf.as_bytes(), token.as_bytes())
    }
}

/// Live sessions by the hash of their id.
#[derive(Debug, Default)]
pub struct Sessions {
    live: Mutex<HashMap<String, Session>>,
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl Sessions {
    /// Starts a session for `principal`; returns the cookie value.
    pub fn start(&self, principal: Principal, ttl: Duration) -> String {
        let id = random_token();
        let now = Instant::now();
        let session = Session {
            principal,
            csrf: random_token(),
            expires: now + ttl,
            created: now,
        };
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|_, s| s.expires > now);
        if live.len() >= MAX_SESSIONS {
            if let Some(oldest) = live
                .iter()
                .min_by_key(|(_, s)| s.created)
                .map(|(k, _)| k.clone())
            {
                live.remove(&oldest);
            }
        }
        live.insert(sha256_hex(&id), session);
        id
    }

    /// The live session of a cookie value.
    pub fn get(&self, id: &str) -> Option<Session> {
        let key = sha256_hex(id);
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        match live.get(&key) {
            Some(s) if s.expires > Instant::now() => Some(s.clone()),
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
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key);
    }
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
