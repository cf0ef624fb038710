//! `[[aigw.budgets]]` and `[[aigw.limits]]`: what the AI gateway lets a scope — a virtual
//! key, a user, a team, a tag, a provider, a model, or everyone — spend, and how fast.
//! Budgets are in US dollars or tokens over a calendar window (UTC day or month) or a rolling
//! one (`"24h"`, `"7d"`); limits are requests and tokens per minute or hour, and calls at
//! once. Checked here so that a budget that cannot hold (no amount, two amounts, a window that
//! is not one) never loads.
//!
//! What this module must never do: accept a budget or limit that would silently not apply
//! (an unknown scope, a zero amount, a `match` on the `all` scope).

use serde::Deserialize;

/// The largest budget accepted, in US dollars: far above any real one, low enough that its
/// microdollars and every sum of them fit in 64 bits.
pub const MAX_BUDGET_USD: f64 = 1e9;
/// The longest rolling window: a year.
pub const MAX_ROLLING_SECS: u64 = 366 * 86_400;

/// Who a budget or limit is counted for.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum AigwScope {
    /// Every call through the gateway, together.
    All,
    /// A virtual key (`match` = its name or id).
    Key,
    /// The user a virtual key stands for.
    User,
    /// The team a virtual key belongs to.
    Team,
    /// A tag a virtual key carries (a call counts once for each of its tags).
    Tag,
    /// A configured provider (`[[aigw.providers]]` name).
    Provider,
    /// A model: the name asked for, or the provider's name for it.
    Model,
}

impl AigwScope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Key => "key",
            Self::User => "user",
            Self::Team => "team",
            Self::Tag => "tag",
            Self::Provider => "provider",
            Self::Model => "model",
        }
    }
}

/// A spending budget: `usd` or `tokens` (one of them) per `window` for one scope.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AigwBudget {
    /// Its name in refusals, logs, metrics and `gatewayd aigw budgets` (a-z 0-9 . _ -).
    pub name: String,
    pub scope: AigwScope,
    /// The one scope value it applies to (a team's name ...); left out: each value of the
    /// scope has a budget of its own (every user $10 a day).
    #[serde(rename = "match")]
    pub matches: Option<String>,
    /// The budget in US dollars (priced by the price table).
    pub usd: Option<f64>,
    /// The budget in tokens (input and output together, as the providers report them).
    pub tokens: Option<u64>,
    /// `"day"` or `"month"` (calendar, UTC), or a rolling duration such as `"24h"` or `"30d"`.
    pub window: String,
    /// Percentages of the budget at which a warning is logged and counted, once per window.
    #[serde(default = "default_alerts")]
    pub alerts: Vec<u8>,
    /// What it does while the shared Redis is unreachable; unset: `[aigw.shared]`'s.
    pub on_redis_down: Option<crate::OnRedisDown>,
}

fn default_alerts() -> Vec<u8> {
    vec![50, 80, 100]
}

/// A rate limit for one scope: any of requests and tokens per minute or hour, and calls at
/// once.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AigwLimit {
    pub name: String,
    pub scope: AigwScope,
    /// As for budgets: one scope value, or (left out) each value separately.
    #[serde(rename = "match")]
    pub matches: Option<String>,
    pub requests_per_minute: Option<u64>,
    pub requests_per_hour: Option<u64>,
    pub tokens_per_minute: Option<u64>,
    pub tokens_per_hour: Option<u64>,
    /// Calls in flight at once (a stream counts until it ends).
    pub concurrent: Option<u64>,
    /// What it does while the shared Redis is unreachable; unset: `[aigw.shared]`'s.
    pub on_redis_down: Option<crate::OnRedisDown>,
}

impl AigwLimit {
    /// Every limit it sets, by key.
    pub fn fields(&self) -> [(&'static str, Option<u64>); 5] {
        [
            ("requests_per_minute", self.requests_per_minute),
            ("requests_per_hour", self.requests_per_hour),
            ("tokens_per_minute", self.tokens_per_minute),
            ("tokens_per_hour", self.tokens_per_hour),
            ("concurrent", self.concurrent),
        ]
    }
}

/// A budget's window, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetWindow {
    /// The UTC calendar day.
    Day,
    /// The UTC calendar month.
    Month,
    /// The last N seconds.
    Rolling(u64),
}

