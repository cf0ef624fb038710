use super::*;
use crate::dialect::Dialect;

fn provider(name: &str, kind: config::ProviderKind) -> Provider {
    Provider {
        name: name.into(),
        kind,
        dialect: Dialect::of(kind),
        base_url: "http://127.0.0.1:1".into(),
        key: None,
        api_version: None,
        region: Some("us-east-1".into()),
        stream_usage: true,
    }
}

#[test]
fn the_shipped_table_loads_with_a_date_on_every_entry() {
    let table = PriceTable::new(&config::AigwConfig::default()).unwrap();
    let rows = table.rows();
    assert!(rows.len() >= 10, "{rows:?}");
    for row in &rows {
        assert!(config::is_date(&row.price.checked), "{row:?}");
        assert!(
            row.price.input > 0 || row.model.starts_with("text-embedding"),
            "{row:?}"
        );
        assert!(
            ["openai", "anthropic"].contains(&row.provider.as_str()),
            "{row:?}"
        );
    }
    let mini = rows.iter().find(|r| r.model == "gpt-4o-mini").unwrap();
    // $0.15 / $0.075 / $0.60 per million tokens.
    assert_eq!(
        (mini.price.input, mini.price.cached_input, mini.price.output),
        (150_000, 75_000, 600_000)
    );
}

#[test]
fn snapshots_are_priced_as_their_model_and_nothing_else_is_guessed() {
    let table = PriceTable::new(&config::AigwConfig::default()).unwrap();
    let openai = provider("openai", config::ProviderKind::Openai);
    let anthropic = provider("anthropic", config::ProviderKind::Anthropic);
    let local = provider("vllm", config::ProviderKind::OpenaiCompatible);
    assert!(table
        .lookup(&openai, "gpt-4o-mini-2024-07-18", None)
        .is_some());
    assert!(table
        .lookup(&openai, "gpt-4o-mini", Some("gpt-4o-mini-2024-07-18"))
        .is_some());
    assert!(table
        .lookup(&anthropic, "claude-sonnet-4-5-20250929", None)
        .is_some());
    assert!(table.lookup(&openai, "gpt-4o-mini-turbo", None).is_none());
    assert!(table.lookup(&openai, "my-fine-tune", None).is_none());
    assert!(table.lookup(&anthropic, "gpt-4o", None).is_none());
    assert!(
        table.lookup(&local, "gpt-4o", None).is_none(),
        "an OpenAI-compatible server is not priced as OpenAI"
    );
    assert_eq!(undated("x-20250929"), Some("x"));
    assert_eq!(undated("x-2024-07-18"), Some("x"));
    assert_eq!(undated("é-2024-07-18"), Some("é"));
    assert_eq!(undated("-2024-07-18"), None);
    assert_eq!(undated("gpt-4o"), None);
    assert_eq!(undated("ééééééé"), None);
}

#[test]
fn the_operators_prices_come_first() {
    let mut aigw = config::AigwConfig::default();
    aigw.prices.push(config::AigwPrice {
        provider: "openai".into(),
        model: "gpt-4o-mini".into(),
        input: 1.0,
        output: 2.0,
        cached_input: None,
        cache_write: None,
        reasoning: Some(4.0),
        per_request: Some(0.01),
        checked: None,
    });
    aigw.prices.push(config::AigwPrice {
        provider: "vllm".into(),
        model: "llama-3".into(),
        input: 0.0,
        output: 0.0,
        cached_input: None,
        cache_write: None,
        reasoning: None,
        per_request: None,
        checked: Some("2026-01-02".into()),
    });
    let table = PriceTable::new(&aigw).unwrap();
    let openai = provider("openai", config::ProviderKind::Openai);
    let price = table.lookup(&openai, "gpt-4o-mini", None).unwrap();
    assert_eq!(
        (
            price.input,
            price.cached_input,
            price.reasoning,
            price.per_request
        ),
        (1_000_000, 1_000_000, 4_000_000, 10_000_000_000)
    );
    assert_eq!((price.checked.as_str(), price.origin), ("config", "config"));
    let local = provider("vllm", config::ProviderKind::OpenaiCompatible);
    assert!(table.lookup(&local, "llama-3", None).is_some());

    aigw.prices[0].cached_input = Some(f64::NAN);
    assert!(PriceTable::new(&aigw).unwrap_err().contains("not a price"));
    aigw.prices[0].cached_input = Some(-1.0);
    assert!(PriceTable::new(&aigw).unwrap_err().contains("not a price"));
}
