//! Checks a key change against the configuration in force, for the command line and the
//! dashboard alike: which configured providers use a provider key (deleting it stops their
//! calls at once, so both ask first), and whether each model a virtual key is limited to is
//! one the AI gateway knows (a typo in `--models` would make a key that can call nothing).
//!
//! Never: change a store (the callers do, through `crate::key_ops`) or read a key's value.

use admin::ai_keys::KeyFault;
use aigw::routes::RouteTable;
use config::AigwConfig;

/// The configured providers (`[[aigw.providers]]`) whose `key` is `name`, in config order.
pub fn providers_using(aigw: &AigwConfig, name: &str) -> Vec<String> {
    aigw.providers
        .iter()
        .filter(|p| p.key.as_deref() == Some(name))
        .map(|p| p.name.clone())
        .collect()
}

/// Refuses a virtual key limited to a model the gateway cannot route, naming the ones it
/// knows. With no providers configured there is nothing to check against (keys may be made
/// before the `[aigw]` section is written), so everything passes.
pub fn known_models(aigw: &AigwConfig, models: &[String]) -> Result<(), KeyFault> {
    if aigw.providers.is_empty() {
        return Ok(());
    }
    let table = RouteTable::new(aigw);
    let known = |m: &str| match m.strip_suffix("/*") {
        Some(provider) => aigw.providers.iter().any(|p| p.name == provider),
        None => table.resolve(m).is_some(),
    };
    let unknown: Vec<&str> = models
        .iter()
        .map(String::as_str)
        .filter(|m| !known(m))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let mut names: Vec<String> = Vec::new();
    for model in &aigw.models {
        names.push(model.name.clone());
        names.extend(model.aliases.iter().cloned());
    }
    names.extend(aigw.routes.iter().map(|r| r.name.clone()));
    names.extend(aigw.providers.iter().map(|p| format!("{}/*", p.name)));
    Err(KeyFault::Input(format!(
        "the AI gateway knows no model {}; known: {} (or PROVIDER/MODEL for a configured \
         provider)",
        unknown
            .iter()
            .map(|m| format!("{m:?}"))
            .collect::<Vec<_>>()
            .join(", "),
        names.join(", ")
    )))
}

/// The refusal of deleting a provider key that `providers` use, naming them.
pub fn in_use_text(name: &str, providers: &[String]) -> String {
    format!(
        "provider key {name:?} is used by the AI gateway's provider{} {}: deleting it stops \
         every call to {} at once, and its value cannot be recovered",
        if providers.len() == 1 { "" } else { "s" },
        providers.join(", "),
        if providers.len() == 1 { "it" } else { "them" },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aigw() -> AigwConfig {
        let config: config::Config = toml::from_str(
            r#"
            [[aigw.providers]]
            name = "openai"
            kind = "openai"
            base_url = "https://api.openai.com/v1"
            key = "openai-prod"
            [[aigw.providers]]
            name = "azure"
            kind = "openai-compatible"
            base_url = "https://example.test/v1"
            key = "openai-prod"
            [[aigw.models]]
            name = "gpt-4o-mini"
            provider = "openai"
            aliases = ["fast"]
            "#,
        )
        .unwrap();
        config.aigw
    }

    #[test]
    fn a_key_is_used_by_the_providers_that_name_it() {
        assert_eq!(providers_using(&aigw(), "openai-prod"), ["openai", "azure"]);
        assert!(providers_using(&aigw(), "other").is_empty());
        let text = in_use_text("openai-prod", &["openai".into(), "azure".into()]);
        assert!(text.contains("providers openai, azure"), "{text}");
    }

    #[test]
    fn a_model_the_gateway_cannot_route_is_refused_with_the_known_ones() {
        let ok = ["fast", "gpt-4o-mini", "openai/o3", "openai/*"].map(String::from);
        assert!(known_models(&aigw(), &ok).is_ok());
        let Err(KeyFault::Input(why)) = known_models(&aigw(), &["gpt-99".to_string()]) else {
            panic!("gpt-99 accepted");
        };
        assert!(
            why.contains("\"gpt-99\"")
                && why.contains("gpt-4o-mini, fast")
                && why.contains("openai/*"),
            "{why}"
        );
        assert!(known_models(&aigw(), &["nope/*".to_string()]).is_err());
        assert!(known_models(&AigwConfig::default(), &["gpt-99".to_string()]).is_ok());
    }
}