impl BudgetWindow {
    /// Parses `"day"`, `"month"` or a duration of at least a minute and at most a year.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "day" => Ok(Self::Day),
            "month" => Ok(Self::Month),
            other => {
                let d = crate::ConfigDuration::parse(other).map_err(|e| {
                    format!("window {other:?} is not \"day\", \"month\" or a duration: {e}")
                })?;
                let secs = d.0.as_secs();
                if !(60..=MAX_ROLLING_SECS).contains(&secs) || d.0.subsec_nanos() != 0 {
                    return Err(format!(
                        "a rolling window must be whole seconds from 1m to 366d, not {other:?}"
                    ));
                }
                Ok(Self::Rolling(secs))
            }
        }
    }
}

fn check_scope(
    what: &str,
    name: &str,
    scope: AigwScope,
    matches: Option<&String>,
) -> Result<(), (&'static str, String)> {
    let plain = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if !plain {
        return Err((
            "name",
            format!("aigw.{what} name {name:?} must be 1-64 of a-z 0-9 . _ -"),
        ));
    }
    match (scope, matches) {
        (AigwScope::All, Some(_)) => Err((
            "match",
            format!("aigw.{what} {name:?}: scope \"all\" takes no match (it counts every call)"),
        )),
        (_, Some(m)) if m.is_empty() || m.len() > 200 || m.chars().any(char::is_control) => Err((
            "match",
            format!("aigw.{what} {name:?}: match must be 1-200 printable characters"),
        )),
        _ => Ok(()),
    }
}

/// Checks `[[aigw.budgets]]`: the entry's index, the key and the message.
pub(crate) fn validate_budgets(
    budgets: &[AigwBudget],
) -> Result<(), (usize, &'static str, String)> {
    let mut names = std::collections::BTreeSet::new();
    for (i, b) in budgets.iter().enumerate() {
        let at = |(key, message)| (i, key, message);
        check_scope("budgets", &b.name, b.scope, b.matches.as_ref()).map_err(at)?;
        if !names.insert(b.name.as_str()) {
            return Err((
                i,
                "name",
                format!("aigw.budgets name {:?} is used twice", b.name),
            ));
        }
        match (b.usd, b.tokens) {
            (Some(usd), None) => {
                if !usd.is_finite() || usd <= 0.0 || usd > MAX_BUDGET_USD {
                    return Err((
                        i,
                        "usd",
                        format!(
                            "aigw.budgets {:?}: usd = {usd} must be a number of US dollars above 0 and at most {MAX_BUDGET_USD}",
                            b.name
                        ),
                    ));
                }
            }
            (None, Some(0)) => {
                return Err((
                    i,
                    "tokens",
                    format!("aigw.budgets {:?}: tokens must be at least 1", b.name),
                ))
            }
            (None, Some(_)) => {}
            _ => {
                return Err((
                    i,
                    "usd",
                    format!(
                        "aigw.budgets {:?}: set exactly one of usd or tokens",
                        b.name
                    ),
                ))
            }
        }
        BudgetWindow::parse(&b.window)
            .map_err(|e| (i, "window", format!("aigw.budgets {:?}: {e}", b.name)))?;
        let ascending = b.alerts.windows(2).all(|w| w[0] < w[1]);
        if !ascending || b.alerts.iter().any(|&a| a == 0 || a > 100) {
            return Err((
                i,
                "alerts",
                format!(
                    "aigw.budgets {:?}: alerts must be ascending percentages from 1 to 100",
                    b.name
                ),
            ));
        }
    }
    Ok(())
}

