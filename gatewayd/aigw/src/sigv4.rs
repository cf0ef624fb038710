//! AWS Signature Version 4 for Bedrock calls, with the maintained `aws-sigv4` crate: the
//! key store entry (`ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]`) read into AWS
//! credentials, and a built request signed in place (`authorization`, `x-amz-date`, and
//! `x-amz-security-token` when there is a session token).
//!
//! The URL's path must already be percent-encoded once (a Bedrock model id's `:` as `%3A`);
//! the canonical URI encodes it again (`%253A`), as AWS requires of every service but S3.
//!
//! Never: log or return the secret key or the session token (errors say what is wrong with
//! the entry, never what it holds); sign anything but the exact bytes that are sent.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4::SigningParams;
use bytes::Bytes;
use http::HeaderValue;
use http_body_util::Full;

use crate::error::CallError;

/// AWS credentials from one key store value.
pub struct AwsKey {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
}

impl std::fmt::Debug for AwsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsKey")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl AwsKey {
    /// Reads `ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]` (AWS's keys and tokens hold
    /// no `:`). `name` is the key store name, for the error.
    pub fn parse(value: &str, name: &str) -> Result<Self, CallError> {
        let mut parts = value.trim().split(':');
        let id = parts.next().unwrap_or_default();
        let secret = parts.next().unwrap_or_default();
        let token = parts.next();
        let plain = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic());
        if !plain(id)
            || !plain(secret)
            || token.is_some_and(|t| !plain(t))
            || parts.next().is_some()
        {
            return Err(CallError::BadGateway(format!(
                "the provider key {name:?} is not AWS credentials: store it as \
                 ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN] (`gatewayd keys rotate {name}`)"
            )));
        }
        Ok(Self {
            access_key_id: id.to_string(),
            secret_access_key: secret.to_string(),
            session_token: token.map(str::to_string),
        })
    }

    /// The parts an error message must never show (for `crate::error::scrub`).
    pub fn secrets(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.secret_access_key.as_str()).chain(self.session_token.as_deref())
    }
}

/// Signs `request` (whose body is `body`) for Bedrock in `region`, now.
pub fn sign_bedrock(
    request: &mut http::Request<Full<Bytes>>,
    body: &[u8],
    key: &AwsKey,
    region: &str,
) -> Result<(), CallError> {
    sign_request(request, body, key, region, "bedrock", SystemTime::now())
}

/// Signs `request` for `service` in `region` at `time`.
pub fn sign_request<B>(
    request: &mut http::Request<B>,
    body: &[u8],
    key: &AwsKey,
    region: &str,
    service: &str,
    time: SystemTime,
) -> Result<(), CallError> {
    let failed = |what: &str| CallError::Internal(format!("signing the Bedrock request: {what}"));
    let identity = Credentials::new(
        key.access_key_id.clone(),
        key.secret_access_key.clone(),
        key.session_token.clone(),
        None,
        "warden-keystore",
    )
    .into();
    let params = SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|_| failed("incomplete parameters"))?
        .into();
    let uri = request.uri().to_string();
    let headers: Vec<(&str, &str)> = request
        .headers()
        .iter()
        .filter(|(name, _)| *name != http::header::USER_AGENT)
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    let signable = SignableRequest::new(
        request.method().as_str(),
        uri,
        headers.into_iter(),
        SignableBody::Bytes(body),
    )
    .map_err(|_| failed("the URL cannot be signed"))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|_| failed("the signer refused the request"))?
        .into_parts();
    let (headers, _) = instructions.into_parts();
    for header in headers {
        let mut value =
            HeaderValue::from_str(header.value()).map_err(|_| failed("a header value"))?;
        value.set_sensitive(header.sensitive() || header.name() == "authorization");
        request.headers_mut().insert(header.name(), value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn example_key() -> AwsKey {
        AwsKey::parse("AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "k").unwrap()
    }

    /// 2015-08-30T12:36:00Z, the time of AWS's SigV4 test suite.
    fn suite_time() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_440_938_160)
    }

    #[test]
    fn matches_the_aws_sigv4_test_suite_get_vanilla() {
        let mut request = http::Request::get("https://example.amazonaws.com/")
            .body(())
            .unwrap();
        sign_request(
            &mut request,
            b"",
            &example_key(),
            "us-east-1",
            "service",
            suite_time(),
        )
        .unwrap();
        assert_eq!(request.headers()["x-amz-date"], "20150830T123600Z");
        assert_eq!(
            request.headers()["authorization"],
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    /// A Bedrock model id's `:` is sent as `%3A` and signed as `%253A`; the expected value
    /// was computed with botocore's `SigV4Auth` (the signer every AWS Python SDK uses).
    #[test]
    fn a_model_id_with_a_colon_is_signed_as_botocore_signs_it() {
        let body = br#"{"messages":[]}"#;
        let mut request = http::Request::post(
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse",
        )
        .header("content-type", "application/json")
        .body(())
        .unwrap();
        sign_request(
            &mut request,
            body,
            &example_key(),
            "us-east-1",
            "bedrock",
            suite_time(),
        )
        .unwrap();
        assert_eq!(request.headers()["authorization"], BOTOCORE_COLON_SIGNATURE);
    }

    const BOTOCORE_COLON_SIGNATURE: &str = "AWS4-HMAC-SHA256 \
        Credential=AKIDEXAMPLE/20150830/us-east-1/bedrock/aws4_request, \
        SignedHeaders=content-type;host;x-amz-date, \
        Signature=dba7f2f77cc33808be655f27b8ebf1d1b1d77751fc96dad0bd71e020cb07c442";

    #[test]
    fn a_session_token_is_sent_and_a_malformed_entry_never_echoed() {
        let key = AwsKey::parse("AKID:SECRETSECRET:TOKENTOKEN", "k").unwrap();
        let mut request = http::Request::post("https://h/model/m/converse")
            .body(())
            .unwrap();
        sign_request(
            &mut request,
            b"{}",
            &key,
            "eu-west-1",
            "bedrock",
            suite_time(),
        )
        .unwrap();
        assert_eq!(request.headers()["x-amz-security-token"], "TOKENTOKEN");
        assert!(!format!("{key:?}").contains("SECRETSECRET"));
        for bad in ["only-one-part", "a:b:c:d", "a::c", "a:b c", ""] {
            let e = AwsKey::parse(bad, "k").unwrap_err();
            assert_eq!(e.status(), 502);
            assert!(!e.to_string().contains("b c"), "{e}");
        }
    }
}
