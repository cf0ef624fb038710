//! Where a provider call goes and how it carries the organisation's key, per provider kind:
//!
//! | kind | URL | key header |
//! |---|---|---|
//! | openai, openai-compatible | `{base}/chat/completions` | `Authorization: Bearer` |
//! | anthropic | `{base}/messages` | `x-api-key` |
//! | gemini | `{base}/models/{model}:generateContent`, `:streamGenerateContent?alt=sse` | `x-goog-api-key` |
//! | azure-openai | `{base}/openai/deployments/{model}/chat/completions?api-version=V` | `api-key` |
//! | bedrock | `{base}/model/{model}/converse`, `/converse-stream` | SigV4 (`crate::sigv4`) |
//!
//! Never: put a key in a URL (Gemini also accepts `?key=`: the gateway never uses it, URLs
//! end up in logs and error messages), or let a caller's model name change the URL's shape:
//! where the model is a path segment it is one segment of a plain alphabet, or a 400.

use http::HeaderName;

use crate::error::CallError;
use crate::routes::Route;

/// The URL of a chat call (streamed or not) on `route`.
pub fn url(route: &Route, stream: bool) -> Result<String, CallError> {
    let provider = &route.provider;
    let base = &provider.base_url;
    Ok(match provider.kind {
        config::ProviderKind::Openai
        | config::ProviderKind::OpenaiCompatible
        | config::ProviderKind::Local => format!("{base}/chat/completions"),
        config::ProviderKind::Anthropic => format!("{base}/messages"),
        config::ProviderKind::Gemini => {
            let model = segment(&route.upstream_model)?;
            if stream {
                format!("{base}/models/{model}:streamGenerateContent?alt=sse")
            } else {
                format!("{base}/models/{model}:generateContent")
            }
        }
        config::ProviderKind::AzureOpenai => {
            let deployment = segment(&route.upstream_model)?;
            // Checked at load (config::aigw): a plain alphabet, no `&` or `#`.
            let version = provider.api_version.as_deref().unwrap_or_default();
            format!("{base}/openai/deployments/{deployment}/chat/completions?api-version={version}")
        }
        config::ProviderKind::Bedrock => {
            let model = bedrock_model(&route.upstream_model)?;
            let action = if stream {
                "converse-stream"
            } else {
                "converse"
            };
            format!("{base}/model/{model}/{action}")
        }
    })
}

/// The header the provider reads its key from, and the header's value for `secret`; `None`
/// for Bedrock, whose requests are signed instead.
pub fn key_header(kind: config::ProviderKind, secret: &str) -> Option<(HeaderName, String)> {
    Some(match kind {
        config::ProviderKind::Openai
        | config::ProviderKind::OpenaiCompatible
        | config::ProviderKind::Local => (http::header::AUTHORIZATION, format!("Bearer {secret}")),
        config::ProviderKind::Anthropic => {
            (HeaderName::from_static("x-api-key"), secret.to_string())
        }
        config::ProviderKind::Gemini => (
            HeaderName::from_static("x-goog-api-key"),
            secret.to_string(),
        ),
        config::ProviderKind::AzureOpenai => {
            (HeaderName::from_static("api-key"), secret.to_string())
        }
        config::ProviderKind::Bedrock => return None,
    })
}

/// A Bedrock model id (`anthropic.claude-3-5-sonnet-20240620-v1:0`, an inference profile
/// `us.anthropic...`) as one path segment: the plain alphabet plus `:`, which is sent
/// percent-encoded (`%3A`), as AWS's SDKs send it and SigV4's canonical URI expects. ARNs
/// (with `/`) are refused: they would be more than one segment.
fn bedrock_model(name: &str) -> Result<String, CallError> {
    let plain = segment(&name.replace(':', "_")).is_ok();
    if plain {
        Ok(name.replace(':', "%3A"))
    } else {
        Err(CallError::bad_request(
            "model",
            format!(
                "the model name {name:?} cannot name a Bedrock model: use its model or inference \
                 profile id (letters, digits, '.', '_', '-' and ':'), not an ARN"
            ),
        ))
    }
}

/// A model or deployment name that becomes one path segment: `A-Z a-z 0-9 . _ -`, not `.` or
/// `..`, at most 200 bytes. Anything else could reach another endpoint with the key.
fn segment(name: &str) -> Result<&str, CallError> {
    let plain = !name.is_empty()
        && name.len() <= 200
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if plain {
        Ok(name)
    } else {
        Err(CallError::bad_request(
            "model",
            format!(
                "the model name {name:?} cannot name this provider's model: use only letters, \
                 digits, '.', '_' and '-'"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::dialect::Dialect;
    use crate::routes::Provider;

    fn route(kind: config::ProviderKind, model: &str) -> Route {
        Route {
            provider: Arc::new(Provider {
                name: "p".into(),
                kind,
                dialect: Dialect::of(kind),
                base_url: "https://example.test/v1".into(),
                key: None,
                api_version: Some("2024-10-21".into()),
                region: Some("us-east-1".into()),
                stream_usage: true,
            }),
            asked: model.into(),
            canonical: format!("p/{model}"),
            upstream_model: model.into(),
        }
    }

    #[test]
    fn each_kind_has_its_url_and_model_names_cannot_reshape_it() {
        use config::ProviderKind::*;
        let url = |kind, model, stream| url(&route(kind, model), stream);
        assert_eq!(
            url(Gemini, "gemini-2.5-flash", true).unwrap(),
            "https://example.test/v1/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
        );
        assert_eq!(
            url(Gemini, "gemini-2.5-flash", false).unwrap(),
            "https://example.test/v1/models/gemini-2.5-flash:generateContent"
        );
        assert_eq!(
            url(AzureOpenai, "gpt4o-prod", true).unwrap(),
            "https://example.test/v1/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21"
        );
        assert_eq!(
            url(OpenaiCompatible, "x/y?z", false).unwrap(),
            "https://example.test/v1/chat/completions",
            "a model in the body only can be anything"
        );
        for bad in ["..", "../files", "a?key=x", "a#b", "a b", "a:b", "a%2f", ""] {
            for kind in [Gemini, AzureOpenai] {
                let err = url(kind, bad, false).unwrap_err();
                assert_eq!(err.status(), 400, "{bad}");
            }
        }
        assert_eq!(
            url(Bedrock, "anthropic.claude-3-haiku-20240307-v1:0", false).unwrap(),
            "https://example.test/v1/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
        );
        assert_eq!(
            url(Bedrock, "us.amazon.nova-lite-v1:0", true).unwrap(),
            "https://example.test/v1/model/us.amazon.nova-lite-v1%3A0/converse-stream"
        );
        for bad in [
            "..",
            "../x",
            "a/b",
            "arn:aws:bedrock:us-east-1:1:inference-profile/x",
            "a?b",
            "a%3A0",
            "a b",
            "",
        ] {
            assert_eq!(url(Bedrock, bad, false).unwrap_err().status(), 400, "{bad}");
        }
        assert_eq!(
            key_header(Gemini, "k").unwrap().0.as_str(),
            "x-goog-api-key"
        );
        assert_eq!(key_header(AzureOpenai, "k").unwrap().0.as_str(), "api-key");
        assert_eq!(key_header(Openai, "k").unwrap().1, "Bearer k");
        assert!(key_header(Bedrock, "k").is_none());
    }
}
