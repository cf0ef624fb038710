//! What a call cost: one function, [`cost`], for streamed and whole answers alike, from the
//! usage the provider reported (bounded by `dialect`) and the price table. Integer
//! picodollars throughout, rounded once to microdollars at the end.
//!
//! Never: present a guess as a cost. A model without a price, or a call whose provider
//! reported no usage, has no cost (`None`, said so in [`CostStatus`]), not a cost of 0.

use crate::dialect::Usage;
use crate::prices::Price;

/// Why a call has the cost it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CostStatus {
    /// Priced from the provider's usage.
    Priced,
    /// Priced, from usage the provider reported wrongly (bounded and flagged).
    UsageSuspect,
    /// The model has no price in the table: the cost is unknown.
    UnknownModel,
    /// The provider was called but reported no usage: the cost is unknown.
    NoUsage,
    /// The call never reached a provider (refused, or failed before sending): nothing to pay.
    NotBilled,
    /// The provider answered with an error status and reported no usage: it bills nothing
    /// (a known cost of 0, not an unknown one).
    ProviderError,
}

impl CostStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Priced => "priced",
            Self::UsageSuspect => "usage_suspect",
            Self::UnknownModel => "unknown_model",
            Self::NoUsage => "no_usage",
            Self::NotBilled => "not_billed",
            Self::ProviderError => "provider_error",
        }
    }
}

/// A call's cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cost {
    /// Millionths of a dollar; `None` when unknown.
    pub micro_usd: Option<u64>,
    pub status: CostStatus,
    /// The date of the price used (empty when none was).
    pub checked: String,
}

/// A call the provider answered with an error status, reporting no usage: nothing to pay.
pub fn provider_error() -> Cost {
    Cost {
        micro_usd: Some(0),
        status: CostStatus::ProviderError,
        checked: String::new(),
    }
}

/// The cost of a call that used `usage` of a model priced `price` (`None`: no price),
/// `sent` whether it reached the provider at all.
pub fn cost(usage: &Usage, price: Option<&Price>, sent: bool) -> Cost {
    let unknown = |status| Cost {
        micro_usd: None,
        status,
        checked: String::new(),
    };
    if !sent {
        return Cost {
            micro_usd: Some(0),
            status: CostStatus::NotBilled,
            checked: String::new(),
        };
    }
    let Some(price) = price else {
        return unknown(CostStatus::UnknownModel);
    };
    if !usage.reported {
        return unknown(CostStatus::NoUsage);
    }
    // Parts are within their wholes (`Usage::settle`); saturating all the same, so that no
    // input can make a part negative.
    let fresh_input = usage
        .input
        .saturating_sub(usage.cached)
        .saturating_sub(usage.cache_write);
    let plain_output = usage.output.saturating_sub(usage.reasoning);
    // Tokens are at most 1e8 and prices at most 1e11 picodollars: each product is under
    // 1e19 and the sum under 1e20, far inside u128.
    let pico: u128 = [
        (fresh_input, price.input),
        (usage.cached, price.cached_input),
        (usage.cache_write, price.cache_write),
        (plain_output, price.output),
        (usage.reasoning, price.reasoning),
        (1, price.per_request),
    ]
    .iter()
    .map(|&(tokens, each)| u128::from(tokens) * u128::from(each))
    .sum();
    let micro = (pico + 500_000) / 1_000_000;
    Cost {
        micro_usd: Some(u64::try_from(micro).unwrap_or(u64::MAX)),
        status: if usage.flags.is_empty() {
            CostStatus::Priced
        } else {
            CostStatus::UsageSuspect
        },
        checked: price.checked.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::{UsageFlags, MAX_TOKENS};

    fn price(input: f64, cached: f64, write: f64, output: f64) -> Price {
        let pico = |usd_per_m: f64| (usd_per_m * 1e6).round() as u64;
        Price {
            input: pico(input),
            cached_input: pico(cached),
            cache_write: pico(write),
            output: pico(output),
            reasoning: pico(output),
            per_request: 0,
            checked: "2026-12-07".into(),
            origin: "shipped",
        }
    }

    #[test]
    fn cached_and_written_tokens_are_priced_at_their_own_rates() {
        // claude-sonnet-4-5: 10 fresh + 100 read + 5 written input tokens, 42 out.
        let usage = Usage {
            input: 115,
            cached: 100,
            cache_write: 5,
            output: 42,
            reported: true,
            ..Usage::default()
        };
        let c = cost(&usage, Some(&price(3.0, 0.3, 3.75, 15.0)), true);
        // 10*3 + 100*0.3 + 5*3.75 + 42*15 = 30 + 30 + 18.75 + 630 = 708.75 µ$ → 709.
        assert_eq!(c.micro_usd, Some(709));
        assert_eq!(c.status, CostStatus::Priced);
        assert_eq!(c.checked, "2026-12-07");
    }

    #[test]
    fn unknown_models_and_missing_usage_have_no_cost_not_a_zero_one() {
        let usage = Usage {
            input: 10,
            reported: true,
            ..Usage::default()
        };
        let c = cost(&usage, None, true);
        assert_eq!((c.micro_usd, c.status), (None, CostStatus::UnknownModel));
        let c = cost(&Usage::default(), Some(&price(1.0, 1.0, 1.0, 1.0)), true);
        assert_eq!((c.micro_usd, c.status), (None, CostStatus::NoUsage));
        let c = cost(&Usage::default(), None, false);
        assert_eq!((c.micro_usd, c.status), (Some(0), CostStatus::NotBilled));
    }

    #[test]
    fn the_largest_usage_at_the_highest_price_neither_overflows_nor_goes_negative() {
        let most = config::MAX_PRICE_USD;
        let mut flags = UsageFlags::default();
        flags.insert(UsageFlags::OVER_LIMIT);
        let usage = Usage {
            input: MAX_TOKENS,
            output: MAX_TOKENS,
            reasoning: MAX_TOKENS,
            reported: true,
            flags,
            ..Usage::default()
        };
        let mut p = price(most, most, most, most);
        p.per_request = (most * 1e12) as u64;
        let c = cost(&usage, Some(&p), true);
        // 2e8 tokens at $1e5 per million is $2e7, plus $1e5 for the call.
        assert_eq!(c.micro_usd, Some(20_100_000_000_000));
        assert_eq!(c.status, CostStatus::UsageSuspect);
    }
}
