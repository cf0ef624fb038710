//! The answers in OpenAI's chat completions format: a whole completion, a stream's chunks
//! (`chat.completion.chunk` as server-sent events ending with `data: [DONE]`), and errors
//! (`{"error": {"message", "type", "param", "code"}}`).

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use inference::generate::{Completion, FinishReason};
use serde_json::{json, Value};

pub(crate) type Body = http_body_util::combinators::BoxBody<Bytes, std::convert::Infallible>;

pub(crate) fn finish_reason(f: FinishReason) -> &'static str {
    match f {
        FinishReason::Length => "length",
        FinishReason::Stop | FinishReason::Cancelled => "stop",
    }
}

pub(crate) fn usage(prompt: usize, completion: usize) -> Value {
    json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion})
}

/// A whole (non-streamed) completion.
pub(crate) fn completion(id: &str, created: u64, model: &str, done: &Completion) -> Value {
    json!({
        "id": id, "object": "chat.completion", "created": created, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": done.text},
                     "finish_reason": finish_reason(done.finish), "logprobs": null}],
        "usage": usage(done.prompt_tokens, done.completion_tokens),
    })
}

/// One stream chunk as an SSE event.
pub(crate) fn chunk(
    id: &str,
    created: u64,
    model: &str,
    delta: Value,
    finish: Option<&str>,
) -> Bytes {
    let c = json!({
        "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": null}],
    });
    Bytes::from(format!("data: {c}\n\n"))
}

/// The usage chunk (`stream_options.include_usage`): no choices.
pub(crate) fn usage_chunk(
    id: &str,
    created: u64,
    model: &str,
    prompt: usize,
    completion: usize,
) -> Bytes {
    let c = json!({
        "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
        "choices": [], "usage": usage(prompt, completion),
    });
    Bytes::from(format!("data: {c}\n\n"))
}

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    let mut r = Response::new(boxed(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}

pub(crate) fn error(
    status: StatusCode,
    kind: &str,
    param: Option<&str>,
    message: &str,
) -> Response<Body> {
    json_response(
        status,
        &json!({"error": {"message": message, "type": kind, "param": param, "code": null}}),
    )
}

pub(crate) fn boxed(bytes: Bytes) -> Body {
    use http_body_util::BodyExt;
    Full::new(bytes).boxed()
}
