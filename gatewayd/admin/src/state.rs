//! The admin plane's own state: the API tokens (re-read when `gatewayd admin token` changes
//! them), the dashboard's sessions and the log explorer's query slots. It lives here, not in
//! the proxy's shared state, so the data path holds nothing of the admin plane.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use report::explorer::ExplorerSlots;
use tokio_util::sync::CancellationToken;

use super::tokens::TokenStore;
use crate::dashboard::session::Sessions;
use crate::login_throttle::LoginThrottle;

/// What the admin listener keeps between requests.
pub struct AdminState {
    tokens: ArcSwap<TokenStore>,
    /// Dashboard logins.
    pub sessions: Sessions,
    /// Log explorer queries running now (`admin.query_concurrency`).
    pub explorer_slots: ExplorerSlots,
    /// Failed dashboard logins per address and token prefix.
    pub login_throttle: LoginThrottle,
}

impl AdminState {
    /// The admin state of the daemon whose state directory is `state_dir` (where the
    /// dashboard's sessions are kept across restarts).
    pub fn new(tokens: TokenStore, state_dir: &std::path::Path) -> Self {
        Self {
            tokens: ArcSwap::from_pointee(tokens),
            sessions: Sessions::persistent(state_dir),
            explorer_slots: ExplorerSlots::default(),
            login_throttle: LoginThrottle::default(),
        }
    }

    /// The admin tokens currently valid.
    pub fn tokens(&self) -> Arc<TokenStore> {
        self.tokens.load_full()
    }
}

/// Re-reads the admin tokens file (`<state>/admin-tokens.json`) once a second when it
/// changes, until shutdown. An unreadable file is logged and the loaded tokens stay.
pub async fn watch_tokens(admin: Arc<AdminState>, state_dir: PathBuf, shutdown: CancellationToken) {
    let stamp = |path: &std::path::Path| -> Option<SystemTime> {
        std::fs::metadata(path).and_then(|m| m.modified()).ok()
    };
    let tokens_path = state_dir.join("admin-tokens.json");
    let mut tokens_stamp = stamp(&tokens_path);
    loop {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            () = shutdown.cancelled() => return,
        }
        let current = stamp(&tokens_path);
        if current != tokens_stamp {
            match TokenStore::load(&state_dir) {
                Ok(tokens) => {
                    admin.tokens.store(Arc::new(tokens));
                    tokens_stamp = current;
                }
                Err(error) => {
                    tracing::error!(%error, "admin tokens unreadable; keeping the loaded ones")
                }
            }
        }
    }
}
