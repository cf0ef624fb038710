//! The endpoints beyond chat: `POST /v1/responses` ([`responses`]), `POST /v1/embeddings`
//! ([`embeddings`]) and the list of `GET /v1/models` ([`models`]). Each runs the same
//! phases as chat (authenticate → parse → route → DLP → forward → account → log, see
//! `crate::pipeline`) and answers errors in OpenAI's error JSON; [`send`] is their way to an
//! OpenAI-dialect provider's own endpoint.
//!
//! Never: send anything upstream before authentication, routing and DLP said yes.

pub mod embeddings;
pub mod models;
pub mod responses;
pub mod send;
