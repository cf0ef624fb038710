//! The log phase: one structured line per call (`target: "aigw::call"`), written exactly
//! once, when the answer's body ended or was dropped (a caller that hangs up mid-stream is
//! logged with status 499 and the tokens the provider had reported by then).
//!
//! Never: log a key (virtual or provider), a prompt or an answer.

use std::net::SocketAddr;
use std::time::Instant;

use crate::dialect::{Dialect, Usage};
use crate::vkeys::Caller;

/// Everything the log line says about a call, filled in phase by phase.
#[derive(Debug)]
pub struct CallRecord {
    pub request_id: String,
    pub started: Instant,
    pub peer: SocketAddr,
    pub ingress: Dialect,
    pub endpoint: &'static str,
    pub caller: Option<Caller>,
    pub provider: Option<String>,
    pub model_asked: Option<String>,
    pub model_served: Option<String>,
    pub stream: bool,
    pub status: u16,
    pub error: Option<String>,
    pub usage: Usage,
    pub first_token: Option<Instant>,
    /// DLP findings in the prompt (detector ids) and what was done.
    pub dlp: Vec<String>,
    pub dlp_action: Option<&'static str>,
}

impl CallRecord {
    pub fn new(peer: SocketAddr, ingress: Dialect, endpoint: &'static str) -> Self {
        Self {
            request_id: uuid::Uuid::now_v7().to_string(),
            started: Instant::now(),
            peer,
            ingress,
            endpoint,
            caller: None,
            provider: None,
            model_asked: None,
            model_served: None,
            stream: false,
            status: 200,
            error: None,
            usage: Usage::default(),
            first_token: None,
            dlp: Vec::new(),
            dlp_action: None,
        }
    }
}

/// Writes the record's line when dropped: the one way a call is logged.
#[derive(Debug)]
pub struct CallLog(pub CallRecord);

impl Drop for CallLog {
    fn drop(&mut self) {
        let r = &self.0;
        let ms = |at: Instant| {
            u64::try_from(at.duration_since(r.started).as_millis()).unwrap_or(u64::MAX)
        };
        let caller = r.caller.as_ref();
        tracing::info!(
            target: "aigw::call",
            request_id = %r.request_id,
            peer = %r.peer,
            endpoint = r.endpoint,
            ingress = r.ingress.as_str(),
            user = caller.map_or("", |c| c.user.as_str()),
            team = caller.and_then(|c| c.team.as_deref()).unwrap_or(""),
            virtual_key_id = caller.map_or("", |c| c.key_id.as_str()),
            provider = r.provider.as_deref().unwrap_or(""),
            model_asked = r.model_asked.as_deref().unwrap_or(""),
            model_served = r.model_served.as_deref().unwrap_or(""),
            status = r.status,
            error = r.error.as_deref().unwrap_or(""),
            stream = r.stream,
            input_tokens = r.usage.input,
            output_tokens = r.usage.output,
            cached_tokens = r.usage.cached,
            cache_write_tokens = r.usage.cache_write,
            usage_reported = r.usage.reported,
            latency_ms = ms(Instant::now()),
            ttft_ms = r.first_token.map(ms),
            dlp_findings = %r.dlp.join(","),
            dlp_action = r.dlp_action.unwrap_or(""),
            "ai call"
        );
    }
}
