//! The price table: what a token of a model costs, from the table shipped with the binary
//! (`gatewayd/aigw/prices.toml`, embedded at build time) with the operator's
//! `[[aigw.prices]]` on top. Built once at start and never fetched from anywhere.
//!
//! Prices are kept as whole picodollars per token (a dollar per million tokens is 10^6 of
//! them), so costs are integer sums that cannot round differently for a streamed and a
//! whole answer. Every price is finite, at least 0 and at most `config::MAX_PRICE_USD`:
//! a table that breaks this does not load.
//!
//! Never: guess a price for a model the table does not name (a dated snapshot of a named
//! model is the one exception: it is the same model).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::routes::Provider;

/// The shipped table's text.
const SHIPPED: &str = include_str!("../prices.toml");

/// Picodollars per dollar.
const PICO_PER_USD: f64 = 1e12;

/// One model's prices, in picodollars per token (per call for `per_request`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Price {
    pub input: u64,
    pub cached_input: u64,
    pub cache_write: u64,
    pub output: u64,
    pub reasoning: u64,
    pub per_request: u64,
    /// `YYYY-MM-DD`, or `config` for an override without a date.
    pub checked: String,
    /// `shipped` or `config`.
    pub origin: &'static str,
}

/// The on-box model's price when the configuration sets none: zero.
static LOCAL_PRICE: Price = Price {
    input: 0,
    cached_input: 0,
    cache_write: 0,
    output: 0,
    reasoning: 0,
    per_request: 0,
    checked: String::new(),
    origin: "local",
};

/// An entry as written, in dollars: the shipped file's `[[price]]` (provider kinds) and the
/// config's `[[aigw.prices]]` (provider names) read the same way.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Written {
    provider: String,
    model: String,
    input: f64,
    output: f64,
    cached_input: Option<f64>,
    cache_write: Option<f64>,
    reasoning: Option<f64>,
    per_request: Option<f64>,
    checked: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShippedFile {
    price: Vec<Written>,
}

impl Written {
    fn from_config(p: &config::AigwPrice) -> Self {
        Self {
            provider: p.provider.clone(),
            model: p.model.clone(),
            input: p.input,
            output: p.output,
            cached_input: p.cached_input,
            cache_write: p.cache_write,
            reasoning: p.reasoning,
            per_request: p.per_request,
            checked: p.checked.clone(),
        }
    }

    /// The entry in picodollars; an error names the bad price.
    fn price(&self, origin: &'static str) -> Result<Price, String> {
        let per_token = |key: &str, usd_per_million: f64| -> Result<u64, String> {
            pico(usd_per_million / 1e6).ok_or_else(|| self.bad(key, usd_per_million))
        };
        let input = per_token("input", self.input)?;
        let output = per_token("output", self.output)?;
        let checked = match &self.checked {
            Some(date) if config::is_date(date) => date.clone(),
            Some(date) => {
                return Err(format!(
                    "{}/{}: checked {date:?} is not YYYY-MM-DD",
                    self.provider, self.model
                ))
            }
            None if origin == "config" => "config".to_string(),
            None => return Err(format!("{}/{}: no checked date", self.provider, self.model)),
        };
        Ok(Price {
            input,
            output,
            cached_input: self
                .cached_input
                .map_or(Ok(input), |v| per_token("cached_input", v))?,
            cache_write: self
                .cache_write
                .map_or(Ok(input), |v| per_token("cache_write", v))?,
            reasoning: self
                .reasoning
                .map_or(Ok(output), |v| per_token("reasoning", v))?,
            per_request: match self.per_request {
                Some(usd) => pico(usd).ok_or_else(|| self.bad("per_request", usd))?,
                None => 0,
            },
            checked,
            origin,
        })
    }

    fn bad(&self, key: &str, value: f64) -> String {
        format!(
            "{}/{}: {key} = {value} is not a price (0 to {} dollars)",
            self.provider,
            self.model,
            config::MAX_PRICE_USD
        )
    }
}

/// Dollars to whole picodollars; `None` for NaN, infinities, negatives and anything over
/// `MAX_PRICE_USD`.
fn pico(usd: f64) -> Option<u64> {
    if !usd.is_finite() || !(0.0..=config::MAX_PRICE_USD).contains(&usd) {
        return None;
    }
    // At most 1e5 * 1e12 = 1e17, well inside u64.
    Some((usd * PICO_PER_USD).round() as u64)
}

