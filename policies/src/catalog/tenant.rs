//! An app's tenant hint (`[app.tenant]` in a catalog file): the headers its vendor honours to
//! allow only an organisation's own accounts, the hosts they go to, and where the app's
//! requests show which account they use.
//!
//! The hint is vendor knowledge and carries no organisation's identifiers: those are
//! configuration (`[tenants.<app>]`). Nothing here matches requests or writes headers.

use super::load::Reader;
use super::path::PathPattern;
use crate::host_pattern::HostPattern;
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// What an injected header carries, taken from the app's `[tenants.<app>]` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantValue {
    /// The organisation's allowed tenant ids or domains, joined with `,` (no spaces).
    Ids,
    /// The organisation's own directory id (Microsoft's `Restrict-Access-Context`).
    Context,
    /// A policy value (Microsoft's tenant restrictions v2: `<tenant id>:<policy id>`).
    Policy,
}

/// One header the vendor honours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantHeader {
    /// An HTTP token, as the vendor spells it.
    pub name: String,
    pub value: TenantValue,
}

/// Where a request shows the account it uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountAt {
    /// A path segment: the pattern as written (`/api/organizations/{id}/**`), matched with
    /// `{id}` as one segment, and the index of that segment.
    Path {
        #[serde(serialize_with = "pattern_text")]
        pattern: PathPattern,
        segment: usize,
    },
    /// A request header's value (lowercase name).
    Header(String),
    /// A cookie's value.
    Cookie(String),
    /// A query parameter's value.
    Query(String),
}

fn pattern_text<S: serde::Serializer>(p: &PathPattern, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(p.as_str())
}

/// Tenant control for one app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantHint {
    /// Where the vendor documents the headers (an `https://` URL).
    pub source: String,
    /// The hosts the headers go to and whose requests are classified.
    #[serde(serialize_with = "hosts_text")]
    pub hosts: Vec<HostPattern>,
    pub headers: Vec<TenantHeader>,
    pub accounts: Vec<AccountAt>,
}

fn hosts_text<S: serde::Serializer>(v: &[HostPattern], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(HostPattern::as_str))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTenant {
    source: Spanned<String>,
    hosts: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    headers: Vec<RawHeader>,
    #[serde(default)]
    accounts: Vec<Spanned<RawAccount>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    name: Spanned<String>,
    value: TenantValue,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccount {
    path: Option<String>,
    header: Option<String>,
    cookie: Option<String>,
    query: Option<String>,
}

/// Whether `name` is an HTTP header name (RFC 9110 token).
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Validates a raw hint; errors go to `r`.
pub(super) fn read(r: &mut Reader<'_>, raw: RawTenant) -> Option<TenantHint> {
    let before = r.errors.len();
    if let Err(why) = super::load::check_source_url(raw.source.get_ref()) {
        r.error(&raw.source, why);
    }
    if raw.hosts.get_ref().is_empty() {
        r.error(&raw.hosts, "`tenant.hosts` needs at least one host".into());
    }
    let mut hosts = Vec::new();
    for h in raw.hosts.get_ref() {
        match r.host(h) {
            Some(p) if p.path_prefix().is_some() => {
                r.error(h, "a tenant host has no path prefix".into());
            }
            Some(p) => hosts.push(p),
            None => {}
        }
    }
    let mut headers = Vec::new();
    for h in raw.headers {
        if !is_token(h.name.get_ref()) {
            let msg = format!("header name {:?} is not an HTTP token", h.name.get_ref());
            r.error(&h.name, msg);
        } else if headers
            .iter()
            .any(|x: &TenantHeader| x.name.eq_ignore_ascii_case(h.name.get_ref()))
        {
            r.error(&h.name, "header named twice".into());
        }
        headers.push(TenantHeader {
            name: h.name.into_inner(),
            value: h.value,
        });
    }
    let mut accounts = Vec::new();
    for a in &raw.accounts {
        match read_account(a.get_ref()) {
            Ok(at) => accounts.push(at),
            Err(why) => r.error(a, why),
        }
    }
    if headers.is_empty() && accounts.is_empty() {
        r.error(
            &raw.source,
            "a tenant hint needs `headers` or `accounts`".into(),
        );
    }
    (r.errors.len() == before).then(|| TenantHint {
        source: raw.source.into_inner(),
        hosts,
        headers,
        accounts,
    })
}

fn read_account(a: &RawAccount) -> Result<AccountAt, String> {
    let set = [&a.path, &a.header, &a.cookie, &a.query]
        .iter()
        .filter(|v| v.is_some())
        .count();
    if set != 1 {
        return Err("an account entry names exactly one of path, header, cookie, query".into());
    }
    if let Some(path) = &a.path {
        let segments: Vec<&str> = path.split('/').collect();
        let ids: Vec<usize> = (0..segments.len())
            .filter(|&i| segments[i] == "{id}")
            .collect();
        let pattern = PathPattern::parse(&path.replace("{id}", "*"))?;
        let [at] = ids[..] else {
            return Err(format!("path {path:?} needs exactly one `{{id}}` segment"));
        };
        // `segments[0]` is the empty text before the leading `/`.
        return Ok(AccountAt::Path {
            pattern,
            segment: at - 1,
        });
    }
    let (kind, name) = match (&a.header, &a.cookie, &a.query) {
        (Some(h), _, _) => ("header", h),
        (_, Some(c), _) => ("cookie", c),
        (_, _, Some(q)) => ("query", q),
        _ => return Err("an account entry names one place".into()),
    };
    if !is_token(name) {
        return Err(format!("{kind} name {name:?} is not an HTTP token"));
    }
    Ok(match kind {
        "header" => AccountAt::Header(name.to_ascii_lowercase()),
        "cookie" => AccountAt::Cookie(name.clone()),
        _ => AccountAt::Query(name.clone()),
    })
}
