//! What `GET /v1/models` lists for a caller: exactly the models its virtual key may use.
//! The configured models (`[[aigw.models]]`) its `--models` allows, then each
//! `provider/model` the key names that no configured model covers (a key limited to
//! `openai/gpt-4o` lists `openai/gpt-4o`, configured or not). A key without `--models` may
//! use every configured model and any `provider/model` of a configured provider: the list
//! holds the configured models (no provider's whole catalogue is fetched).

use crate::routes::{ListedModel, RouteTable};

/// The models a key limited to `allowed` (empty: no limit) may use, in configuration order
/// and then in the key's order, each once.
pub fn allowed(routes: &RouteTable, allowed: &[String]) -> Vec<ListedModel> {
    let mut out: Vec<ListedModel> = routes
        .listed()
        .iter()
        .filter(|m| {
            routes
                .resolve(&m.id)
                .is_some_and(|r| routes.allows(allowed, &r))
        })
        .cloned()
        .collect();
    // `provider/*` stands for what that provider serves: its configured models, above.
    for name in allowed.iter().filter(|n| !n.ends_with("/*")) {
        let Some(route) = routes.resolve(name) else {
            continue;
        };
        if out.iter().any(|m| m.canonical == route.canonical) {
            continue;
        }
        out.push(ListedModel {
            id: name.clone(),
            owned_by: route.provider.name.clone(),
            canonical: route.canonical.clone(),
            provider: route.provider.name.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_lists_what_it_may_use_and_nothing_else() {
        let config: config::Config = toml::from_str(
            r#"
            [[aigw.providers]]
            name = "openai"
            kind = "openai"
            base_url = "https://api.openai.com/v1"
            [[aigw.providers]]
            name = "anthropic"
            kind = "anthropic"
            base_url = "https://api.anthropic.com/v1"
            [[aigw.models]]
            name = "gpt-4o-mini"
            provider = "openai"
            aliases = ["fast"]
            [[aigw.models]]
            name = "claude"
            provider = "anthropic"
            model = "claude-sonnet-4-5"
            "#,
        )
        .unwrap();
        let table = RouteTable::new(&config.aigw);
        let ids = |allowed: &[&str]| -> Vec<String> {
            let allowed: Vec<String> = allowed.iter().map(|s| (*s).to_string()).collect();
            super::allowed(&table, &allowed)
                .into_iter()
                .map(|m| m.id)
                .collect()
        };
        assert_eq!(ids(&[]), ["gpt-4o-mini", "claude"]);
        assert_eq!(ids(&["fast"]), ["gpt-4o-mini"]);
        assert_eq!(ids(&["anthropic/*"]), ["claude"]);
        assert_eq!(
            ids(&[
                "openai/gpt-4o-mini",
                "openai/text-embedding-3-small",
                "nope/x",
                "unknown"
            ]),
            ["gpt-4o-mini", "openai/text-embedding-3-small"]
        );
        assert_eq!(
            ids(&["anthropic/claude-sonnet-4-5", "openai/o3", "openai/o3"]),
            ["claude", "openai/o3"]
        );
    }
}
