//! Read queries against ClickHouse's HTTP interface, answered as `JSONCompact`: the reports
//! and the log explorer need columns whose names and types are only known at run time, which
//! the RowBinary client used by the event writer cannot give.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use http::{header, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use serde_json::Value;

use super::form::encode;
use crate::config::ClickHouseConfig;
use crate::upstream::error_chain;

/// The most bytes of one answer read into memory.
const MAX_ANSWER_BYTES: usize = 32 * 1024 * 1024;

/// Why a query gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("ClickHouse at {url} cannot be reached: {message}")]
    Unreachable { url: String, message: String },
    #[error("ClickHouse did not answer within {0:?}")]
    Timeout(Duration),
    #[error("ClickHouse refused the query: {0}")]
    Refused(String),
    #[error("ClickHouse's answer was not understood: {0}")]
    BadAnswer(String),
}

/// One answer: column names and types, rows of JSON values, and what the server read.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub columns: Vec<(String, String)>,
    pub rows: Vec<Vec<Value>>,
    pub rows_read: u64,
    pub elapsed_ms: f64,
}

impl Answer {
    /// The index of column `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|(n, _)| n == name)
    }
}

#[derive(Deserialize)]
struct CompactAnswer {
    #[serde(default)]
    meta: Vec<Meta>,
    #[serde(default)]
    data: Vec<Vec<Value>>,
    #[serde(default)]
    statistics: Option<Statistics>,
}

#[derive(Deserialize)]
struct Meta {
    name: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct Statistics {
    #[serde(default)]
    rows_read: u64,
}

/// A ClickHouse HTTP endpoint and database.
#[derive(Debug, Clone)]
pub struct ClickHouseHttp {
    url: String,
    database: String,
    authorization: Option<String>,
    timeout: Duration,
}

fn client() -> &'static Client<HttpConnector, Full<Bytes>> {
    static CLIENT: OnceLock<Client<HttpConnector, Full<Bytes>>> = OnceLock::new();
    CLIENT.get_or_init(|| Client::builder(TokioExecutor::new()).build_http())
}

impl ClickHouseHttp {
    pub fn new(config: &ClickHouseConfig) -> Self {
        let authorization = config.user.as_ref().map(|user| {
            let pair = format!("{user}:{}", config.password.as_deref().unwrap_or(""));
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        });
        Self {
            url: config.url.trim_end_matches('/').to_string(),
            database: config.database.clone(),
            authorization,
            timeout: Duration::from_secs(30),
        }
    }

    /// The database every query runs in.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// Runs `sql` (without a FORMAT clause) with `settings` as URL parameters, in order.
    pub async fn query(
        &self,
        sql: &str,
        settings: &[(&str, String)],
    ) -> Result<Answer, QueryError> {
        let started = Instant::now();
        let mut uri = format!(
            "{}/?database={}&output_format_json_quote_64bit_integers=0",
            self.url,
            encode(&self.database)
        );
        for (name, value) in settings {
            uri.push('&');
            uri.push_str(name);
            uri.push('=');
            uri.push_str(&encode(value));
        }
        let body = format!("{sql}\nFORMAT JSONCompact");
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(&uri)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8");
        if let Some(authorization) = &self.authorization {
            request = request.header(header::AUTHORIZATION, authorization);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| QueryError::BadAnswer(e.to_string()))?;
        let exchange = async {
            let response =
                client()
                    .request(request)
                    .await
                    .map_err(|e| QueryError::Unreachable {
                        url: self.url.clone(),
                        message: error_chain(&e),
                    })?;
            let status = response.status();
            let bytes = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|e| QueryError::BadAnswer(format!("reading the answer: {e}")))?
                .to_bytes();
            Ok::<_, QueryError>((status, bytes))
        };
        let (status, bytes) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| QueryError::Timeout(self.timeout))??;
        if status != StatusCode::OK {
            return Err(QueryError::Refused(server_message(&bytes)));
        }
        let answer: CompactAnswer = serde_json::from_slice(&bytes).map_err(|e| {
            // An error raised while streaming rows arrives after a 200 as trailing text.
            let text = String::from_utf8_lossy(&bytes);
            match text.find("Code: ") {
                Some(at) => QueryError::Refused(server_message(text[at..].as_bytes())),
                None => QueryError::BadAnswer(e.to_string()),
            }
        })?;
        Ok(Answer {
            columns: answer.meta.into_iter().map(|m| (m.name, m.kind)).collect(),
            rows: answer.data,
            rows_read: answer.statistics.map_or(0, |s| s.rows_read),
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
        })
    }
}

/// The server's error without the stack-trace noise: `Code: 62, e.displayText() =
/// DB::Exception: Syntax error ..., e.what() = DB::Exception` becomes `Syntax error ...`.
pub fn server_message(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    let code = text
        .strip_prefix("Code: ")
        .and_then(|rest| rest.split(',').next())
        .map(str::to_string);
    let message = text
        .split_once("DB::Exception: ")
        .map_or(text, |(_, rest)| rest);
    let message = message.split_once(", e.what()").map_or(message, |(m, _)| m);
    let message = message
        .split_once(" (version ")
        .map_or(message, |(m, _)| m)
        .trim();
    let message: String = message.chars().take(2000).collect();
    match code {
        Some(code) => format!("{message} (code {code})"),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_are_shown_plainly() {
        let raw = b"Code: 164, e.displayText() = DB::Exception: Cannot insert into table in readonly mode, e.what() = DB::Exception\n";
        let memory = b"Code: 241, e.displayText() = DB::Exception: Memory limit (for query) exceeded: maximum: 2.00 GiB, e.what() = DB::Exception\n";
        assert_eq!(
            server_message(memory),
            "Memory limit (for query) exceeded: maximum: 2.00 GiB (code 241)"
        );
        assert_eq!(
            server_message(raw),
            "Cannot insert into table in readonly mode (code 164)"
        );
        assert_eq!(server_message(b"plain"), "plain");
    }
}
