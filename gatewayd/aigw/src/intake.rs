//! What a request body must pass before the gateway spends memory on it: a JSON content type
//! (a `text/plain` or form body is what a cross-site page can send without a CORS preflight,
//! so it is refused with 415 however JSON-like it is), and the gateway-wide budget of memory
//! that bodies being read and parsed may hold at once (`aigw.max_body_memory`).
//!
//! A body takes budget before a byte is read: the most its declared length can take once
//! parsed (its bytes twice, and a JSON value for every two bytes: a value costs tens of bytes
//! in memory however few it takes on the wire, so `[{},{},...]` grows about tenfold). Read, the
//! hold shrinks to what its bytes and tree take ([`tree_cost`]); a tree that alone would pass
//! the whole budget is refused (400). The hold is released once the call is serialised for
//! the provider (or refused). A body that cannot get budget within `WAIT` is refused with 503
//! in the caller's dialect, after what it sends within 2 s is read into the void
//! ([`discard`]), so that the client sees the answer. Holds are taken whole, never in
//! parts, so bodies waiting for budget hold none.
//!
//! Never: read a body before its budget is held, or wait for budget without bound.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::call_log::CallRecord;
use crate::error::CallError;
use crate::AiGateway;

/// Budget is counted in KiB, so that `u32` acquisitions cover any body.
const UNIT: usize = 1024;
/// How long a body waits for budget before it is refused.
const WAIT: Duration = Duration::from_secs(2);
/// Memory one parsed JSON value takes beyond its text (the value, its slot in an array or
/// map, the growth slack of both), measured on serde_json's tree and rounded up.
const PER_VALUE: usize = 48;
/// How long a refused body may take to be read into the void (a client on a LAN sends the
/// largest body allowed well within it).
const DRAIN: Duration = Duration::from_secs(2);

/// The gateway-wide budget of memory held by request bodies being read and parsed.
#[derive(Clone)]
pub struct BodyBudget {
    units: Arc<Semaphore>,
    max: usize,
    /// Each caller's share of it ([`crate::body_share`]).
    shares: Arc<crate::body_share::Shares>,
}

/// Budget one body holds; released on drop.
#[derive(Default)]
pub struct BodyHold {
    permit: Option<OwnedSemaphorePermit>,
    share: Option<crate::body_share::ShareHold>,
}

impl std::fmt::Debug for BodyHold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BodyHold({} KiB)", self.units())
    }
}

impl BodyHold {
    fn units(&self) -> usize {
        self.permit
            .as_ref()
            .map_or(0, OwnedSemaphorePermit::num_permits)
    }
}

/// The most a body of `n` bytes can take while read and parsed: its bytes twice (gathered,
/// then joined) and a value for every two bytes (`0,0,0...`).
fn worst_case(n: usize) -> usize {
    n.saturating_mul(2)
        .saturating_add((n / 2 + 1).saturating_mul(PER_VALUE))
}

fn overloaded() -> CallError {
    CallError::Overloaded(
        "Warden: the AI gateway is reading too many large request bodies at once \
         (aigw.max_body_memory); try again shortly"
            .into(),
    )
}

impl BodyBudget {
    pub fn new(max_bytes: usize) -> Self {
        let units = max_bytes.div_ceil(UNIT).clamp(1, Semaphore::MAX_PERMITS);
        Self {
            units: Arc::new(Semaphore::new(units)),
            max: units,
            shares: Arc::new(crate::body_share::Shares::new(units)),
        }
    }

    /// [`Self::take`] for `owner` (a key or a user), within its share of the budget.
    pub async fn take_for(&self, owner: &str, bytes: usize) -> Result<BodyHold, CallError> {
        let units = bytes.div_ceil(UNIT).clamp(1, self.max);
        let share = self.shares.claim(owner, units)?;
        let mut hold = self.take(bytes).await?;
        hold.share = Some(share);
        Ok(hold)
    }

    /// A hold of `bytes` (at most the whole budget), waiting at most `WAIT`; a 503 when the
    /// budget stays in use. Taken whole, never in parts, so waiting bodies hold nothing.
    pub async fn take(&self, bytes: usize) -> Result<BodyHold, CallError> {
        let units = bytes.div_ceil(UNIT).clamp(1, self.max);
        let units = u32::try_from(units).unwrap_or(u32::MAX);
        let acquired = tokio::time::timeout(WAIT, self.units.clone().acquire_many_owned(units));
        match acquired.await {
            Ok(Ok(permit)) => Ok(BodyHold {
                permit: Some(permit),
                share: None,
            }),
            _ => Err(overloaded()),
        }
    }

    /// Resizes `hold` to `bytes` once they are known: gives back what is over, or takes
    /// what is missing without waiting (a body larger than its declared length). A body
    /// whose tree alone would need more than the whole budget is refused (413).
    pub fn resize(&self, hold: &mut BodyHold, bytes: usize) -> Result<(), CallError> {
        let units = bytes.div_ceil(UNIT).max(1);
        if units > self.max {
            return Err(CallError::bad_request(
                "body",
                format!(
                    "the request body would take about {} MB of memory once parsed (it holds \
                     very many small JSON values), more than the gateway allows \
                     (aigw.max_body_memory)",
                    bytes / 1_000_000
                ),
            ));
        }
        let held = hold.units();
        if let Some(permit) = hold.permit.as_mut().filter(|_| units < held) {
            drop(permit.split(held - units));
        } else if units > held {
            let more = u32::try_from(units - held).unwrap_or(u32::MAX);
            let extra = self
                .units
                .clone()
                .try_acquire_many_owned(more)
                .map_err(|_| overloaded())?;
            match hold.permit.as_mut() {
                Some(permit) => permit.merge(extra),
                None => hold.permit = Some(extra),
            }
        }
        Ok(())
    }
}

