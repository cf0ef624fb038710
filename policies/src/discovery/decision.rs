//! What the security team decided about a discovered host: turn it into a catalog app (with a
//! name, a category and a status; "block" is that with the status `unapproved`), or mark it
//! "not AI" so discovery stops flagging it. Pure values and checks: validating what an admin
//! typed (host, name, category, app id), and the catalog layer the catalogued hosts become.
//!
//! Nothing here reads files or clocks. A decision never names a host that the catalog already
//! knows: such a host is decided through its app's status, so a "not AI" mark can never take a
//! blocked catalog app out of enforcement behind the status book's back.

use serde::{Deserialize, Serialize};

use crate::catalog::Category;
use crate::host::{normalize_host, MAX_HOST_LEN};

/// Longest app name accepted.
pub const MAX_NAME_LEN: usize = 80;

/// What was decided about one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// The host is an app of the catalog now (its status is in the status book).
    Catalog,
    /// Not an AI service: discovery ignores it from now on.
    NotAi,
}

impl DecisionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Catalog => "catalog",
            DecisionKind::NotAi => "not_ai",
        }
    }
}

/// One decision, as kept in `<state>/discovered-decisions.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostDecision {
    pub host: String,
    pub kind: DecisionKind,
    /// For `catalog`: the app's id, name and category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    pub decided_by: String,
    pub decided_at_unix_ms: u64,
}

/// What an admin asks for, as typed (the daemon checks it against the catalog in force).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    #[serde(default)]
    pub host: String,
    /// `catalog`, `block` or `not_ai`.
    pub action: String,
    pub name: Option<String>,
    pub category: Option<String>,
    /// For `catalog`: the status to start with (`unreviewed` when none is given).
    pub status: Option<String>,
    pub app_id: Option<String>,
}

/// A decision taken: what is now on file and, for a catalogued host, its status change.
#[derive(Debug, Clone, Serialize)]
pub struct Decided {
    pub decision: HostDecision,
    pub status_change: Option<crate::status::StatusChange>,
}

/// Whose problem a refused decision is, for the HTTP status the admin plane answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionFault {
    /// Bad input (400).
    Invalid,
    /// The host or id is taken, or already decided (409).
    Conflict,
    /// The state could not be read or written (500).
    Internal,
}

/// Why a decision cannot be taken; the text is what the admin sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    #[error("invalid host {shown:?}: {reason}")]
    Host { shown: String, reason: String },
    #[error("invalid app name: {0}")]
    Name(String),
    #[error("invalid app id {0:?}: 1-64 characters of [a-z0-9-], not starting or ending with `-`")]
    AppId(String),
    #[error(transparent)]
    Category(#[from] crate::catalog::UnknownCategory),
}

/// At most this much of a refused input is echoed back in an error.
const SHOWN: usize = 64;

fn shown(text: &str) -> String {
    let mut out: String = text.chars().take(SHOWN).collect();
    if text.chars().count() > SHOWN {
        out.push('…');
    }
    out
}

/// The host in normal form (lowercase, no trailing dot), or why it is not a host name. IP
/// literals are refused: the catalog lists names, and a decision about an address would
/// follow whatever is hosted there next.
pub fn checked_host(text: &str) -> Result<String, DecisionError> {
    let fail = |reason: &str| DecisionError::Host {
        shown: shown(text),
        reason: reason.to_string(),
    };
    if text.len() > MAX_HOST_LEN + 1 {
        return Err(fail(&format!("longer than {MAX_HOST_LEN} characters")));
    }
    if text.contains(['*', '/', ':', '@']) {
        return Err(fail("write one host name, without wildcard, port or path"));
    }
    let normal = normalize_host(text.trim()).map_err(|e| fail(&e.to_string()))?;
    if normal.is_ip {
        return Err(fail("an IP address is not a host name"));
    }
    if normal.labels < 2 {
        return Err(fail("a host name has at least two labels (example.com)"));
    }
    Ok(normal.name.into_owned())
}

