//! Request knobs the gateway refuses before a call is reserved or sent: more answers (`n`)
//! than [`MAX_CHOICES`], and provider-side tools (web search and fetch, MCP servers, file
//! search, code execution, computer use) unless `aigw.allow_server_tools` is on. Both make
//! one call bill far more than its reservation holds: `n` multiplies the output, and a
//! server tool is paid per use and fetches URLs (or calls MCP servers) the caller chooses,
//! with the organisation's provider key.
//!
//! Never: let a tool of an unknown `type` through while server tools are off (the list of
//! allowed types is closed: function tools only), or echo a field's value in an error.

use serde_json::Value;

use crate::error::CallError;

/// The most answers one chat call may ask for (`n`): its reservation is `n` times its
/// output cap, so a larger `n` only makes budgets refuse later and harder to read.
pub const MAX_CHOICES: u64 = 16;

/// Top-level fields that switch on provider-side tools: Anthropic's MCP connector and
/// OpenAI chat's built-in web search.
const SERVER_TOOL_FIELDS: [&str; 2] = ["mcp_servers", "web_search_options"];

/// Refuses a request whose knobs the gateway cannot bound; `allow_server_tools` is
/// `aigw.allow_server_tools`.
pub fn check(body: &Value, allow_server_tools: bool) -> Result<(), CallError> {
    if let Some(n) = body.get("n") {
        match n.as_u64() {
            Some(n) if (1..=MAX_CHOICES).contains(&n) => {}
            _ => {
                return Err(CallError::bad_request(
                    "n",
                    format!("Warden: n must be a whole number from 1 to {MAX_CHOICES} here"),
                ))
            }
        }
    }
    if allow_server_tools {
        return Ok(());
    }
    for field in SERVER_TOOL_FIELDS {
        if body.get(field).is_some() {
            return Err(server_tools(field, field));
        }
    }
    let Some(tools) = body.get("tools").and_then(Value::as_array) else {
        return Ok(());
    };
    for (i, tool) in tools.iter().enumerate() {
        match tool.get("type") {
            // Anthropic's own tools have no type (or "custom"); OpenAI's are "function" or
            // "custom": the caller runs them, the provider only names the call.
            None => {}
            Some(Value::String(kind)) if matches!(kind.as_str(), "function" | "custom") => {}
            Some(_) => {
                return Err(server_tools(
                    &format!("tools[{i}].type"),
                    "a tool of this type (run by the provider)",
                ))
            }
        }
    }
    Ok(())
}

fn server_tools(param: &str, what: &str) -> CallError {
    CallError::bad_request(
        param,
        format!(
            "Warden refuses {what}: provider-side tools (web search or fetch, MCP servers, file \
             search, code execution, computer use) are paid per use and not counted by budgets; \
             an operator can allow them with aigw.allow_server_tools = true"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn n_is_capped_and_server_tools_are_refused_unless_allowed() {
        assert!(check(&json!({"n": 16}), false).is_ok());
        for n in [json!(17), json!(0), json!(-1), json!(2.5), json!("2")] {
            assert!(check(&json!({"n": n}), true).is_err(), "{n}");
        }
        let fetch = json!({"tools": [{"name": "f", "input_schema": {}},
            {"type": "web_fetch_20250910", "name": "web_fetch"}]});
        let Err(CallError::BadRequest { param, .. }) = check(&fetch, false) else {
            panic!("web_fetch let through")
        };
        assert_eq!(param.as_deref(), Some("tools[1].type"));
        assert!(check(&fetch, true).is_ok());
        for body in [
            json!({"mcp_servers": [{"type": "url", "url": "http://169.254.169.254/"}]}),
            json!({"web_search_options": {}}),
            json!({"tools": [{"type": "mcp", "server_url": "https://x"}]}),
            json!({"tools": [{"type": "file_search"}]}),
            json!({"tools": [{"type": 7}]}),
        ] {
            assert!(check(&body, false).is_err(), "{body}");
        }
        let functions = json!({"tools": [{"type": "function", "function": {"name": "f"}},
            {"type": "custom", "name": "g"}]});
        assert!(check(&functions, false).is_ok());
    }
}
