//! Tenant control's one fact: whose account a request to an app uses — the organisation's own
//! (`corporate`), any other (`personal`), or one the gateway could not see (`unknown`).
//!
//! Only the daemon finds account identifiers (in paths, headers, cookies, as the catalog's
//! tenant hints say); this module names the outcome, for rules (`when = { tenant = ... }`)
//! and the event column. It must never hold an identifier's value.

use std::fmt;
use std::str::FromStr;

/// Whose account a request to an app with tenant control uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TenantUse {
    /// Every account identifier the request carried is one of the organisation's.
    Corporate,
    /// The request carried an account identifier that is not the organisation's (a personal
    /// account, or another organisation's).
    Personal,
    /// The request carried no account identifier the gateway reads. Not personal: a rule
    /// that wants to fail closed names both (`tenant = ["personal", "unknown"]`).
    Unknown,
}

impl TenantUse {
    pub const ALL: [TenantUse; 3] = [
        TenantUse::Corporate,
        TenantUse::Personal,
        TenantUse::Unknown,
    ];

    /// The name in policy files and in `http_events.tenant`.
    pub fn as_str(self) -> &'static str {
        match self {
            TenantUse::Corporate => "corporate",
            TenantUse::Personal => "personal",
            TenantUse::Unknown => "unknown",
        }
    }
}

impl fmt::Display for TenantUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TenantUse {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TenantUse::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                format!("tenant {s:?} must be \"corporate\", \"personal\" or \"unknown\"")
            })
    }
}

/// Whether `id` may be an account identifier in configuration or in a header value the
/// gateway writes: 1–128 characters of letters, digits and `. _ - @ :`. Nothing that could
/// end a header line, separate list items (`,` `;`) or hide in whitespace.
pub fn is_account_id(id: &str) -> bool {
    (1..=MAX_ACCOUNT_ID).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@' | b':'))
}

/// Longest account identifier compared. A longer value in a request cannot be one of the
/// organisation's, so it is never read further.
pub const MAX_ACCOUNT_ID: usize = 128;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_ids_are_strict() {
        for t in TenantUse::ALL {
            assert_eq!(t.as_str().parse::<TenantUse>(), Ok(t));
        }
        assert!("Personal".parse::<TenantUse>().is_err());
        assert!(is_account_id("437adf77-4085-4b22-b7b1-de7b6f5ec6c0"));
        assert!(is_account_id("contoso.onmicrosoft.com"));
        for bad in [
            "",
            "a\r\nx-evil: 1",
            "a,b",
            "a b",
            "a;n=2",
            &"x".repeat(129),
        ] {
            assert!(!is_account_id(bad), "{bad:?}");
        }
    }
}
