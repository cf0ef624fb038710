//! The log explorer's page: the SQL editor with its ready-made queries, the answer (scrolling
//! sideways when wide) or the refusal, the CSV download button (a second submit of the same
//! form: no scripts), and the column reference built from the schema's migrations.
//!
//! Every value is escaped through `html`; it never runs a query itself.

use std::fmt::Write;

use super::html::{self, count, escape};
use super::session::Session;
use report::explorer::{ExplorerAnswer, PRESETS};

/// The tables and their columns, from the schema's migrations; audited prompts are marked
/// for the roles that cannot read them.
fn column_reference(session: &Session) -> String {
    let mut out = String::from("<h2>Columns</h2><div id=\"columns\" class=\"columns\">");
    for table in report::explorer::columns::tables() {
        let _ = write!(
            out,
            "<details data-table=\"{0}\"><summary><code>{0}</code> · {1} columns</summary>\
             <p class=\"note\">{2}</p><table><thead><tr><th>Column</th><th>Type</th></tr>\
             </thead><tbody>",
            escape(&table.name),
            table.columns.len(),
            escape(&table.about)
        );
        for (name, kind) in &table.columns {
            let private = name == report::explorer::columns::PROMPT_COLUMN
                && !session.principal.role.reads_prompts();
            let _ = write!(
                out,
                "<tr><td><code>{}</code>{}</td><td><code>{}</code></td></tr>",
                escape(name),
                if private {
                    " (investigator role only)"
                } else {
                    ""
                },
                escape(kind)
            );
        }
        out.push_str("</tbody></table></details>");
    }
    out.push_str("</div>");
    out
}

/// `/explorer`: the SQL editor, presets, the column reference, and the last answer or error.
pub fn explorer(
    session: &Session,
    sql: &str,
    outcome: Option<Result<&ExplorerAnswer, String>>,
) -> String {
    let mut body = String::from(
        "<p>Read-only SQL over the <code>warden</code> database (tables <code>http_events</code>, \
         <code>dlp_findings</code>, <code>app_status_changes</code> and the rollups). SELECT only, \
         with a time limit and a row limit.</p><h2>Ready-made queries</h2><ul class=\"presets\">",
    );
    for (i, (title, _)) in PRESETS.iter().enumerate() {
        let _ = write!(
            body,
            "<li><a href=\"/explorer?preset={i}\">{}</a></li>",
            escape(title)
        );
    }
    let _ = write!(
        body,
        "</ul><form method=\"post\" action=\"/explorer\" id=\"explorer\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <textarea name=\"sql\" id=\"sql\" rows=\"10\" spellcheck=\"false\">{}</textarea>\
         <p><button type=\"submit\" id=\"run\">Run query</button> \
         <button type=\"submit\" id=\"csv\" formaction=\"/explorer/csv\">Download CSV</button> \
         <span class=\"note\">(the same row and size limits as on screen)</span></p></form>",
        escape(&session.csrf),
        escape(sql)
    );
    match outcome {
        None => {}
        Some(Err(message)) => {
            let _ = write!(
                body,
                "<div class=\"error\" id=\"query-error\">{}</div>",
                escape(&message)
            );
        }
        Some(Ok(answer)) => {
            let _ = write!(
                body,
                "<p id=\"query-summary\">{} rows{} · {} rows read · {:.0} ms</p>",
                count(answer.table.rows.len() as u64),
                if answer.truncated {
                    " (cut off at the row or size limit)"
                } else {
                    ""
                },
                count(answer.rows_read),
                answer.elapsed_ms
            );
            body.push_str("<div id=\"query-result\">");
            body.push_str(&html::table(&answer.table, ""));
            body.push_str("</div>");
        }
    }
    body.push_str(&column_reference(session));
    body
}
