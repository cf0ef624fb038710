//! Read queries against ClickHouse's HTTP interface, answered as `JSONCompact`: the reports
//! and the log explorer need columns whose names and types are only known at run time, which
//! the RowBinary client used by the event writer cannot give. Answers are read as they stream
//! in, within row and byte limits, never collected whole first.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use http::{header, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tokio::sync::OnceCell;

use super::compact_stream::{CompactReader, Limits, Streamed};
use super::form::encode;
use schema::ClickHouseConfig;

/// The most bytes of one report answer read into memory.
const MAX_ANSWER_BYTES: usize = 32 * 1024 * 1024;
/// The most bytes of an error answer kept.
const MAX_ERROR_BYTES: usize = 64 * 1024;

/// Said at start and by `gatewayd check` when no reader user is configured.
pub const NO_READER_WARNING: &str = "clickhouse.reader_user is not set: reports and the log \
    explorer run as the writer user, which can change data; only the explorer's text check and \
    readonly=1 stop an analyst's SQL. Configure a user that can only SELECT in the warden \
    database (deploy/gatewayd.example.toml)";

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
    /// Rows or bytes past the limits were not read.
    pub truncated: bool,
    pub rows_read: u64,
    pub elapsed_ms: f64,
}

impl Answer {
    /// The index of column `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|(n, _)| n == name)
    }
}

/// A ClickHouse HTTP endpoint, database and user.
#[derive(Debug, Clone)]
pub struct ClickHouseHttp {
    url: String,
    database: String,
    user: String,
    authorization: Option<String>,
    timeout: Duration,
    /// Whether the user's profile pins `readonly=1`, learnt on first use: such a session
    /// refuses every setting in the URL, so none are sent (its profile holds the limits).
    pinned: Arc<OnceCell<bool>>,
}

fn client() -> &'static Client<HttpConnector, Full<Bytes>> {
    static CLIENT: OnceLock<Client<HttpConnector, Full<Bytes>>> = OnceLock::new();
    CLIENT.get_or_init(|| Client::builder(TokioExecutor::new()).build_http())
}

impl ClickHouseHttp {
    /// The user every report and log explorer query runs as: `clickhouse.reader_user`, or the
    /// writer when none is configured (the daemon warns about that at start).
    pub fn reader(config: &ClickHouseConfig) -> Self {
        match &config.reader_user {
            Some(user) => Self::with_user(config, Some(user), config.reader_password.as_deref()),
            None => Self::writer(config),
        }
    }

    /// The user gatewayd writes events as; for what the reader may not see (the list of
    /// databases the explorer refuses), never for an analyst's SQL.
    pub fn writer(config: &ClickHouseConfig) -> Self {
        Self::with_user(config, config.user.as_ref(), config.password.as_deref())
    }

    fn with_user(config: &ClickHouseConfig, user: Option<&String>, password: Option<&str>) -> Self {
        let authorization = user.map(|user| {
            let pair = format!("{user}:{}", password.unwrap_or(""));
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        });
        Self {
            url: config.url.trim_end_matches('/').to_string(),
            database: config.database.clone(),
            user: user.map_or("default", String::as_str).to_string(),
            authorization,
            timeout: Duration::from_secs(30),
            pinned: Arc::default(),
        }
    }

    /// The database every query runs in.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// The ClickHouse user queries run as.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// Runs `sql` (without a FORMAT clause) with `settings` as URL parameters, in order; the
    /// whole answer must fit in 32 MiB.
    pub async fn query(
        &self,
        sql: &str,
        settings: &[(&str, String)],
    ) -> Result<Answer, QueryError> {
        let limits = Limits {
            max_rows: usize::MAX,
            max_bytes: MAX_ANSWER_BYTES,
            truncate: false,
        };
        self.query_limited(sql, settings, limits, self.timeout)
            .await
    }

    /// Runs `sql` reading at most `limits` of the answer (the rest is never read: the
    /// connection is dropped, which stops the query) and waiting at most `timeout`.
    pub async fn query_limited(
        &self,
        sql: &str,
        settings: &[(&str, String)],
        limits: Limits,
        timeout: Duration,
    ) -> Result<Answer, QueryError> {
        let started = Instant::now();
        let pinned = *self
            .pinned
            .get_or_try_init(|| self.is_pinned_readonly())
            .await?;
        let settings: Vec<(&str, String)> = if pinned {
            Vec::new()
        } else {
            let mut all = vec![("output_format_json_quote_64bit_integers", "0".to_string())];
            all.extend(settings.iter().cloned());
            all
        };
        let streamed = self.send(sql, &settings, limits, timeout).await?;
        Ok(Answer {
            columns: streamed.columns,
            rows: streamed.rows,
            truncated: streamed.truncated,
            rows_read: streamed.rows_read,
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
        })
    }

    /// Whether the session runs with `readonly=1` before any setting is sent.
    async fn is_pinned_readonly(&self) -> Result<bool, QueryError> {
        let limits = Limits {
            max_rows: 1,
            max_bytes: 64 * 1024,
            truncate: false,
        };
        let probe = "SELECT value FROM system.settings WHERE name = 'readonly'";
        let answer = self.send(probe, &[], limits, self.timeout).await?;
        let level = answer
            .rows
            .first()
            .and_then(|r| r.first())
            .and_then(Value::as_str);
        Ok(level == Some("1"))
    }

    async fn send(
        &self,
        sql: &str,
        settings: &[(&str, String)],
        limits: Limits,
        timeout: Duration,
    ) -> Result<Streamed, QueryError> {
        let mut uri = format!("{}/?database={}", self.url, encode(&self.database));
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
            let mut body = response.into_body();
            if status != StatusCode::OK {
                let bytes = Limited::new(body, MAX_ERROR_BYTES)
                    .collect()
                    .await
                    .map(|c| c.to_bytes())
                    .unwrap_or_default();
                return Err(QueryError::Refused(server_message(&bytes)));
            }
            let mut reader = CompactReader::new(limits);
            while let Some(frame) = body.frame().await {
                let frame =
                    frame.map_err(|e| QueryError::BadAnswer(format!("reading the answer: {e}")))?;
                if let Some(data) = frame.data_ref() {
                    if reader.feed(data)? {
                        // Dropping the body closes the connection; ClickHouse stops the query.
                        break;
                    }
                }
            }
            reader.finish()
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| QueryError::Timeout(timeout))?
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

/// An error and its sources, joined with ": " (hyper's errors say what failed only in their
/// sources). The proxy's upstream module has the same helper; this crate may not depend on it.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(current) = source {
        text.push_str(": ");
        text.push_str(&current.to_string());
        source = current.source();
    }
    text
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