/// Before a body is read: its content type, the caller's early limits
/// (`crate::budget::Governor::admit_early`), and budget for the most its declared length
/// can take once parsed (`max_body_bytes` when it declares none).
pub async fn admit(
    gw: &AiGateway,
    headers: &HeaderMap,
    record: &mut CallRecord,
) -> Result<(), CallError> {
    require_json(headers)?;
    if let (Some(governor), Some(caller), None) = (&gw.budgets, &record.caller, &record.admission) {
        record.admission = governor.admit_early(caller)?;
    }
    let limit = gw.options.max_body_bytes;
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok())
        .map_or(limit, |n| n.min(limit));
    // Each key (or identity-path user) within its share, so one caller cannot hold it all.
    let owner = record.caller.as_ref().map_or_else(
        || "anonymous".to_string(),
        |c| {
            if c.key_id.is_empty() {
                format!("user:{}", c.user)
            } else {
                format!("key:{}", c.key_id)
            }
        },
    );
    record.body_hold = gw
        .body_budget
        .take_for(&owner, worst_case(declared))
        .await?;
    Ok(())
}

/// Once the body is read, before it is parsed: the hold becomes what its bytes and their
/// tree take ([`tree_cost`]).
pub fn parsing(gw: &AiGateway, bytes: &[u8], record: &mut CallRecord) -> Result<(), CallError> {
    let needed = bytes.len().saturating_add(tree_cost(bytes));
    gw.body_budget.resize(&mut record.body_hold, needed)
}

/// 415 unless the body says it is JSON (`application/json`, any parameters).
pub fn require_json(headers: &HeaderMap) -> Result<(), CallError> {
    let kind = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    match kind.as_deref() {
        Some("application/json") => Ok(()),
        other => Err(CallError::UnsupportedMediaType(format!(
            "the request body must be sent with Content-Type: application/json (got {}); \
             other types are refused because a web page of any site could send them",
            other.map_or_else(|| "none".to_string(), |t| format!("{t:?}"))
        ))),
    }
}

/// An upper estimate of the memory `bytes` of JSON take once parsed into a tree: the text,
/// plus `PER_VALUE` for each value (counted by the separators and openers outside strings).
pub fn tree_cost(bytes: &[u8]) -> usize {
    let (mut values, mut in_string, mut escaped) = (1usize, false, false);
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b',' | b'[' | b'{' | b':' => values += 1,
            _ => {}
        }
    }
    bytes.len().saturating_add(values.saturating_mul(PER_VALUE))
}

/// Reads and drops what is left of a refused body (for at most `DRAIN`, one frame at a time)
/// before the refusal is answered, so that a client still sending sees the answer instead
/// of a reset connection; one that sends nothing waits `DRAIN` at most.
pub async fn discard(mut body: Incoming) {
    let _ = tokio::time::timeout(DRAIN, async {
        while let Some(frame) = body.frame().await {
            if frame.is_err() {
                break;
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wide_body_costs_far_more_than_its_text_and_strings_do_not_count() {
        let wide = format!("{{\"x\":[{}]}}", vec!["{}"; 1000].join(","));
        assert!(tree_cost(wide.as_bytes()) > 1000 * PER_VALUE);
        let text = format!("{{\"x\":\"{}\"}}", ",[{:".repeat(1000));
        assert!(tree_cost(text.as_bytes()) < text.len() + 4 * PER_VALUE);
        let escaped = r#"{"x":"a\",[[[","y":1}"#;
        assert_eq!(tree_cost(escaped.as_bytes()), escaped.len() + 5 * PER_VALUE);
    }

    #[test]
    fn only_json_bodies_pass() {
        let mut h = HeaderMap::new();
        assert!(require_json(&h).is_err());
        for (t, ok) in [
            ("application/json", true),
            ("Application/JSON; charset=utf-8", true),
            ("text/plain;charset=UTF-8", false),
            ("application/x-www-form-urlencoded", false),
            ("multipart/form-data; boundary=x", false),
        ] {
            h.insert(http::header::CONTENT_TYPE, t.parse().unwrap());
            assert_eq!(require_json(&h).is_ok(), ok, "{t}");
        }
        let e = require_json(&HeaderMap::new()).unwrap_err();
        assert_eq!(e.status(), 415);
    }

    #[tokio::test]
    async fn the_budget_refuses_past_its_size_shrinks_to_the_real_cost_and_frees_on_drop() {
        let budget = BodyBudget::new(10 * UNIT);
        let mut a = budget.take(8 * UNIT).await.unwrap();
        assert_eq!(budget.take(4 * UNIT).await.unwrap_err().status(), 503);
        budget.resize(&mut a, 5 * UNIT).unwrap();
        let mut b = budget.take(4 * UNIT).await.unwrap();
        // Growing without waiting: only what is free.
        assert_eq!(budget.resize(&mut b, 6 * UNIT).unwrap_err().status(), 503);
        budget.resize(&mut b, 5 * UNIT).unwrap();
        // More than the whole budget: never.
        assert_eq!(budget.resize(&mut b, 11 * UNIT).unwrap_err().status(), 400);
        drop(a);
        drop(b);
        budget.take(10 * UNIT).await.unwrap();
    }
}
