//! Shadow AI nobody listed: hosts outside the catalog whose traffic looks like an AI API or a
//! chat web app (paths, key formats, model names in bodies, streamed completions). Each
//! becomes a discovered app, unreviewed, kept in `<state>/discovered-apps.json` so it shows up
//! for triage and survives restarts. What someone decided about a host is `decisions.rs`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

pub use policies::discovery::DiscoveredApp;
use policies::discovery::{Discovery, Reason};

const FILE: &str = "discovered-apps.json";

/// Discovered apps by host, flushed to disk when changed.
pub struct DiscoveredApps {
    path: PathBuf,
    apps: Mutex<BTreeMap<String, DiscoveredApp>>,
    dirty: AtomicBool,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn evidence(reason: &Reason) -> String {
    match reason {
        Reason::ApiPath { api } => format!("api_path:{api}"),
        Reason::ProviderKey { provider } => format!("provider_key:{provider}"),
        Reason::CompletionStream { shape } => format!("completion_stream:{shape}"),
        Reason::WebBackend { shape } => format!("web_backend:{shape}"),
        Reason::ModelName { family } => format!("model_name:{family}"),
        Reason::ChatSocket => "chat_socket".to_string(),
    }
}

impl DiscoveredApps {
    /// Loads the list from the state directory; an unreadable file starts a fresh list (the
    /// list is a triage aid, not enforcement) and says so.
    pub fn open(state_dir: &Path) -> Self {
        let path = state_dir.join(FILE);
        let apps = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str::<Vec<DiscoveredApp>>(&text)
                .map(|list| list.into_iter().map(|a| (a.host.clone(), a)).collect())
                .unwrap_or_else(|e| {
                    tracing::error!(file = %path.display(), error = %e, "discovered apps unreadable; starting a new list");
                    BTreeMap::new()
                }),
            Err(_) => BTreeMap::new(),
        };
        Self {
            path,
            apps: Mutex::new(apps),
            dirty: AtomicBool::new(false),
        }
    }

    /// Records one request to `host` that discovery flagged.
    pub fn record(&self, host: &str, discovery: &Discovery) {
        self.note(host, discovery, 1);
    }

    /// Adds what a later look at the same request found (its body), without counting the
    /// request twice.
    pub fn add_evidence(&self, host: &str, discovery: &Discovery) {
        self.note(host, discovery, 0);
    }

    fn note(&self, host: &str, discovery: &Discovery, requests: u64) {
        let now = now_ms();
        let mut apps = self
            .apps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = apps.entry(host.to_string()).or_insert_with(|| {
            tracing::warn!(host, confidence = %discovery.confidence, "shadow AI discovered: AI API traffic to a host outside the catalog");
            DiscoveredApp {
                host: host.to_string(),
                first_seen_unix_ms: now,
                last_seen_unix_ms: now,
                requests: 0,
                evidence: Vec::new(),
                confidence: discovery.confidence.as_str().to_string(),
                status: policies::AppStatus::Unreviewed.as_str().into(),
            }
        });
        entry.requests += requests;
        entry.last_seen_unix_ms = now;
        for reason in &discovery.reasons {
            let e = evidence(reason);
            if !entry.evidence.contains(&e) {
                entry.evidence.push(e);
            }
        }
        let rank = |c: &str| {
            ["low", "medium", "high"]
                .iter()
                .position(|x| *x == c)
                .unwrap_or(0)
        };
        if rank(discovery.confidence.as_str()) > rank(&entry.confidence) {
            entry.confidence = discovery.confidence.as_str().to_string();
        }
        self.dirty.store(true, Relaxed);
    }

    /// Every discovered app, by host.
    pub fn list(&self) -> Vec<DiscoveredApp> {
        self.apps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }

    /// Writes the list when it changed since the last flush.
    pub fn flush(&self) {
        if !self.dirty.swap(false, Relaxed) {
            return;
        }
        let list = self.list();
        let write = || -> std::io::Result<()> {
            let text = serde_json::to_string_pretty(&list)?;
            state_files::write_atomic(&self.path, text.as_bytes(), true)
        };
        if let Err(error) = write() {
            self.dirty.store(true, Relaxed);
            tracing::error!(file = %self.path.display(), %error, "could not save discovered apps");
        }
    }
}