/// A row of `gatewayd aigw prices`.
#[derive(Debug, Clone, Serialize)]
pub struct PriceRow {
    /// A provider kind (shipped) or a configured provider's name (config).
    pub provider: String,
    pub model: String,
    #[serde(flatten)]
    pub price: Price,
}

/// Prices by (provider, model): the operator's by provider name, the shipped ones by
/// provider kind.
#[derive(Debug, Default)]
pub struct PriceTable {
    overrides: BTreeMap<(String, String), Price>,
    shipped: BTreeMap<(String, String), Price>,
}

impl PriceTable {
    /// The shipped table with the configuration's overrides. Fails on a price that is not
    /// one (the config check refuses those first; the shipped table is tested).
    pub fn new(aigw: &config::AigwConfig) -> Result<Self, String> {
        let file: ShippedFile =
            toml::from_str(SHIPPED).map_err(|e| format!("the shipped price table: {e}"))?;
        let mut table = Self::default();
        for entry in &file.price {
            let price = entry
                .price("shipped")
                .map_err(|e| format!("the shipped price table: {e}"))?;
            let key = (entry.provider.clone(), entry.model.clone());
            if table.shipped.insert(key, price).is_some() {
                return Err(format!(
                    "the shipped price table prices {}/{} twice",
                    entry.provider, entry.model
                ));
            }
        }
        for entry in aigw.prices.iter().map(Written::from_config) {
            let price = entry
                .price("config")
                .map_err(|e| format!("aigw.prices: {e}"))?;
            table
                .overrides
                .insert((entry.provider.clone(), entry.model.clone()), price);
        }
        Ok(table)
    }

    /// The price of a call to `provider` for `upstream_model` (what the gateway asked for)
    /// or `served` (what the provider said answered): the operator's prices first, then the
    /// shipped ones (for the provider's kind), each trying the names as given and then
    /// without a snapshot date. `None`: not priced.
    pub fn lookup(
        &self,
        provider: &Provider,
        upstream_model: &str,
        served: Option<&str>,
    ) -> Option<&Price> {
        let mut names = vec![upstream_model];
        names.extend(served);
        let undated: Vec<&str> = names.iter().filter_map(|n| undated(n)).collect();
        names.extend(undated);
        find(&self.overrides, &names, &provider.name).or_else(|| match provider.kind {
            // An OpenAI-compatible server (vLLM, Groq, a local model ...) is not priced
            // as OpenAI: only the operator knows what it costs.
            config::ProviderKind::OpenaiCompatible => None,
            // The on-box model costs nothing outside (an `[[aigw.prices]]` entry for the
            // provider sets an internal price).
            config::ProviderKind::Local => Some(&LOCAL_PRICE),
            kind => find(&self.shipped, &names, kind.as_str()),
        })
    }

    /// Every entry: the overrides, then the shipped table.
    pub fn rows(&self) -> Vec<PriceRow> {
        self.overrides
            .iter()
            .chain(&self.shipped)
            .map(|((provider, model), price)| PriceRow {
                provider: provider.clone(),
                model: model.clone(),
                price: price.clone(),
            })
            .collect()
    }
}

/// The first of `names` that `table` prices for `provider`.
fn find<'t>(
    table: &'t BTreeMap<(String, String), Price>,
    names: &[&str],
    provider: &str,
) -> Option<&'t Price> {
    names
        .iter()
        .find_map(|m| table.get(&(provider.to_string(), (*m).to_string())))
}

/// `name` without a snapshot date at its end (`-2024-08-06` or `-20250929`).
fn undated(name: &str) -> Option<&str> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some((head, date)) = name.rsplit_once('-') {
        if date.len() == 8 && digits(date) {
            return Some(head);
        }
    }
    let cut = name.len().checked_sub(11)?;
    let (head, tail) = (name.get(..cut)?, name.get(cut..)?);
    let tail = tail.strip_prefix('-')?;
    let ok = tail.len() == 10 && config::is_date(tail);
    ok.then_some(head).filter(|h| !h.is_empty())
}

#[cfg(test)]
mod tests;
