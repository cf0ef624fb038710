//! HTML building blocks: escaping (every value from the network or ClickHouse goes through
//! `escape`), number formats, the page layout with its navigation, the filter bar and
//! tables.

use std::fmt::Write;

use serde_json::Value;

use super::session::Session;
use report::filter::ReportFilter;
use report::table::{plain, Table};

/// Escapes text for HTML element content and double-quoted attributes. (The proxy's block
/// pages escape with the same rules in its `respond.rs`; this crate may not depend on it.)
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `1234567` as `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes in B, KB, MB, GB, TB (powers of 1000).
pub fn bytes(n: u64) -> String {
    let units = ["B", "KB", "MB", "GB", "TB", "PB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < units.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

/// A cell as a person reads it: counts grouped, bytes scaled, null as a dash.
pub fn cell(column: &str, value: &Value) -> String {
    match value {
        Value::Null => "—".to_string(),
        Value::Number(n) if column.starts_with("bytes") => bytes(n.as_u64().unwrap_or(0)),
        Value::Number(n) if n.is_u64() => count(n.as_u64().unwrap_or(0)),
        other => escape(&plain(other)),
    }
}

/// The navigation entries: path and label.
const NAV: [(&str, &str); 11] = [
    ("/", "Overview"),
    ("/apps", "Apps"),
    ("/users", "Users"),
    ("/dlp", "DLP"),
    ("/unapproved", "Unapproved"),
    ("/anomalies", "Anomalies"),
    ("/discovered", "Discovered"),
    ("/access-requests", "Access requests"),
    ("/ai", "AI gateway"),
    ("/ai-keys", "AI keys"),
    ("/explorer", "Log explorer"),
];

/// A whole page: head, navigation (with the user and a logout form) and `body`.
pub fn page(title: &str, active: &str, session: Option<&Session>, body: &str) -> String {
    let mut nav = String::new();
    if let Some(session) = session {
        nav.push_str("<nav><span class=\"brand\">Warden</span>");
        for (path, label) in NAV {
            let class = if path == active {
                " class=\"active\""
            } else {
                ""
            };
            let _ = write!(nav, "<a href=\"{path}\"{class}>{label}</a>");
        }
        let role = session.principal.role.as_str();
        let _ = write!(
            nav,
            "<form method=\"post\" action=\"/logout\" class=\"logout\">\
             <span class=\"who\">{} ({role})</span>\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\">Log out</button></form></nav>",
            escape(&session.principal.name),
            escape(&session.csrf)
        );
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Warden</title><link rel=\"stylesheet\" href=\"/static/warden.css\"></head>\
         <body>{nav}<main><h1>{}</h1>{body}</main></body></html>",
        escape(title),
        escape(title)
    )
}

/// The filter bar: range, category, status, user, group and country, as a GET form.
pub fn filter_bar(action: &str, filter: &ReportFilter, since: &str) -> String {
    bar(action, filter, since, true)
}

/// The filter bar of a report that narrows only by who (the AI gateway's: its calls have no
/// app category, approval status or country): range, user and team.
pub fn who_filter_bar(action: &str, filter: &ReportFilter, since: &str) -> String {
    bar(action, filter, since, false)
}

fn bar(action: &str, filter: &ReportFilter, since: &str, apps: bool) -> String {
    let mut out = format!("<form class=\"filters\" method=\"get\" action=\"{action}\">");
    out.push_str("<label>Range <select name=\"since\">");
    for (value, label) in [
        ("1h", "last hour"),
        ("24h", "last 24 hours"),
        ("7d", "last 7 days"),
        ("30d", "last 30 days"),
        ("90d", "last 90 days"),
    ] {
        let selected = if value == since { " selected" } else { "" };
        let _ = write!(out, "<option value=\"{value}\"{selected}>{label}</option>");
    }
    out.push_str("</select></label>");
    let text = |name: &str, label: &str, value: Option<String>| {
        format!(
            "<label>{label} <input name=\"{name}\" value=\"{}\" size=\"10\"></label>",
            escape(&value.unwrap_or_default())
        )
    };
    let join = |items: Vec<&str>| (!items.is_empty()).then(|| items.join(","));
    if !apps {
        out.push_str(&text("user", "User", filter.user.clone()));
        out.push_str(&text("group", "Team", filter.group.clone()));
        out.push_str("<button type=\"submit\">Apply</button></form>");
        return out;
    }
    out.push_str(&text(
        "category",
        "Category",
        join(filter.categories.iter().map(|c| c.as_str()).collect()),
    ));
    out.push_str(&text(
        "status",
        "Status",
        join(filter.statuses.iter().map(|s| s.as_str()).collect()),
    ));
    out.push_str(&text("user", "User", filter.user.clone()));
    out.push_str(&text("group", "Group", filter.group.clone()));
    out.push_str(&text("country", "Country", filter.country.clone()));
    out.push_str("<button type=\"submit\">Apply</button></form>");
    out
}

/// How a table's headers link to sorting it (`?sort=COLUMN&dir=asc|desc`, plain links: the
/// dashboard has no scripts).
pub struct Sorting<'a> {
    /// The page's path.
    pub path: &'a str,
    /// The page's query without `sort`, `dir` and paging (unescaped).
    pub query: &'a str,
    /// `""` for the page's main list (the report sorts it), `"ID."` for another table.
    pub prefix: &'a str,
    /// The column sorted by now, and whether descending.
    pub current: Option<(&'a str, bool)>,
}

impl Sorting<'_> {
    fn header(&self, column: &str) -> String {
        self.header_labeled(column, &column.replace('_', " "))
    }

    /// A header cell that sorts by `column`, titled `label`.
    pub fn header_labeled(&self, column: &str, label: &str) -> String {
        let label = escape(label);
        let (arrow, next) = match self.current {
            Some((c, true)) if c == column => (" ▼", "asc"),
            Some((c, false)) if c == column => (" ▲", "desc"),
            _ => ("", "desc"),
        };
        let sep = if self.query.is_empty() { "" } else { "&" };
        let href = format!(
            "{}?{}{sep}sort={}{}&dir={next}",
            self.path,
            self.query,
            report::form::encode(self.prefix),
            report::form::encode(column)
        );
        format!(
            "<th><a class=\"sort\" href=\"{}\">{label}{arrow}</a></th>",
            escape(&href)
        )
    }
}

/// Where a user's page is: `/users/NAME`, or `/user?name=NAME` for the names a browser would
/// read as a path step (`.`, `..`).
pub fn user_href(name: &str) -> String {
    if name.is_empty() || name.chars().all(|c| c == '.') {
        format!("/user?name={}", report::form::encode(name))
    } else {
        format!("/users/{}", report::form::encode(name))
    }
}

/// Where one transaction's page is.
pub fn event_href(id: &str) -> String {
    format!("/events/{}", report::form::encode(id))
}

/// An approval status in its colour (every role sees it).
pub fn status(value: &str) -> String {
    if matches!(
        value,
        "approved" | "unapproved" | "in_review" | "unreviewed"
    ) {
        format!("<span class=\"status-{0}\">{0}</span>", escape(value))
    } else {
        escape(value)
    }
}

/// A table; cells of `app_id`, `user` and `request_id` link to their pages (keeping `query`),
/// approval statuses carry their colour.
pub fn table(table: &Table, query: &str) -> String {
    sorted_table(table, query, None)
}

/// [`table`] with header links that sort it.
pub fn sorted_table(table: &Table, query: &str, sorting: Option<&Sorting<'_>>) -> String {
    if table.rows.is_empty() {
        return "<p class=\"empty\">Nothing in this range.</p>".to_string();
    }
    let mut out = String::from("<div class=\"scroll\"><table><thead><tr>");
    for column in &table.columns {
        match sorting {
            Some(sorting) => out.push_str(&sorting.header(column)),
            None => {
                let _ = write!(out, "<th>{}</th>", escape(&column.replace('_', " ")));
            }
        }
    }
    out.push_str("</tr></thead><tbody>");
    let keep = if query.is_empty() {
        String::new()
    } else {
        format!("?{}", escape(query))
    };
    for row in &table.rows {
        out.push_str("<tr>");
        for (column, value) in table.columns.iter().zip(row) {
            let text = cell(column, value);
            let numeric = value.is_number();
            let class = if numeric { " class=\"num\"" } else { "" };
            let linked =
                |href: String| format!("<td><a href=\"{}{keep}\">{text}</a></td>", escape(&href));
            match (column.as_str(), value) {
                ("app_id", Value::String(id)) if !id.is_empty() => {
                    out.push_str(&linked(format!("/apps/{}", report::form::encode(id))))
                }
                ("user", Value::String(name)) if !name.is_empty() => {
                    out.push_str(&linked(user_href(name)))
                }
                ("request_id", Value::String(id)) if !id.is_empty() => {
                    let _ = write!(
                        out,
                        "<td><a href=\"{}\">{text}</a></td>",
                        escape(&event_href(id))
                    );
                }
                ("status" | "app_status", Value::String(s)) => {
                    let _ = write!(out, "<td>{}</td>", status(s));
                }
                _ => {
                    let _ = write!(out, "<td{class}>{text}</td>");
                }
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    out
}

/// An app's risk with the catalog's reasons for it, opened without scripts.
pub fn risk(risk: &Value, reasons: &Value) -> String {
    let reasons: Vec<String> = reasons
        .as_array()
        .map(|r| r.iter().map(plain).filter(|r| !r.is_empty()).collect())
        .unwrap_or_default();
    if reasons.is_empty() {
        return cell("risk", risk);
    }
    let mut out = format!(
        "<details class=\"risk\"><summary>{}</summary><ul>",
        cell("risk", risk)
    );
    for reason in reasons {
        let _ = write!(out, "<li>{}</li>", escape(&reason));
    }
    out.push_str("</ul></details>");
    out
}

/// A summary card.
pub fn card(label: &str, value: &str, note: &str) -> String {
    format!(
        "<div class=\"card\"><div class=\"label\">{}</div><div class=\"value\">{}</div>\
         <div class=\"note\">{}</div></div>",
        escape(label),
        escape(value),
        escape(note)
    )
}

/// The stylesheet.
pub const CSS: &str = "\
body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d2433;background:#f5f6fa}\
nav{display:flex;gap:4px;align-items:center;background:#141b2d;padding:0 16px;flex-wrap:wrap}\
nav a{color:#cfd6ea;text-decoration:none;padding:12px 10px}nav a.active,nav a:hover{color:#fff;background:#24304f}\
nav .brand{color:#fff;font-weight:700;margin-right:12px}\
nav .logout{margin-left:auto;display:flex;gap:8px;align-items:center}nav .who{color:#cfd6ea}\
main{padding:16px 24px}h1{font-size:22px;margin:8px 0 16px}h2{font-size:16px;margin:24px 0 8px}\
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{background:#fff;border:1px solid #dde1ec;border-radius:6px;padding:12px 16px;min-width:150px}\
.card .label{color:#5b6478;font-size:12px;text-transform:uppercase}.card .value{font-size:24px;font-weight:600}.card .note{color:#5b6478;font-size:12px}\
table{border-collapse:collapse;background:#fff;width:100%;margin:8px 0}th,td{border-bottom:1px solid #e4e7ef;padding:6px 8px;text-align:left;vertical-align:top}\
th{background:#eef1f7;font-weight:600;font-size:12px;text-transform:uppercase;color:#4a5368}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
th a.sort{color:inherit;text-decoration:none;white-space:nowrap}th a.sort:hover{text-decoration:underline}\
.panels{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,520px),1fr));gap:8px 24px;margin-top:8px}.panel{min-width:0}.panel .chart{max-width:none}.scroll{overflow-x:auto;max-width:100%}.scroll table{width:auto;min-width:100%}.scroll td{max-width:48em;overflow-wrap:anywhere}\
details.risk{display:inline-block;vertical-align:top}details.risk summary{cursor:pointer}details.risk ul{margin:4px 0;padding-left:16px;font-size:12px;white-space:normal;min-width:16em}\
pre.prompt{background:#fff;border:1px solid #dde1ec;padding:10px;white-space:pre-wrap;max-height:30em;overflow:auto}\
dl.facts{display:grid;grid-template-columns:max-content auto;gap:4px 16px;background:#fff;border:1px solid #dde1ec;padding:10px;border-radius:6px}dl.facts dt{color:#5b6478}dl.facts dd{margin:0}\
.chart{background:#fff;border:1px solid #dde1ec;border-radius:6px;width:100%;max-width:900px;height:auto}\
.filters{display:flex;gap:10px;flex-wrap:wrap;align-items:end;background:#fff;border:1px solid #dde1ec;padding:10px;border-radius:6px;margin-bottom:12px}\
.filters label{display:flex;flex-direction:column;font-size:12px;color:#5b6478}\
input,select,textarea,button{font:inherit}button{background:#2855c8;color:#fff;border:0;border-radius:4px;padding:6px 12px;cursor:pointer}\
textarea{width:100%;max-width:1100px;font-family:ui-monospace,monospace;font-size:13px}\
.error{background:#fde8e8;border:1px solid #f3b4b4;color:#8a1c1c;padding:10px;border-radius:6px}\
.ok{background:#e6f6ea;border:1px solid #b3e0bf;padding:10px;border-radius:6px}\
.note{background:#fff8e1;border:1px solid #f0d68a;padding:10px;border-radius:6px}button.danger{background:#b3261e}\
.confirm{background:#fff;border:2px solid #b3261e;padding:12px 16px;border-radius:6px;max-width:760px}\
.status-unapproved{color:#b3261e;font-weight:600}.status-in_review{color:#9a6700;font-weight:600}.status-approved{color:#1a7f37;font-weight:600}.status-unreviewed{color:#5b6478;font-weight:600}\
select.status-unapproved,select.status-in_review,select.status-approved,select.status-unreviewed{border:2px solid currentColor;background:#fff}\
.inline{display:inline-flex;gap:6px;vertical-align:middle}.empty{color:#5b6478}.links a{margin-right:12px}.presets li{margin:4px 0}\
.login{max-width:420px;margin:80px auto;background:#fff;border:1px solid #dde1ec;border-radius:8px;padding:24px}\
.login input{width:100%;margin:8px 0 16px;padding:6px}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_formatted() {
        assert_eq!(
            escape("<a href=\"x\">'&"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;"
        );
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_500_000), "1.5 MB");
        assert_eq!(cell("bytes_up", &serde_json::json!(2000)), "2.0 KB");
        assert_eq!(cell("user", &serde_json::json!("<x>")), "&lt;x&gt;");
    }
}
