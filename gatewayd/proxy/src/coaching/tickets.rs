//! Form tickets: the one-time value a coaching or block page carries in its "Continue" and
//! "Request access" forms. A ticket is 32 random bytes kept server-side with what it is for
//! (holder, app, host, rule, where to go back to); the form posts only the ticket, so nothing
//! a client sends can choose the app, the rule or the redirect.
//!
//! What it must never do: accept a ticket for another person or host, accept one twice or
//! after its time, or hold more than the configured number.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::Holder;

/// Open tickets one holder may have; the oldest of theirs goes first.
const PER_HOLDER: usize = 16;

/// What a page's form may do with its ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub holder: Holder,
    pub app_id: String,
    pub app_name: String,
    /// The host the page was shown on: the ticket is good only there.
    pub host: String,
    /// The rule whose page it was.
    pub rule: String,
    /// A `warn` page (Continue allowed) rather than a block page (Request access only).
    pub can_continue: bool,
    /// Path (and query) to go back to after Continue: the request that was warned.
    pub return_to: String,
    expires: Instant,
}

/// Why a posted ticket was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketRefused {
    /// Never issued, already used, or dropped (expired and cleared, or crowded out).
    Unknown,
    Expired,
    /// Issued to someone else (nothing is consumed).
    OtherHolder,
    /// Issued on another host (nothing is consumed).
    OtherHost,
    /// A block page's ticket posted to Continue.
    NotContinuable,
}

impl TicketRefused {
    pub fn explain(self) -> &'static str {
        match self {
            Self::Unknown => {
                "This form has already been used or is not valid. Reload the page and try again."
            }
            Self::Expired => "This form has expired. Reload the page and try again.",
            Self::OtherHolder => "This form was issued to someone else.",
            Self::OtherHost => "This form belongs to another site.",
            Self::NotContinuable => {
                "This app cannot be continued to; you can request access instead."
            }
        }
    }

    /// The check name the refusal, its header and the event carry.
    pub fn rule(self) -> &'static str {
        match self {
            Self::Unknown => "coaching.ticket_unknown",
            Self::Expired => "coaching.ticket_expired",
            Self::OtherHolder => "coaching.ticket_other_user",
            Self::OtherHost => "coaching.ticket_other_host",
            Self::NotContinuable => "coaching.not_continuable",
        }
    }
}

#[derive(Default)]
struct Table {
    by_value: HashMap<String, Ticket>,
    /// Issue order, for crowding out the oldest (values already used are skipped).
    order: VecDeque<String>,
    per_holder: HashMap<Holder, VecDeque<String>>,
}

impl Table {
    fn remove(&mut self, value: &str) -> Option<Ticket> {
        let ticket = self.by_value.remove(value)?;
        if let Some(list) = self.per_holder.get_mut(&ticket.holder) {
            list.retain(|v| v != value);
            if list.is_empty() {
                self.per_holder.remove(&ticket.holder);
            }
        }
        Some(ticket)
    }
}

/// The open tickets.
#[derive(Default)]
pub struct Tickets {
    table: Mutex<Table>,
}

/// What a new ticket is for (the fields of [`Ticket`] a caller chooses).
pub struct TicketFor {
    pub holder: Holder,
    pub app_id: String,
    pub app_name: String,
    pub host: String,
    pub rule: String,
    pub can_continue: bool,
    pub return_to: String,
}

