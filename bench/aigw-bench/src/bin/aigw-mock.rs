//! A mock OpenAI chat completions provider for `bench/aigw.sh`, on loopback:
//! `POST /v1/chat/completions` answers at once with a JSON completion and its usage, or, with
//! `"stream": true`, an SSE stream of 64 content deltas 20 ms apart (500 ms apart for a model
//! whose name holds `slow`, to keep streams open while RSS is read), a finish chunk, a usage
//! chunk when `stream_options.include_usage` is set, and `data: [DONE]`. Any bearer key is
//! accepted. The same bytes go to the load generator directly and through each gateway, so
//! the difference between the paths is the gateway's.
//!
//!   aigw-mock --listen 127.0.0.1:18600 [--threads 1]
//!
//! Never: bind anything but the address given (the script gives loopback).

use std::convert::Infallible;
use std::time::Duration;

use aigw_bench::Flags;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{json, Value};
use tokio::net::TcpListener;

const DELTAS: usize = 64;
const USAGE: (u64, u64) = (12, 64);

type Body = BoxBody<Bytes, Infallible>;

fn main() -> anyhow::Result<()> {
    let flags = Flags::from_env(1);
    let listen = flags.string("listen", "127.0.0.1:18600");
    let threads: usize = flags.num("threads", 1)?;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()?
        .block_on(serve(listen))
}

// A bench tool, killed at the end of the run: there is no shutdown to drain connections for.
#[allow(clippy::disallowed_methods)]
async fn serve(listen: String) -> anyhow::Result<()> {
    let listener = TcpListener::bind(&listen).await?;
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                eprintln!("aigw-mock: accept: {error}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(answer);
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    if request.uri().path() != "/v1/chat/completions" {
        return Ok(plain(
            StatusCode::NOT_FOUND,
            json!({"error": {"message": "not found"}}),
        ));
    }
    let body = match request.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => {
            return Ok(plain(
                StatusCode::BAD_REQUEST,
                json!({"error": {"message": "body"}}),
            ))
        }
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return Ok(plain(
            StatusCode::BAD_REQUEST,
            json!({"error": {"message": "not JSON"}}),
        ));
    };
    let model = body["model"].as_str().unwrap_or("bench").to_string();
    if body["stream"].as_bool() != Some(true) {
        return Ok(plain(
            StatusCode::OK,
            json!({
                "id": "chatcmpl-bench", "object": "chat.completion", "created": 1_700_000_000,
                "model": model,
                "choices": [{"index": 0, "finish_reason": "stop",
                    "message": {"role": "assistant", "content": "Hello! This is a benchmark answer."}}],
                "usage": usage(),
            }),
        ));
    }
    let with_usage = body["stream_options"]["include_usage"].as_bool() == Some(true);
    let gap = Duration::from_millis(if model.contains("slow") { 500 } else { 20 });
    Ok(stream(model, with_usage, gap))
}

fn usage() -> Value {
    json!({"prompt_tokens": USAGE.0, "completion_tokens": USAGE.1,
           "total_tokens": USAGE.0 + USAGE.1})
}

fn plain(status: StatusCode, body: Value) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())).boxed());
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// The SSE answer: delta `i` is sent `i * gap` after the headers (deadlines, not sleeps, so
/// the pace does not drift), then the tail events right after the last delta.
fn stream(model: String, with_usage: bool, gap: Duration) -> Response<Body> {
    let start = tokio::time::Instant::now();
    let chunk = move |delta: Value, finish: Value, usage: Option<Value>| {
        let mut c = json!({"id": "chatcmpl-bench", "object": "chat.completion.chunk",
            "created": 1_700_000_000, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
        if with_usage {
            c["usage"] = Value::Null;
        }
        if let Some(u) = usage {
            c["choices"] = json!([]);
            c["usage"] = u;
        }
        Bytes::from(format!("data: {c}\n\n"))
    };
    let events = futures_util::stream::unfold(0usize, move |i| {
        let chunk = chunk.clone();
        async move {
            if i < DELTAS {
                tokio::time::sleep_until(start + gap * i as u32).await;
                let delta = if i == 0 {
                    json!({"role": "assistant", "content": "tok "})
                } else {
                    json!({"content": "tok "})
                };
                return Some((Ok(Frame::data(chunk(delta, Value::Null, None))), i + 1));
            }
            if i == DELTAS {
                let mut tail = chunk(json!({}), json!("stop"), None).to_vec();
                if with_usage {
                    tail.extend_from_slice(&chunk(json!({}), Value::Null, Some(usage())));
                }
                tail.extend_from_slice(b"data: [DONE]\n\n");
                return Some((Ok(Frame::data(Bytes::from(tail))), i + 1));
            }
            None
        }
    });
    let mut response = Response::new(BodyExt::boxed(StreamBody::new(events)));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/event-stream"),
    );
    response
}
