//! The loopback listener: `GET /v1/models` and `POST /v1/chat/completions` (whole or streamed),
//! for callers holding the per-start secret.
//!
//! A completion runs on a blocking thread; a streamed one sends each piece of text as it is
//! final, and stops at the next token when the caller has gone (its channel closed). Bodies are
//! bounded; everything refused is an OpenAI-shaped error naming why.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use inference::generate::{generate, Completion};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::request::{self, ChatRequest};
use crate::response::{self, Body};
use crate::LocalModel;

/// Largest request body.
const MAX_BODY: usize = 4 << 20;

/// Serves `listener` until `shutdown`; connections and completions run on `tasks`.
pub async fn serve(
    listener: TcpListener,
    model: Arc<LocalModel>,
    tasks: TaskTracker,
    shutdown: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _)) = accepted else {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        let (model, tasks2, shutdown) = (model.clone(), tasks.clone(), shutdown.clone());
        tasks.spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let (model, tasks) = (model.clone(), tasks2.clone());
                async move { Ok::<_, Infallible>(handle(req, model, tasks).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = shutdown.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
}

async fn handle(
    req: Request<Incoming>,
    model: Arc<LocalModel>,
    tasks: TaskTracker,
) -> Response<Body> {
    let authorized = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| state_files::constant_time_eq(t.as_bytes(), model.secret().as_bytes()));
    if !authorized {
        return response::error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            None,
            "the local model answers the AI gateway only",
        );
    }
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/v1/models") => response::json_response(
            StatusCode::OK,
            &json!({"object": "list", "data": [
                {"id": model.name(), "object": "model", "created": 0, "owned_by": "warden-local"}]}),
        ),
        (&Method::POST, "/v1/chat/completions") => chat(req, model, tasks).await,
        _ => response::error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            None,
            "no such endpoint",
        ),
    }
}

async fn chat(
    req: Request<Incoming>,
    model: Arc<LocalModel>,
    tasks: TaskTracker,
) -> Response<Body> {
    let bad = |param: Option<&str>, message: &str| {
        response::error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            param,
            message,
        )
    };
    let Ok(collected) = Limited::new(req.into_body(), MAX_BODY).collect().await else {
        return bad(None, "the request body is too large or was cut");
    };
    let Ok(body) = serde_json::from_slice::<Value>(&collected.to_bytes()) else {
        return bad(None, "the request body is not JSON");
    };
    let mut call = match request::parse(&body, model.options.max_tokens) {
        Ok(call) => call,
        Err(e) => return bad(Some(e.param), &e.to_string()),
    };
    let prompt = match model
        .template
        .tokens(&model.tokenizer, &call.messages, true)
    {
        Ok(p) => p,
        Err(e) => return bad(Some("messages"), &e.to_string()),
    };
    let room = model.options.context.saturating_sub(prompt.len());
    if room == 0 {
        return bad(
            Some("messages"),
            &format!(
                "the prompt is {} tokens; the local model's context is {}",
                prompt.len(),
                model.options.context
            ),
        );
    }
    call.params.max_tokens = call.params.max_tokens.min(room);
    let Ok(admitted) = model.admitted.clone().try_acquire_owned() else {
        let mut r = response::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            None,
            "the local model is busy; retry shortly",
        );
        r.headers_mut().insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static("1"),
        );
        return r;
    };
    let id = format!("chatcmpl-local-{}", state_files::new_public_id());
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if call.stream {
        return stream(model, tasks, call, prompt, id, created, admitted);
    }
    // A caller that hangs up stops the completion at its next token.
    let gone = Arc::new(AtomicBool::new(false));
    let _hangup = SetOnDrop(gone.clone());
    let Ok(running) = model.running.clone().acquire_owned().await else {
        return bad(None, "the local model is stopping");
    };
    let m = model.clone();
    let done = tasks
        .spawn_blocking(move || {
            let _permits = (admitted, running);
            generate(&m.model, &m.tokenizer, &prompt, &call.params, |_| {
                !gone.load(Ordering::Relaxed)
            })
        })
        .await;
    match done {
        Ok(Ok(done)) => response::json_response(
            StatusCode::OK,
            &response::completion(&id, created, model.name(), &done),
        ),
        Ok(Err(e)) => bad(None, &e.to_string()),
        Err(_) => response::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            None,
            "the local model failed",
        ),
    }
}

struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn stream(
    model: Arc<LocalModel>,
    tasks: TaskTracker,
    call: ChatRequest,
    prompt: Vec<u32>,
    id: String,
    created: u64,
    admitted: tokio::sync::OwnedSemaphorePermit,
) -> Response<Body> {
    let (tx, mut rx) = mpsc::channel::<Bytes>(64);
    let tasks2 = tasks.clone();
    tasks.spawn(async move {
        let Ok(running) = model.running.clone().acquire_owned().await else {
            return;
        };
        let name = model.name().to_owned();
        let first = response::chunk(&id, created, &name, json!({"role": "assistant", "content": ""}), None);
        if tx.send(first).await.is_err() {
            return;
        }
        let m = model.clone();
        let (id2, name2, tx2) = (id.clone(), name.clone(), tx.clone());
        let done: Option<Completion> = tasks2
            .spawn_blocking(move || {
                let _permits = (admitted, running);
                generate(&m.model, &m.tokenizer, &prompt, &call.params, |piece| {
                    let c = response::chunk(&id2, created, &name2, json!({"content": piece}), None);
                    tx2.blocking_send(c).is_ok()
                })
                .ok()
            })
            .await
            .ok()
            .flatten();
        let Some(done) = done else {
            let _ = tx
                .send(Bytes::from(
                    "data: {\"error\":{\"message\":\"the local model failed\",\"type\":\"server_error\"}}\n\n",
                ))
                .await;
            return;
        };
        let finish = response::finish_reason(done.finish);
        let _ = tx.send(response::chunk(&id, created, &name, json!({}), Some(finish))).await;
        if call.stream_usage {
            let usage = response::usage_chunk(&id, created, &name, done.prompt_tokens, done.completion_tokens);
            let _ = tx.send(usage).await;
        }
        let _ = tx.send(Bytes::from_static(b"data: [DONE]\n\n")).await;
    });
    let frames = futures_util::stream::poll_fn(move |cx| {
        rx.poll_recv(cx)
            .map(|b| b.map(|b| Ok::<_, Infallible>(Frame::data(b))))
    });
    let mut r = Response::new(StreamBody::new(frames).boxed());
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/event-stream"),
    );
    r.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-cache"),
    );
    r
}