/// A display name: 1-80 characters, no control characters.
pub fn checked_name(text: &str) -> Result<String, DecisionError> {
    let name = text.trim();
    if name.is_empty() {
        return Err(DecisionError::Name("empty".into()));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(DecisionError::Name(format!(
            "longer than {MAX_NAME_LEN} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(DecisionError::Name("contains control characters".into()));
    }
    Ok(name.to_string())
}

/// An app id as the catalog requires it.
pub fn checked_app_id(text: &str) -> Result<String, DecisionError> {
    let ok = !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-');
    if ok {
        Ok(text.to_string())
    } else {
        Err(DecisionError::AppId(shown(text)))
    }
}

/// The app id a host gets when none is given: its labels joined by `-`, shortened to fit.
pub fn app_id_for(host: &str) -> String {
    let id: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    id.trim_matches('-').to_string()
}

/// The catalog file text that the catalogued decisions become (one app per host, the host as
/// its only usage host), written with the TOML serializer so no typed value can break out of
/// its string.
pub fn catalog_layer(decisions: &[HostDecision]) -> String {
    #[derive(Serialize)]
    struct File<'a> {
        app: Vec<App<'a>>,
    }
    #[derive(Serialize)]
    struct App<'a> {
        id: &'a str,
        name: &'a str,
        vendor: &'a str,
        vendor_country: &'a str,
        category: &'a str,
        risk: i64,
        risk_reasons: [&'a str; 1],
        description: &'a str,
        source: String,
        hosts: [&'a str; 1],
    }
    let app = decisions
        .iter()
        .filter(|d| d.kind == DecisionKind::Catalog)
        .filter_map(|d| {
            Some(App {
                id: d.app_id.as_deref()?,
                name: d.name.as_deref().unwrap_or(&d.host),
                vendor: "unknown (added from discovery)",
                vendor_country: "ZZ",
                category: d.category.unwrap_or(Category::Other).as_str(),
                risk: 3,
                risk_reasons: [
                    "added from shadow-AI discovery; vendor and data terms not reviewed",
                ],
                description: "Added from shadow-AI discovery",
                // The app's own pages: the host itself is what a reviewer can check.
                source: format!("https://{}/", d.host),
                hosts: [d.host.as_str()],
            })
        })
        .collect();
    toml::to_string(&File { app }).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_normalised_or_refused_with_a_short_reason() {
        assert_eq!(checked_host("LLM.Example.COM.").unwrap(), "llm.example.com");
        for bad in [
            "",
            "x",
            "<script>alert(1)</script>.com",
            "*.example.com",
            "example.com:443",
            "10.0.0.1",
            "a..b.com",
            "example.com/path",
        ] {
            assert!(checked_host(bad).is_err(), "{bad:?} accepted");
        }
        let huge = "a".repeat(100_000);
        let message = checked_host(&huge).unwrap_err().to_string();
        assert!(message.len() < 200, "the error echoes all of it: {message}");
    }

    #[test]
    fn names_and_ids_are_bounded() {
        assert_eq!(checked_name("  Acme LLM ").unwrap(), "Acme LLM");
        assert!(checked_name("").is_err());
        assert!(checked_name(&"n".repeat(81)).is_err());
        assert!(checked_name("a\u{0}b").is_err());
        assert_eq!(app_id_for("llm.corp-ai.example"), "llm-corp-ai-example");
        assert!(checked_app_id(&app_id_for(&"a.".repeat(120))).is_ok());
        assert!(checked_app_id("Bad_ID").is_err());
    }

    #[test]
    fn the_catalog_layer_is_a_valid_catalog_file_whatever_the_name() {
        let decision = HostDecision {
            host: "llm.example.net".into(),
            kind: DecisionKind::Catalog,
            app_id: Some("llm-example-net".into()),
            name: Some("\"]\n[[app]]\nid = \"evil\"<b>".into()),
            category: Some(Category::Chat),
            decided_by: "token:sec\"team".into(),
            decided_at_unix_ms: 1,
        };
        let not_ai = HostDecision {
            host: "cdn.example.org".into(),
            kind: DecisionKind::NotAi,
            app_id: None,
            name: None,
            category: None,
            decided_by: "cli:root".into(),
            decided_at_unix_ms: 2,
        };
        let text = catalog_layer(&[decision, not_ai]);
        let catalog = crate::Catalog::from_sources(&[("decisions", &text)]).unwrap();
        assert_eq!(catalog.apps().len(), 1);
        let app = catalog.app("llm-example-net").unwrap();
        assert!(app.name.contains("<b>"));
        assert!(catalog.match_url("llm.example.net", "/").is_some());
        assert!(catalog.match_url("cdn.example.org", "/").is_none());
    }
}