/// Checks `[[aigw.limits]]`: the entry's index, the key and the message.
pub(crate) fn validate_limits(limits: &[AigwLimit]) -> Result<(), (usize, &'static str, String)> {
    let mut names = std::collections::BTreeSet::new();
    for (i, l) in limits.iter().enumerate() {
        check_scope("limits", &l.name, l.scope, l.matches.as_ref())
            .map_err(|(key, message)| (i, key, message))?;
        if !names.insert(l.name.as_str()) {
            return Err((
                i,
                "name",
                format!("aigw.limits name {:?} is used twice", l.name),
            ));
        }
        let fields = l.fields();
        if let Some((key, _)) = fields.iter().find(|(_, v)| *v == Some(0)) {
            return Err((
                i,
                key,
                format!("aigw.limits {:?}: {key} must be at least 1", l.name),
            ));
        }
        if fields.iter().all(|(_, v)| v.is_none()) {
            return Err((
                i,
                "name",
                format!(
                    "aigw.limits {:?} limits nothing: set requests_per_minute, requests_per_hour, \
                     tokens_per_minute, tokens_per_hour or concurrent",
                    l.name
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(text: &str) -> Result<(), String> {
        let b: Vec<AigwBudget> = toml::from_str::<
            std::collections::BTreeMap<String, Vec<AigwBudget>>,
        >(&format!("[[b]]\n{text}"))
        .map_err(|e| e.to_string())?
        .remove("b")
        .unwrap_or_default();
        validate_budgets(&b).map_err(|(_, _, m)| m)
    }

    #[test]
    fn budgets_that_cannot_hold_never_load() {
        let ok = "name = \"t\"\nscope = \"team\"\nmatch = \"marketing\"\nusd = 2000.0\nwindow = \"month\"";
        assert_eq!(budget(ok), Ok(()));
        assert!(budget("name = \"t\"\nscope = \"user\"\ntokens = 5\nwindow = \"7d\"").is_ok());
        for (bad, says) in [
            (
                "name = \"t\"\nscope = \"team\"\nwindow = \"day\"",
                "exactly one",
            ),
            (
                "name = \"t\"\nscope = \"team\"\nusd = 1.0\ntokens = 3\nwindow = \"day\"",
                "exactly one",
            ),
            (
                "name = \"t\"\nscope = \"team\"\nusd = -1.0\nwindow = \"day\"",
                "above 0",
            ),
            (
                "name = \"t\"\nscope = \"team\"\nusd = 1.0\nwindow = \"week\"",
                "not \"day\"",
            ),
            (
                "name = \"t\"\nscope = \"team\"\nusd = 1.0\nwindow = \"10s\"",
                "from 1m",
            ),
            (
                "name = \"t\"\nscope = \"all\"\nmatch = \"x\"\nusd = 1.0\nwindow = \"day\"",
                "no match",
            ),
            (
                "name = \"T\"\nscope = \"team\"\nusd = 1.0\nwindow = \"day\"",
                "a-z",
            ),
            (
                "name = \"t\"\nscope = \"team\"\nusd = 1.0\nwindow = \"day\"\nalerts = [80, 50]",
                "ascending",
            ),
            (
                "name = \"t\"\nscope = \"galaxy\"\nusd = 1.0\nwindow = \"day\"",
                "unknown variant",
            ),
            (
                "name = \"t\"\nscope = \"team\"\nusd = 1.0\nwindow = \"day\"\ncolour = 1",
                "unknown field",
            ),
        ] {
            let got = budget(bad).unwrap_err();
            assert!(got.contains(says), "{bad}: {got}");
        }
        assert_eq!(
            BudgetWindow::parse("24h"),
            Ok(BudgetWindow::Rolling(86_400))
        );
    }

    #[test]
    fn a_limit_must_limit_something() {
        let l = AigwLimit {
            name: "rpm".into(),
            scope: AigwScope::Key,
            matches: None,
            requests_per_minute: None,
            requests_per_hour: None,
            tokens_per_minute: None,
            tokens_per_hour: None,
            concurrent: None,
            on_redis_down: None,
        };
        assert!(validate_limits(std::slice::from_ref(&l))
            .unwrap_err()
            .2
            .contains("limits nothing"));
        let zero = AigwLimit {
            concurrent: Some(0),
            ..l.clone()
        };
        assert!(validate_limits(&[zero])
            .unwrap_err()
            .2
            .contains("at least 1"));
        let ok = AigwLimit {
            requests_per_minute: Some(60),
            ..l
        };
        assert_eq!(validate_limits(&[ok]), Ok(()));
    }
}
