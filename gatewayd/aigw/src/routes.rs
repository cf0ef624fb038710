//! Which provider serves a model name: an exact `[[aigw.models]]` name or alias first, then
//! `PROVIDER/MODEL` for any configured provider; a route's name (`[[aigw.routes]]`) as its first
//! deployment. Pure lookups over the configuration; the
//! caller's permission is [`RouteTable::allows`].

use std::collections::BTreeMap;
use std::sync::Arc;

use config::{AigwConfig, AigwProvider};

use crate::dialect::Dialect;

/// A provider as the gateway calls it.
#[derive(Debug)]
pub struct Provider {
    pub name: String,
    pub kind: config::ProviderKind,
    pub dialect: Dialect,
    /// Without a trailing `/`.
    pub base_url: String,
    /// The key store name of its key, if it needs one.
    pub key: Option<String>,
    /// Azure's `api-version` query.
    pub api_version: Option<String>,
    /// Bedrock's AWS region (what requests are signed for).
    pub region: Option<String>,
    /// Whether OpenAI-style streams ask for usage (`stream_options.include_usage`).
    pub stream_usage: bool,
}

/// Where a call goes.
#[derive(Debug, Clone)]
pub struct Route {
    pub provider: Arc<Provider>,
    /// The name the caller used.
    pub asked: String,
    /// `provider/model`, the name permissions and logs use.
    pub canonical: String,
    /// The model name sent to the provider.
    pub upstream_model: String,
}

/// A model `GET /v1/models` lists.
#[derive(Debug, Clone)]
pub struct ListedModel {
    pub id: String,
    pub owned_by: String,
    pub canonical: String,
    pub provider: String,
}

/// Model names and aliases to routes.
#[derive(Debug, Default)]
pub struct RouteTable {
    providers: BTreeMap<String, Arc<Provider>>,
    /// Name or alias → (provider, upstream model).
    names: BTreeMap<String, (String, String)>,
    listed: Vec<ListedModel>,
}

impl RouteTable {
    pub fn new(config: &AigwConfig) -> Self {
        let providers: BTreeMap<String, Arc<Provider>> = config
            .providers
            .iter()
            .map(|p: &AigwProvider| {
                (
                    p.name.clone(),
                    Arc::new(Provider {
                        name: p.name.clone(),
                        kind: p.kind,
                        dialect: Dialect::of(p.kind),
                        base_url: p.base_url.trim_end_matches('/').to_string(),
                        key: p.key.clone(),
                        api_version: p.api_version.clone(),
                        region: p.region.clone(),
                        stream_usage: p.stream_usage,
                    }),
                )
            })
            .collect();
        let mut names = BTreeMap::new();
        let mut listed = Vec::new();
        for m in &config.models {
            let target = (m.provider.clone(), m.upstream().to_string());
            for name in std::iter::once(&m.name).chain(&m.aliases) {
                names.insert(name.clone(), target.clone());
            }
            listed.push(ListedModel {
                id: m.name.clone(),
                owned_by: m.provider.clone(),
                canonical: format!("{}/{}", m.provider, m.upstream()),
                provider: m.provider.clone(),
            });
        }
        let mut table = Self {
            providers,
            names,
            listed,
        };
        // A route's name (`[[aigw.routes]]`) resolves to its first deployment here (what
        // prices and permits it before the call); `crate::fallback` tries the others.
        for r in &config.routes {
            let first = config::flatten_route(config, r)
                .ok()
                .and_then(|flat| flat.first().and_then(|(t, _)| table.resolve(t)));
            if let Some(first) = first {
                let target = (first.provider.name.clone(), first.upstream_model.clone());
                table.names.insert(r.name.clone(), target);
                table.listed.push(ListedModel {
                    id: r.name.clone(),
                    owned_by: first.provider.name.clone(),
                    canonical: first.canonical.clone(),
                    provider: first.provider.name.clone(),
                });
            }
        }
        table
    }

    /// The route for `model`, or `None` when no provider serves that name.
    pub fn resolve(&self, model: &str) -> Option<Route> {
        let (provider, upstream) = match self.names.get(model) {
            Some((provider, upstream)) => (provider.as_str(), upstream.as_str()),
            None => {
                let (provider, upstream) = model.split_once('/')?;
                (provider, upstream)
            }
        };
        if upstream.is_empty() {
            return None;
        }
        let provider = self.providers.get(provider)?.clone();
        Some(Route {
            canonical: format!("{}/{upstream}", provider.name),
            asked: model.to_string(),
            upstream_model: upstream.to_string(),
            provider,
        })
    }

    /// Whether a key limited to `allowed` (names, aliases, `provider/model`, `provider/*`;
    /// empty: everything) may use `route`. A name counts for everything it resolves to, so a
    /// key for the alias `fast` may use `openai/gpt-4o-mini` and the other aliases of it.
    pub fn allows(&self, allowed: &[String], route: &Route) -> bool {
        allowed.is_empty()
            || allowed.iter().any(|a| {
                a == &route.asked
                    || a.strip_suffix("/*") == Some(route.provider.name.as_str())
                    || self
                        .resolve(a)
                        .is_some_and(|r| r.canonical == route.canonical)
            })
    }

    /// The configured models, in configuration order.
    pub fn listed(&self) -> &[ListedModel] {
        &self.listed
    }

    pub fn providers(&self) -> impl Iterator<Item = &Arc<Provider>> {
        self.providers.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_aliases_and_provider_prefixes_resolve() {
        let config: config::Config = toml::from_str(
            r#"
            [[aigw.providers]]
            name = "openai"
            kind = "openai"
            base_url = "https://api.openai.com/v1/"
            [[aigw.models]]
            name = "gpt-4o-mini"
            provider = "openai"
            aliases = ["fast"]
            [[aigw.models]]
            name = "smart"
            provider = "openai"
            model = "gpt-4o"
            "#,
        )
        .unwrap();
        let table = RouteTable::new(&config.aigw);
        let fast = table.resolve("fast").unwrap();
        assert_eq!(
            (fast.canonical.as_str(), fast.upstream_model.as_str()),
            ("openai/gpt-4o-mini", "gpt-4o-mini")
        );
        assert_eq!(fast.provider.base_url, "https://api.openai.com/v1");
        assert_eq!(table.resolve("smart").unwrap().upstream_model, "gpt-4o");
        assert_eq!(table.resolve("openai/o3").unwrap().upstream_model, "o3");
        assert!(table.resolve("anthropic/claude").is_none());
        assert!(table.resolve("gpt-4o").is_none());
        assert!(table.resolve("openai/").is_none());
        assert_eq!(table.listed().len(), 2);
        let fast = table.resolve("gpt-4o-mini").unwrap();
        assert!(table.allows(&["fast".into()], &fast));
        assert!(table.allows(&["openai/*".into()], &fast));
        assert!(table.allows(&[], &fast));
        assert!(!table.allows(&["smart".into()], &fast));
    }
}