impl Tickets {
    /// Issues a ticket valid for `ttl`, within `max` open tickets in all.
    pub fn issue(&self, what: TicketFor, ttl: Duration, max: usize) -> String {
        let value = state_files::new_secret("wt_");
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        let holder_list = table.per_holder.entry(what.holder.clone()).or_default();
        let oldest_own = (holder_list.len() >= PER_HOLDER)
            .then(|| holder_list.front().cloned())
            .flatten();
        if let Some(oldest) = oldest_own {
            table.remove(&oldest);
        }
        while table.by_value.len() >= max.max(1) {
            let Some(oldest) = table.order.pop_front() else {
                break;
            };
            table.remove(&oldest);
        }
        // Values used or crowded out stay in `order` until they reach its front; keep it
        // from growing past a small multiple of the table.
        if table.order.len() > 2 * max.max(1) {
            let live = std::mem::take(&mut table.order);
            table.order = live
                .into_iter()
                .filter(|v| table.by_value.contains_key(v))
                .collect();
        }
        table.order.push_back(value.clone());
        table
            .per_holder
            .entry(what.holder.clone())
            .or_default()
            .push_back(value.clone());
        table.by_value.insert(
            value.clone(),
            Ticket {
                holder: what.holder,
                app_id: what.app_id,
                app_name: what.app_name,
                host: what.host,
                rule: what.rule,
                can_continue: what.can_continue,
                return_to: what.return_to,
                expires: Instant::now() + ttl,
            },
        );
        value
    }

    /// Uses a ticket: it must exist, be live, belong to `holder` and to `host`. Only a
    /// ticket that passes every check is consumed, so a stranger cannot burn someone's form.
    pub fn redeem(
        &self,
        value: &str,
        holder: &Holder,
        host: &str,
    ) -> Result<Ticket, TicketRefused> {
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        let ticket = table.by_value.get(value).ok_or(TicketRefused::Unknown)?;
        if ticket.expires <= Instant::now() {
            table.remove(value);
            return Err(TicketRefused::Expired);
        }
        if ticket.holder != *holder {
            return Err(TicketRefused::OtherHolder);
        }
        if !ticket.host.eq_ignore_ascii_case(host) {
            return Err(TicketRefused::OtherHost);
        }
        table.remove(value).ok_or(TicketRefused::Unknown)
    }

    /// Open tickets (for tests and metrics).
    pub fn len(&self) -> usize {
        self.table
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .by_value
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(user: &str) -> Holder {
        Holder {
            user: user.into(),
            device: String::new(),
            address: None,
        }
    }

    fn issue(t: &Tickets, user: &str, ttl: Duration, max: usize) -> String {
        t.issue(
            TicketFor {
                holder: holder(user),
                app_id: "claude".into(),
                app_name: "Claude".into(),
                host: "claude.ai".into(),
                rule: "warn".into(),
                can_continue: true,
                return_to: "/".into(),
            },
            ttl,
            max,
        )
    }

    #[test]
    fn a_ticket_is_used_once_by_its_holder_on_its_host() {
        let t = Tickets::default();
        let value = issue(&t, "alice", Duration::from_secs(60), 100);
        assert!(value.len() > 40, "unguessable: {value}");
        assert_eq!(
            t.redeem(&value, &holder("bob"), "claude.ai"),
            Err(TicketRefused::OtherHolder)
        );
        assert_eq!(
            t.redeem(&value, &holder("alice"), "evil.test"),
            Err(TicketRefused::OtherHost)
        );
        assert!(t.redeem(&value, &holder("alice"), "CLAUDE.ai").is_ok());
        assert_eq!(
            t.redeem(&value, &holder("alice"), "claude.ai"),
            Err(TicketRefused::Unknown)
        );
        assert_eq!(
            t.redeem("wt_forged", &holder("alice"), "claude.ai"),
            Err(TicketRefused::Unknown)
        );
        let short = issue(&t, "alice", Duration::from_millis(1), 100);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(
            t.redeem(&short, &holder("alice"), "claude.ai"),
            Err(TicketRefused::Expired)
        );
    }

    #[test]
    fn tickets_stay_bounded_per_holder_and_in_all() {
        let t = Tickets::default();
        let first = issue(&t, "alice", Duration::from_secs(60), 1000);
        for _ in 0..100 {
            issue(&t, "alice", Duration::from_secs(60), 1000);
        }
        assert_eq!(t.len(), PER_HOLDER);
        assert_eq!(
            t.redeem(&first, &holder("alice"), "claude.ai"),
            Err(TicketRefused::Unknown)
        );
        for i in 0..200 {
            issue(&t, &format!("user{i}"), Duration::from_secs(60), 50);
        }
        assert!(t.len() <= 50, "{}", t.len());
    }
}
