//! The OpenAI Responses API (`POST /v1/responses`), its stateless subset, for providers that
//! do not speak it: a Responses request becomes a chat completions request ([`request`]),
//! which the pipeline's forward phase sends on (translating it again for Anthropic and the
//! other dialects), and the chat answer becomes a `response` object ([`answer`]) or, for a
//! stream, the Responses named events ([`stream`]). An OpenAI provider gets the request
//! unchanged (its events pass through [`stream`] only to be read for usage).
//!
//! The gateway stores nothing: `previous_response_id`, `conversation`, `background`,
//! `store: true` and `item_reference` items would need stored state and are a 400 naming
//! the field ([`refuse_stateful`]), before anything is sent.
//!
//! Never: drop a field silently — what has no chat equivalent is a 400 naming the field.

pub mod answer;
pub mod request;
pub mod stream;

use serde_json::Value;

use crate::error::CallError;

/// The 400 for requests that need state the gateway does not keep.
pub fn refuse_stateful(body: &Value) -> Result<(), CallError> {
    let set = |key: &str| body.get(key).is_some_and(|v| !v.is_null());
    let stateless =
        "this gateway serves the stateless subset of the Responses API and stores no responses";
    if set("previous_response_id") {
        return Err(CallError::bad_request(
            "previous_response_id",
            format!("previous_response_id is not supported: {stateless}; send the whole conversation in `input` instead"),
        ));
    }
    if set("conversation") {
        return Err(CallError::bad_request(
            "conversation",
            format!("conversation is not supported: {stateless}; send the whole conversation in `input` instead"),
        ));
    }
    if body.get("store").and_then(Value::as_bool) == Some(true) {
        return Err(CallError::bad_request(
            "store",
            format!("store: true is not supported: {stateless}; omit store or send store: false"),
        ));
    }
    if body.get("background").and_then(Value::as_bool) == Some(true) {
        return Err(CallError::bad_request(
            "background",
            format!("background: true is not supported: {stateless} to fetch later"),
        ));
    }
    if let Some(items) = body.get("input").and_then(Value::as_array) {
        if let Some(i) = items
            .iter()
            .position(|item| item.get("type").and_then(Value::as_str) == Some("item_reference"))
        {
            let param = format!("input[{i}].type");
            return Err(CallError::bad_request(
                &param,
                format!(
                    "{param}: item_reference is not supported: {stateless}; send the item itself"
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::dialect::Dialect;

    #[test]
    fn what_needs_stored_state_is_a_400_naming_the_field() {
        for (body, param) in [
            (
                json!({"previous_response_id": "resp_1"}),
                "previous_response_id",
            ),
            (json!({"conversation": "conv_1"}), "conversation"),
            (json!({"store": true}), "store"),
            (json!({"background": true}), "background"),
            (
                json!({"input": [{"role": "user", "content": "x"}, {"type": "item_reference", "id": "msg_1"}]}),
                "input[1].type",
            ),
        ] {
            let e = refuse_stateful(&body).unwrap_err();
            assert_eq!(e.status(), 400);
            assert_eq!(e.body(Dialect::OpenAi)["error"]["param"], param, "{e}");
        }
        for ok in [
            json!({"input": "hi", "store": false, "previous_response_id": null}),
            json!({"input": [{"role": "user", "content": "hi"}], "background": false}),
        ] {
            assert!(refuse_stateful(&ok).is_ok(), "{ok}");
        }
    }
}
